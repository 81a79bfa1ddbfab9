"""Every change made through the pages names the version it was made on (issue 20, item 1).

A stale form without a valid ``version`` used to be merged without a check: client A reads a
section, B saves a note, A posts with ``version`` omitted, empty, ``abc`` or ``1.0``: 303, and B's
acknowledged note was gone. A missing or malformed version is now refused with 428 (as the API
answers a missing ``If-Match``), a stale one with the conflict page (409), both showing the
answers saved now and what the user typed."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment
from tests.builders import (
    World,
    csrf_from,
    login,
    post_form,
    start_assessment,
    submit_mini,
    version_from,
)

GOVERNANCE = "/sections/governance"
MALFORMED = [None, "", "abc", "1.0", " 1", "+1", "1_0"]


def _stored(app: FastAPI) -> Assessment:
    with db.new_session(app.state.engine) as s:
        return s.exec(select(Assessment)).one()


def _colleague_saves_a_note(app: FastAPI, world: World, base: str) -> None:
    with TestClient(app) as colleague:
        login(colleague, world.officer_a.email)
        r = post_form(
            colleague,
            base + GOVERNANCE,
            base + GOVERNANCE,
            {"pia_done": "yes", "evidence-pia_done": "B's PIA binder", "action": "later"},
        )
        assert r.status_code == 303  # type: ignore[attr-defined]


def _form(token: str, version: str | None, **data: str) -> dict[str, str]:
    form = {"csrf_token": token, **data}
    if version is not None:
        form["version"] = version
    return form


@pytest.mark.parametrize("version", MALFORMED)
def test_stale_section_save_without_a_valid_version_is_refused(
    app: FastAPI, client: TestClient, world: World, version: str | None
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    stale = client.get(base + GOVERNANCE)  # A opens the section
    _colleague_saves_a_note(app, world, base)  # B saves first
    r = client.post(
        base + GOVERNANCE,
        data=_form(
            csrf_from(stale.text),
            version,
            pia_done="no",
            **{"evidence-pia_done": "A's typed note"},
            action="continue",
        ),
        follow_redirects=False,
    )
    assert r.status_code == 428, r.status_code
    assert "A&#39;s typed note" in r.text  # what A typed is on screen
    assert "B&#39;s PIA binder" in r.text  # and what is saved now
    stored = _stored(app)
    assert stored.evidence == {"pia_done": "B's PIA binder"}
    assert stored.answers["pia_done"] == "yes"


def test_section_save_with_invalid_answers_and_a_stale_version_is_a_conflict(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """A stale form with a mistake used to come back (422) carrying the newer version, so
    correcting it overwrote the other save: it is a conflict at once."""
    login(client, world.officer_a.email)
    base = start_assessment(client)
    stale = client.get(base + "/sections/scope")
    with TestClient(app) as colleague:
        login(colleague, world.officer_a.email)
        post_form(
            colleague,
            base + "/sections/scope",
            base + "/sections/scope",
            {"searches": "77", "action": "later"},
        )
    r = client.post(
        base + "/sections/scope",
        data=_form(csrf_from(stale.text), version_from(stale.text), searches="-4"),
        follow_redirects=False,
    )
    assert r.status_code == 409
    assert "Your changes were not saved" in r.text
    assert _stored(app).answers == {"searches": 77}


@pytest.mark.parametrize("version", [None, "", "abc", "1.0"])
def test_every_change_needs_a_version(
    app: FastAPI, client: TestClient, world: World, version: str | None
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    page = client.get(base + "/")
    token = csrf_from(page.text)
    submit_mini(client, base)
    with db.new_session(app.state.engine) as s:  # back to a draft with every section completed
        draft = s.exec(select(Assessment)).one()
        draft.status = "returned"
        s.add(draft)
        s.commit()
    before = _stored(app)
    for url, data in (
        (base + "/sections/scope/check", {"completed": "no"}),
        (base + "/check-your-answers", {}),
    ):
        r = client.post(url, data=_form(token, version, **data), follow_redirects=False)
        assert r.status_code == 428, (url, r.status_code)
    for url in (base + "/import", base + "/import-archive"):
        r = client.post(
            url,
            data=_form(token, version),
            files={"file": ("a.json", b"{}")},
            follow_redirects=False,
        )
        assert r.status_code == 428, (url, r.status_code)
    after = _stored(app)
    assert (after.version, after.answers, after.section_status) == (
        before.version,
        before.answers,
        before.section_status,
    )


def test_stale_mark_section_and_import_get_the_conflict_page(
    app: FastAPI, client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    check = client.get(base + GOVERNANCE + "/check")
    old = version_from(check.text)
    _colleague_saves_a_note(app, world, base)
    token = csrf_from(check.text)
    r = client.post(
        base + GOVERNANCE + "/check",
        data=_form(token, old, completed="no"),
        follow_redirects=False,
    )
    assert r.status_code == 409
    assert "B&#39;s PIA binder" in r.text
    exported = {
        "/import": client.get(base + "/export").content,
        "/import-archive": client.get(base + "/archive.zip").content,
    }
    for path, content in exported.items():
        r = client.post(
            base + path,
            data=_form(token, old),
            files={"file": ("file", content)},
            follow_redirects=False,
        )
        assert r.status_code == 409, (path, r.status_code)
        assert "Your changes were not saved" in r.text
        # a refused file comes back with the version the form was read at, not the latest
        r = client.post(
            base + path,
            data=_form(token, old),
            files={"file": ("file", b"junk")},
            follow_redirects=False,
        )
        assert r.status_code == 422, (path, r.status_code)
        assert version_from(r.text) == old
    assert _stored(app).evidence == {"pia_done": "B's PIA binder"}


# --- the regulator's review form (return, accept, saved comments) ------------------------------


def _review_post(client: TestClient, aid: object, page: str, version: str | None, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/review/{aid}",
        data=_form(csrf_from(page), version, **data),
        follow_redirects=False,
    )


@pytest.mark.parametrize("version", MALFORMED)
@pytest.mark.parametrize("action", ["accept", "return", "save_draft"])
def test_review_decision_without_a_valid_version_is_refused(
    app: FastAPI, client: TestClient, world: World, version: str | None, action: str
) -> None:
    """A review form that does not name the version it was read at might be about an earlier
    submission: nothing is decided or saved (428), and the comments typed are on screen."""
    from service.assessments.models import ReviewComment
    from service.review.models import ReviewDraft
    from tests.review.helpers import submitted

    aid = submitted(app.state.engine, world.officer_a)
    login(client, world.reviewer_on.email)
    page = client.get(f"/review/{aid}").text
    r = _review_post(client, aid, page, version, action=action, general="Typed by the reviewer <b>")
    assert r.status_code == 428, r.status_code
    assert "Typed by the reviewer &lt;b&gt;" in r.text
    assert "did not say which version" in r.text
    with db.new_session(app.state.engine) as s:
        assert s.get_one(Assessment, aid).status == "submitted"
        assert s.exec(select(ReviewComment)).all() == []
        assert s.exec(select(ReviewDraft)).all() == []


def test_review_decision_on_an_earlier_submission_gets_the_conflict_page(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Accepting from a page read before the agency resubmitted accepts nothing (409)."""
    from tests.review.helpers import decide, resubmit, submitted

    engine = app.state.engine
    aid = submitted(engine, world.officer_a)
    login(client, world.reviewer_on.email)
    page_of_first = client.get(f"/review/{aid}").text
    decide(engine, world.reviewer_on, aid, "return", {"GOV-01": "Redo"})
    resubmit(engine, world.officer_a, aid)
    r = _review_post(
        client, aid, page_of_first, version_from(page_of_first), action="accept", general="Fine"
    )
    assert r.status_code == 409, r.status_code
    assert ">Fine</textarea>" in r.text
    with db.new_session(engine) as s:
        assert s.get_one(Assessment, aid).status == "submitted"


@pytest.mark.parametrize("version", MALFORMED)
def test_accept_confirmation_without_a_valid_version_accepts_nothing(
    app: FastAPI, client: TestClient, world: World, version: str | None
) -> None:
    """The accept confirmation page is a change like any other: without the version it was read
    at, nothing is accepted (428) and the confirmation page says why."""
    from tests.review.helpers import submitted

    aid = submitted(app.state.engine, world.officer_a)
    login(client, world.reviewer_on.email)
    page = client.get(f"/review/{aid}/accept").text
    r = client.post(
        f"/review/{aid}/accept", data=_form(csrf_from(page), version), follow_redirects=False
    )
    assert r.status_code == 428, r.status_code
    assert "nothing was accepted" in r.text
    with db.new_session(app.state.engine) as s:
        assert s.get_one(Assessment, aid).status == "submitted"
    good = client.post(
        f"/review/{aid}/accept",
        data=_form(csrf_from(page), version_from(page)),
        follow_redirects=False,
    )
    assert good.status_code == 303, good.status_code
