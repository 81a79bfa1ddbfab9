"""The public edition: prepared by the agency, released by the regulator, read by anyone without
signing in and without a cookie; withheld text appears nowhere, its reason does; the PDF proves
it comes from the same signed submission as the full report; a withdrawn record says so."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.config import Settings
from service.models import AuditEvent, EditionStatus
from service.publication import service as publication
from service.publication.models import PublicEdition
from service.questionnaire.schema import Questionnaire, Rating
from service.questionnaire.submission import SealedField
from service.report.inputs import Issued
from service.report.public import render_public_pdf
from service.report.sign import make_identity
from service.report.verify import Instance, compare_editions, verify_pdf
from service.report_delivery import service as delivery
from tests.builders import World, csrf_from, login, version_from
from tests.conftest import make_settings
from tests.publication_helpers import (
    PUBLIC_TEXT,
    REASON,
    SECRET_NOTE,
    SECRET_OWNER,
    questionnaire,
    write_questionnaires,
)
from tests.publication_helpers import accepted as accepted_with


@pytest.fixture
def pub_dir(tmp_path: Path) -> Path:
    return write_questionnaires(tmp_path / "questionnaires")


@pytest.fixture
def settings(sqlite_url: str, pub_dir: Path) -> Settings:
    return make_settings(sqlite_url, questionnaires_dir=pub_dir)


@pytest.fixture
def q(pub_dir: Path) -> Questionnaire:
    return questionnaire(pub_dir)


def _engine(app: FastAPI) -> Any:
    return app.state.engine


def accepted(app: FastAPI, world: World, q: Questionnaire) -> uuid.UUID:
    return accepted_with(_engine(app), world.officer_a, world.reviewer_on, q)


def _form(client: TestClient, url: str) -> tuple[str, str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return page.text, csrf_from(page.text), version_from(page.text)


def _choices(html: str) -> dict[str, str]:
    """publish-N radio of each item row -> the item's path shown in its legend."""
    return dict(re.findall(r'id="item-(\d+)">\s*<legend[^>]*><span class="qid">([a-z_]+)', html))


