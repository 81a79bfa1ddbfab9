"""The audit log as people read it, and the add-agency form: dates in the reader's format, date
filters typed as yyyy-mm-dd whatever the language, names instead of stored ids, the First Nations
police service type, an error summary in the order of the fields."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import col, select

from service import db
from service.i18n import formats
from service.models import AuditEvent, BodyType
from tests.builders import World, csrf_from, login, post_form, start_assessment


def _engine(client: TestClient) -> object:
    return client.app.state.engine  # type: ignore[attr-defined]


def _french(client: TestClient) -> None:
    page = client.get("/assessments/")
    client.post(
        "/language",
        data={"csrf_token": csrf_from(page.text), "lang": "fr", "next": "/"},
        follow_redirects=False,
    )


def _latest_sign_in(client: TestClient) -> AuditEvent:
    with db.new_session(_engine(client)) as s:  # type: ignore[arg-type]
        return s.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "sign_in")
            .order_by(col(AuditEvent.at).desc())
        ).first()  # type: ignore[return-value]


def test_audit_dates_in_the_readers_format(client: TestClient, world: World) -> None:
    login(client, world.admin.email)
    event = _latest_sign_in(client)
    english = client.get("/admin/audit?what=sign_in").text
    assert event.at.strftime("%Y-%m-%d %H:%M:%S") not in english
    assert formats.format_date(event.at.date(), "en", style="medium") in english
    assert f'<time datetime="{event.at.isoformat(timespec="seconds")}">' in english
    _french(client)
    french = client.get("/admin/audit?what=sign_in").text
    assert formats.format_date(event.at.date(), "fr", style="medium") in french


def test_audit_date_filters_are_typed_as_iso_in_either_language(
    client: TestClient, world: World
) -> None:
    login(client, world.admin.email)
    page = client.get("/admin/audit").text
    assert 'type="date"' not in page  # the browser would show mm/dd/yyyy whatever the language
    for field in ("since", "until"):
        tag = re.search(rf'<input[^>]* id="{field}"[^>]*>', page)
        assert tag, field
        assert f'aria-describedby="{field}-hint"' in tag.group(0)
        hint = re.search(rf'id="{field}-hint"[^>]*>([^<]*)<', page)
        assert hint
        assert "yyyy-mm-dd" in hint.group(1)
    bad = client.get("/admin/audit?since=26/11/2026")
    assert bad.status_code == 200
    assert "Enter the date as yyyy-mm-dd, for example 2026-11-26" in bad.text
    assert 'href="#since"' in bad.text  # the error summary links to the field
    _french(client)
    french = client.get("/admin/audit").text
    hint = re.search(r'id="since-hint"[^>]*>([^<]*)<', french)
    assert hint
    assert "aaaa-mm-jj" in hint.group(1)


def test_audit_detail_names_questions_and_sections(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    scope = base + "/sections/scope"
    post_form(client, scope, scope, {"body_type": "federal", "action": "continue"})
    login(client, world.admin.email)
    body = client.get("/admin/audit?what=save").text.split("<tbody>")[1]
    assert "Which kind of body runs the program?" in body
    assert "Describe the program" in body
    assert "body_type" not in body
    assert "Web form" in body  # the source, as words


def test_agency_form_offers_first_nations_police_service(client: TestClient, world: World) -> None:
    assert BodyType("first_nations") is BodyType.first_nations
    login(client, world.admin.email)
    form = client.get("/admin/organisations/new?kind=agency").text
    assert '<option value="first_nations">First Nations or Indigenous police service</option>' in (
        form
    )
    response = post_form(
        client,
        "/admin/organisations/new?kind=agency",
        "/admin/organisations",
        {
            "kind": "agency",
            "slug": "anishinabek-police",
            "name_en": "Anishinabek Police Service",
            "name_fr": "Service de police Anishinabek",
            "body_type": "first_nations",
            "province": "ON",
        },
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    organisations = client.get("/admin/organisations").text
    assert "Anishinabek Police Service" in organisations


def test_agency_error_summary_follows_the_fields(client: TestClient, world: World) -> None:
    login(client, world.admin.email)
    bad = post_form(
        client,
        "/admin/organisations/new?kind=agency",
        "/admin/organisations",
        {"kind": "agency", "slug": "x y", "name_en": "", "name_fr": "", "body_type": ""},
    )
    assert bad.status_code == 422  # type: ignore[attr-defined]
    summary = bad.text.split('class="error-summary', 1)[1].split("</ul>", 1)[0]  # type: ignore[attr-defined]
    links = re.findall(r'href="#([a-z_]+)"', summary)
    fields = re.findall(r'<(?:input|select)[^>]* id="([a-z_]+)"', bad.text)  # type: ignore[attr-defined]
    assert links == ["name_en", "name_fr", "slug", "body_type", "province"]
    assert links == [f for f in fields if f in links]


def test_a_long_list_of_questions_is_cut_short_in_both_languages() -> None:
    from service.i18n import labels

    names = {f"q{i}": f"Question {i}" for i in range(10)}
    detail = {"changed": [f"q{i}" for i in range(10)], "source": "demo"}
    english = labels.detail_text(detail, "en", names=names, limit=6, separator=" | ")
    assert english == (
        "Questions changed: Question 0; Question 1; Question 2; Question 3; Question 4; "
        "Question 5; and 4 others | Source: Demonstration data"
    )
    french = labels.detail_text({"changed": ["q0", "q1", "q2"]}, "fr", names=names, limit=2)
    assert french.endswith("Question 1; et 1 autre")