def prepare_and_release(client: TestClient, world: World, aid: uuid.UUID) -> str:
    """The officer withholds the owner and the evidence note (with a reason) and proposes; the
    regulator releases. Returns the public record's id."""
    url = f"/assessments/{aid}/public-edition"
    login(client, world.officer_a.email)
    html, token, version = _form(client, url)
    data: dict[str, str] = {"csrf_token": token, "version": version, "action": "propose"}
    for index, qid in _choices(html).items():
        if qid == "description":
            data[f"publish-{index}"] = "publish"
        else:
            data[f"publish-{index}"] = "withhold"
            data[f"reason-{index}"] = "fippa-14-1-c"
    done = client.post(url, data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    client.cookies.clear()
    login(client, world.reviewer_on.email)
    html, token, version = _form(client, url)
    assert "Release the public edition" in html
    released = client.post(
        url + "/release", data={"csrf_token": token, "version": version}, follow_redirects=False
    )
    assert released.status_code == 303, released.text
    client.cookies.clear()
    with db.new_session(_engine(client.app)) as s:  # type: ignore[attr-defined]
        edition = s.exec(select(PublicEdition)).one()
        assert edition.status == EditionStatus.released
        return str(edition.id)


@pytest.fixture
def record(client: TestClient, world: World, app: FastAPI, q: Questionnaire) -> Iterator[str]:
    aid = accepted(app, world, q)
    return prepare_and_release(client, world, aid)


# --- before release ------------------------------------------------------------------------------


def test_nothing_is_public_until_the_regulator_releases_it(
    client: TestClient, world: World, app: FastAPI, q: Questionnaire
) -> None:
    aid = accepted(app, world, q)
    url = f"/assessments/{aid}/public-edition"
    login(client, world.officer_a.email)
    html, token, version = _form(client, url)
    data = {"csrf_token": token, "version": version, "action": "propose"}
    for index in _choices(html):
        data[f"publish-{index}"] = "withhold"
        data[f"reason-{index}"] = "fippa-21-1"
    assert client.post(url, data=data, follow_redirects=False).status_code == 303
    with db.new_session(_engine(app)) as s:
        edition = s.exec(select(PublicEdition)).one()
        assert edition.status == EditionStatus.proposed
        record_id = edition.id
    client.cookies.clear()
    assert client.get(f"/public/{record_id}").status_code == 404
    assert client.get(f"/public/{record_id}/record.json").status_code == 404
    assert "1 record" not in client.get("/public/").text


def test_items_start_as_the_questionnaire_proposes_and_a_withheld_item_needs_a_reason(
    client: TestClient, world: World, app: FastAPI, q: Questionnaire
) -> None:
    aid = accepted(app, world, q)
    url = f"/assessments/{aid}/public-edition"
    login(client, world.officer_a.email)
    html, token, version = _form(client, url)
    choices = _choices(html)
    by_qid = {qid: index for index, qid in choices.items()}
    # description: publication: publish; owner (text) and the evidence note: withheld by default
    assert re.search(rf'id="publish-{by_qid["description"]}"[^>]*checked', html)
    assert re.search(rf'id="withhold-{by_qid["owner"]}"[^>]*checked', html)
    assert re.search(rf'id="withhold-{by_qid["pia_done"]}"[^>]*checked', html)
    # choice answers (verdicts are computed from them) are not offered at all
    assert "body_type" not in choices.values()
    refused = client.post(url, data={"csrf_token": token, "version": version, "action": "propose"})
    assert refused.status_code == 422
    assert "Choose the reason this item is withheld" in refused.text
    assert f'href="#item-{by_qid["owner"]}"' in refused.text


# --- the published record: no sign-in, no cookie ----------------------------------------------


def test_published_record_is_reachable_without_sign_in_and_sets_no_cookie(
    client: TestClient, record: str
) -> None:
    client.cookies.clear()
    for url in (
        "/public/",
        "/public/?lang=fr",
        f"/public/{record}",
        f"/public/{record}?lang=fr",
        f"/public/{record}/record.json",
        f"/public/{record}/record-en.pdf",
        f"/public/{record}/record-fr.pdf",
        "/public/record.css",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "set-cookie" not in response.headers, url
    # a record that is not published: 404, and still no cookie
    missing = client.get(f"/public/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert "set-cookie" not in missing.headers
    # a visitor that carries a session cookie gets none set and none read
    client.cookies.set("policygap_session", "not-a-session")
    response = client.get(f"/public/{record}")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_the_public_register_as_csv_and_json_with_labels_and_no_cookie(
    client: TestClient, record: str
) -> None:
    import csv

    client.cookies.clear()
    data = client.get("/public/register.json?lang=fr")
    assert data.status_code == 200
    assert "set-cookie" not in data.headers
    register = json.loads(data.content)
    assert register["format"] == publication.REGISTER_FORMAT
    assert register["language"] == "fr"
    (row,) = register["records"]
    assert row["record_id"] == record
    assert row["status"] == "released"
    assert row["url"].endswith(f"/public/{record}?lang=fr")
    assert set(row) == set(publication.REGISTER_COLUMNS)
    table = client.get("/public/register.csv")
    assert table.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(table.text)))
    assert lines[0] == list(publication.REGISTER_COLUMNS)
    assert lines[1][0] == record
    assert SECRET_NOTE not in table.text
    assert SECRET_NOTE not in data.text
    labels = list(csv.reader(io.StringIO(client.get("/public/register.labels.csv").text)))
    assert labels[0] == ["column", "en", "fr"]
    assert ["withdrawal_reason", "Reason for withdrawal", "Motif du retrait"] in labels
    # the same input gives the same bytes
    assert client.get("/public/register.json?lang=fr").content == data.content


def test_withheld_text_appears_nowhere_public_and_its_reason_does(
    client: TestClient, record: str
) -> None:
    client.cookies.clear()
    html_en = client.get(f"/public/{record}").text
    html_fr = client.get(f"/public/{record}?lang=fr").text
    listing = client.get("/public/").text
    data = client.get(f"/public/{record}/record.json").content
    pdf_texts = []
    attachments = b""
    for lang in ("en", "fr"):
        pdf = client.get(f"/public/{record}/record-{lang}.pdf").content
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        pdf_texts.append(" ".join(page.extract_text() or "" for page in reader.pages))
        attachments += b"".join(b for values in reader.attachments.values() for b in values)
        # the PDF's raw bytes too (streams compressed or not)
        assert SECRET_NOTE.encode() not in pdf
    for secret in (SECRET_NOTE, SECRET_OWNER, "SECRET-"):
        for where, text in (
            ("html en", html_en),
            ("html fr", html_fr),
            ("list", listing),
            ("json", data.decode("utf-8")),
            ("pdf en", pdf_texts[0]),
            ("pdf fr", pdf_texts[1]),
            ("attachments", attachments.decode("utf-8")),
        ):
            assert secret not in text, where
    # the reason is shown in its place, in each language
    assert f"Withheld: {REASON}" in html_en
    assert "LAIPVP, al. 14(1)c)" in html_fr
    assert REASON in " ".join(pdf_texts[0].split())
    assert json.loads(data)["withheld"][0]["reason_label"]["en"] == REASON
    # what was proposed for publication is there
    assert PUBLIC_TEXT in html_en
    assert PUBLIC_TEXT in pdf_texts[0]


def test_public_record_shows_both_tiers_and_the_live_status_of_actions(
    client: TestClient, record: str
) -> None:
    client.cookies.clear()
    page = client.get(f"/public/{record}").text
    for words in (
        "At a glance",
        "What the program is",
        "Regulator&#39;s decision",
        "Next review",
        "In detail",
        "Change log",
        "Public edition released",
        "not covered by the signature",
    ):
        assert words in page, words
    french = client.get(f"/public/{record}?lang=fr").text
    assert '<html lang="fr">' in french
    assert f'href="/public/{record}?lang=en"' in french


def test_the_french_decision_line_does_not_repeat_its_label(
    client: TestClient, record: str
) -> None:
    """Under "Décision de l'organisme de réglementation", the line gave the date then
    "(organisme de réglementation : <name>)" again: the name alone, after the date."""
    client.cookies.clear()
    french = client.get(f"/public/{record}?lang=fr").text
    decision = re.search(
        r"<dt>D\S+cision de l\S+organisme de r\S+glementation</dt><dd>([^<]*)</dd>", french
    )
    assert decision is not None, "no decision line"
    line = decision.group(1)
    assert line.startswith("Acceptée le "), line
    assert "organisme de réglementation" not in line, line


def test_the_regulator_hears_of_a_proposal_and_the_agency_of_its_release(
    app: FastAPI, world: World, record: str
) -> None:
    """A proposal waits for the overseeing regulator's reviewers (not another regulator's),
    and its release reaches the agency's officers: notices with the program and a link only."""
    from service.notices.models import Notice, NoticeKind

    with db.new_session(_engine(app)) as s:
        told = {
            (n.user_id, n.kind): n.params
            for n in s.exec(select(Notice)).all()
            if n.kind.startswith("public_edition")
        }
    assert set(told) == {
        (world.reviewer_on.id, NoticeKind.public_edition_proposed),
        (world.officer_a.id, NoticeKind.public_edition_released),
    }
    for params in told.values():
        assert set(params) == {"program", "link"}
        assert params["link"].endswith("/public-edition")


def test_a_proposal_sent_back_tells_the_agency(
    client: TestClient, world: World, app: FastAPI, q: Questionnaire
) -> None:
    from service.notices.models import Notice, NoticeKind

    aid = accepted(app, world, q)
    url = f"/assessments/{aid}/public-edition"
    login(client, world.officer_a.email)
    html, token, version = _form(client, url)
    data: dict[str, str] = {"csrf_token": token, "version": version, "action": "propose"}
    for index in _choices(html):
        data[f"publish-{index}"] = "publish"
    assert client.post(url, data=data, follow_redirects=False).status_code == 303
    client.cookies.clear()
    login(client, world.reviewer_on.email)
    _html, token, version = _form(client, url)
    back = client.post(
        url + "/return",
        data={"csrf_token": token, "version": version, "note": "Withhold the owner's name"},
        follow_redirects=False,
    )
    assert back.status_code == 303, back.text
    with db.new_session(_engine(app)) as s:
        kinds = {(n.user_id, n.kind) for n in s.exec(select(Notice)).all()}
    assert (world.officer_a.id, NoticeKind.public_edition_sent_back) in kinds


def test_release_and_each_step_are_in_the_audit_log(
    client: TestClient, record: str, app: FastAPI
) -> None:
    with db.new_session(_engine(app)) as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.at))]
    assert "public_edition_proposed" in actions
    assert actions[-1] == "public_edition_released"


def test_the_board_reads_the_public_edition_beside_the_full_text(
    client: TestClient, world: World, record: str
) -> None:
    with db.new_session(_engine(client.app)) as s:  # type: ignore[attr-defined]
        aid = s.exec(select(PublicEdition)).one().assessment_id
    login(client, world.board_a.email)
    page = client.get(f"/assessments/{aid}/public-edition")
    assert page.status_code == 200
    assert "The full report beside the public edition" in page.text
    assert SECRET_NOTE in page.text  # the full text, behind sign-in
    assert f"Withheld: {REASON}" in page.text
    assert "<form" not in page.text.split('id="main"')[1]  # read only


# --- withdrawal ------------------------------------------------------------------------------------


def test_a_withdrawn_record_says_so_with_its_date_and_reason(
    client: TestClient, world: World, record: str
) -> None:
    with db.new_session(_engine(client.app)) as s:  # type: ignore[attr-defined]
        aid = s.exec(select(PublicEdition)).one().assessment_id
    url = f"/assessments/{aid}/public-edition"
    login(client, world.reviewer_on.email)
    _html, token, version = _form(client, url)
    done = client.post(
        url + "/withdraw",
        data={"csrf_token": token, "version": version, "reason": "Superseded by a new assessment"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    client.cookies.clear()
    page = client.get(f"/public/{record}")
    assert page.status_code == 200
    assert "This record was withdrawn on" in page.text
    assert "Superseded by a new assessment" in page.text
    assert "Withdrawn on" in client.get("/public/").text
    data = json.loads(client.get(f"/public/{record}/record.json").content)
    assert data["status"] == "withdrawn"
    assert data["withdrawn"]["reason"] == "Superseded by a new assessment"
    assert client.get(f"/public/{record}/record-en.pdf").status_code == 404


# --- the proof ---------------------------------------------------------------------------------------


def _pdfs(client: TestClient, world: World, record: str) -> tuple[bytes, bytes, bytes]:
    client.cookies.clear()
    public = client.get(f"/public/{record}/record-en.pdf").content
    cert = client.get("/verify/instance.pem").content
    with db.new_session(_engine(client.app)) as s:  # type: ignore[attr-defined]
        aid = s.exec(select(PublicEdition)).one().assessment_id
    login(client, world.officer_a.email)
    full = client.get(f"/assessments/{aid}/report.pdf?lang=en").content
    client.cookies.clear()
    return public, full, cert


def test_verify_proves_the_public_edition_against_the_sealed_report(
    client: TestClient, world: World, record: str, q: Questionnaire
) -> None:
    public, full, cert = _pdfs(client, world, record)
    public_check = verify_pdf(public, lambda _r: q, trusted=[cert])
    full_check = verify_pdf(full, lambda _r: q, trusted=[cert])
    assert public_check.ok, [str(d) for d in public_check.differences]
    assert full_check.ok, [str(d) for d in full_check.differences]
    assert public_check.sha256 == full_check.sha256  # the same root as the report's printed hash
    assert public_check.withheld == {
        "answers/owner": "fippa-14-1-c",
        "evidence/pia_done": "fippa-14-1-c",
    }
    assert any("2 field(s) withheld" in str(c) for c in public_check.checks)
    assert compare_editions(public_check, full_check) == []


def _signed_public(app: FastAPI, record: str, change: Any) -> bytes:
    """The record's public edition, changed by ``change(inp)``, signed by the instance's own key."""
    with db.new_session(_engine(app)) as s:
        row = publication.published_one(s, uuid.UUID(record))
        identity = delivery.instance_identity(s, app.state.settings)
        inp = publication.public_input(s, app.state.registry, row)
    inp = change(dataclasses.replace(inp, issued=Issued(identity.name, inp.plan_as_at)))  # type: ignore[arg-type]
    return render_public_pdf(inp, "en", signer=identity)


def test_verify_rejects_a_public_edition_with_a_changed_verdict(
    client: TestClient, world: World, record: str, q: Questionnaire, app: FastAPI
) -> None:
    _public, _full, cert = _pdfs(client, world, record)

    def better(inp: Any) -> Any:
        assert inp.result.rating is Rating.green  # the accepted answers meet every criterion
        result = inp.result.model_copy(update={"rating": Rating.red, "gaps": ["GOV-01"]})
        return dataclasses.replace(inp, result=result)

    forged = _signed_public(app, record, better)
    check = verify_pdf(forged, lambda _r: q, trusted=[cert])
    assert not check.ok
    assert any("rating" in str(d) or "gaps differ" in str(d) for d in check.differences)


def test_verify_rejects_a_public_edition_with_a_changed_clear_value(
    client: TestClient, world: World, record: str, q: Questionnaire, app: FastAPI
) -> None:
    _public, full, cert = _pdfs(client, world, record)

    def reworded(inp: Any) -> Any:
        fields = dict(inp.sealed.fields)
        old = fields["answers/description"]
        fields["answers/description"] = SealedField(salt=old.salt, value="A different program")
        return dataclasses.replace(inp, sealed=inp.sealed.model_copy(update={"fields": fields}))

    forged = _signed_public(app, record, reworded)
    with db.new_session(_engine(app)) as s:
        cert_pem = delivery.instance_certificate(s, app.state.settings)

    def lookup(sha256: str) -> Any:
        with db.new_session(_engine(app)) as s:
            return delivery.server_record(s, sha256)

    check = verify_pdf(forged, lambda _r: q, instance=Instance(cert_pem, lookup))
    assert not check.ok
    assert any("no submission with this hash" in str(d) for d in check.differences)
    full_check = verify_pdf(full, lambda _r: q, trusted=[cert])
    problems = compare_editions(check, full_check)
    assert any("not the same submission" in str(p) for p in problems)


def test_verify_rejects_a_public_edition_signed_by_another_key(
    client: TestClient, world: World, record: str, q: Questionnaire, app: FastAPI
) -> None:
    _public, _full, cert = _pdfs(client, world, record)
    with db.new_session(_engine(app)) as s:
        row = publication.published_one(s, uuid.UUID(record))
        inp = publication.public_input(s, app.state.registry, row)
    other = make_identity("Someone else", now=inp.plan_as_at)  # type: ignore[arg-type]
    inp = dataclasses.replace(inp, issued=Issued(other.name, inp.plan_as_at))  # type: ignore[arg-type]
    check = verify_pdf(render_public_pdf(inp, "en", signer=other), lambda _r: q, trusted=[cert])
    assert not check.ok
    assert any("not a trusted instance" in str(d) for d in check.differences)


def test_verify_page_checks_a_public_edition_against_the_full_report(
    client: TestClient, world: World, record: str
) -> None:
    public, full, _cert = _pdfs(client, world, record)
    page = client.get("/verify")
    token = csrf_from(page.text)
    response = client.post(
        "/verify",
        data={"csrf_token": token},
        files={
            "file": ("public.pdf", public, "application/pdf"),
            "full": ("full.pdf", full, "application/pdf"),
        },
    )
    assert response.status_code == 200
    assert "This report is authentic and unchanged" in response.text
    assert "A public edition: what was withheld, and why" in response.text
    assert "evidence/pia_done" in response.text
    assert REASON in response.text
    assert "Both come from the same signed submission" in response.text
    assert SECRET_NOTE not in response.text


def test_cli_verify_against_the_full_report(
    client: TestClient, world: World, record: str, pub_dir: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from service.cli import app as cli

    public, full, cert = _pdfs(client, world, record)
    (tmp_path / "public.pdf").write_bytes(public)
    (tmp_path / "full.pdf").write_bytes(full)
    (tmp_path / "cert.pem").write_bytes(cert)
    args = [
        "verify",
        str(tmp_path / "public.pdf"),
        "--trust",
        str(tmp_path / "cert.pem"),
        "--no-database",
        "--questionnaire",
        str(pub_dir / "web-mini.yaml"),
        "--against",
        str(tmp_path / "full.pdf"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "a public edition" in result.output
    assert "evidence/pia_done (fippa-14-1-c)" in result.output
    assert "same submission as full.pdf" in result.output
    # against another submission's report: refused
    other = _signed_public_other(client)
    (tmp_path / "other.pdf").write_bytes(other)
    result = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "other.pdf")])
    assert result.exit_code == 1
    assert "not the same submission" in result.output


def _signed_public_other(client: TestClient) -> bytes:
    """A full report of a different submission: the record's own, re-sealed with new salts."""
    from service.questionnaire.submission import seal

    app = client.app  # type: ignore[attr-defined]
    with db.new_session(_engine(app)) as s:
        edition = s.exec(select(PublicEdition)).one()
        row = publication.published_one(s, edition.id)
        identity = delivery.instance_identity(s, app.state.settings)
        inp = publication.public_input(s, app.state.registry, row)
        full_sealed = publication.sealed_of(row.submission)
    other = seal(full_sealed.record(), salt=lambda _p: bytes(16))
    inp = dataclasses.replace(inp, sealed=other, issued=Issued(identity.name, inp.plan_as_at))  # type: ignore[arg-type]
    return render_public_pdf(inp, "en", signer=identity)


def test_withdrawing_without_a_reason_is_refused_with_the_error_linked_to_the_field(
    client: TestClient, world: World, record: str
) -> None:
    with db.new_session(_engine(client.app)) as s:  # type: ignore[attr-defined]
        aid = s.exec(select(PublicEdition)).one().assessment_id
    url = f"/assessments/{aid}/public-edition"
    login(client, world.reviewer_on.email)
    _html, token, version = _form(client, url)
    refused = client.post(
        url + "/withdraw", data={"csrf_token": token, "version": version, "reason": " "}
    )
    assert refused.status_code == 422
    assert 'href="#reason"' in refused.text
    assert 'id="reason-error"' in refused.text
    client.cookies.clear()
    assert "This record was withdrawn" not in client.get(f"/public/{record}").text


def test_the_release_job_makes_both_pdfs_and_the_download_serves_them(
    client: TestClient, record: str, app: FastAPI
) -> None:
    from service import jobs
    from service.publication.models import PublicEditionPdf

    resources = jobs.Resources()
    try:
        ctx = jobs.JobContext(settings=app.state.settings, engine=_engine(app), resources=resources)
        for lang in ("en", "fr"):
            publication.render_public_edition(ctx, edition_id=record, lang=lang)
            publication.render_public_edition(ctx, edition_id=record, lang=lang)  # a no-op
    finally:
        resources.close()
    with db.new_session(_engine(app)) as s:
        made = {row.language: row.pdf for row in s.exec(select(PublicEditionPdf))}
    assert set(made) == {"en", "fr"}
    client.cookies.clear()
    assert client.get(f"/public/{record}/record-fr.pdf").content == made["fr"]
