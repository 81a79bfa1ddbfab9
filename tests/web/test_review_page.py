"""The review page built around the gaps (issue 17): the summary bar, the filter (gaps by default,
all, commented, changed) that never drops a comment, not-applicable criteria collapsed with their
reason, Return before Accept, the accept confirmation page, and documents in the resubmission
diff."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from service import db
from service.assessments.models import Assessment, ReviewComment
from service.documents import service as document_service
from service.documents.models import Document
from service.questionnaire.submission import DocumentRef
from service.review import service as review_service
from service.review.models import ReviewDraft
from tests.builders import World, csrf_from, login, parse, post_form
from tests.documents.files import PDF, TEXT
from tests.review.helpers import GOOD, answer, decide, mini, resubmit, submitted, viewer

BAD = {**GOOD, "pia_done": "no", "pia_date": None}  # GOV-01 not met; description, owner blank


class _Form(HTMLParser):
    """The review form as a browser posts it: every named field, hidden or not, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.hidden_criteria: set[str] = set()
        self.criteria: list[str] = []
        self.buttons: list[str] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and "data-crit" in a:
            cid = (a.get("id") or "").removeprefix("crit-")
            self.criteria.append(cid)
            if "hidden" in a:
                self.hidden_criteria.add(cid)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields.append((a["name"] or "", a.get("value") or ""))
        if tag == "textarea":
            self._textarea, self._text = a.get("name"), ""
        if tag == "button" and a.get("name") == "action":
            self.buttons.append(a.get("value") or "")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def _form(text: str) -> _Form:
    form = _Form()
    form.feed(text)
    return form


def _text(page: str, start: str, end: str) -> str:
    """The words between ``start`` and the next ``end`` of ``page``, tags removed."""
    part = page.split(start, 1)[1].split(end, 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())


def _post(client: TestClient, url: str, pairs: list[tuple[str, str]]) -> Any:
    """POST form fields as a browser sends them (a name may repeat)."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return client.post(url, data=data, follow_redirects=False)


def _draft(engine: Any) -> ReviewDraft | None:
    with db.new_session(engine) as s:
        draft = s.exec(select(ReviewDraft)).first()
        if draft is not None:
            s.expunge(draft)
        return draft


def test_default_view_shows_the_gaps_and_keeps_every_comment_box(
    client: TestClient, world: World, app: Any
) -> None:
    aid = submitted(app.state.engine, world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    page = client.get(f"/review/{aid}")
    form = _form(page.text)
    # every criterion is in the page and its comment box in the form; those that are not gaps
    # are hidden by the default filter, not left out
    assert set(form.criteria) == {c.id for c in mini().criteria}
    names = {n for n, _ in form.fields}
    assert {f"comment-{c}" for c in form.criteria} <= names
    assert "GOV-01" not in form.hidden_criteria  # not met: a gap
    assert form.hidden_criteria == {"GOV-02", "SCO-01"}  # met or not applicable: hidden
    # the summary bar and the unanswered questions
    bar = _text(page.text, '<ul class="gap-bar">', "</ul>")
    assert "1 critical gap" in bar or "1 high gap" in bar
    assert "2 questions unanswered" in bar
    assert "Showing 1 criterion of 3." in page.text
    # the filter is a group of buttons of the form (the current one pressed)
    assert 'name="show" value="gaps" data-show="gaps" aria-pressed="true"' in page.text
    everything = _form(client.get(f"/review/{aid}?show=all").text)
    assert everything.hidden_criteria == set()
    assert _form(client.get(f"/review/{aid}?show=nonsense").text).hidden_criteria == {
        "GOV-02",
        "SCO-01",
    }


def test_not_applicable_criteria_are_collapsed_with_their_reason(
    client: TestClient, world: World, app: Any
) -> None:
    aid = submitted(app.state.engine, world.officer_a, BAD)  # GOV-02 applies after a PIA only
    login(client, world.reviewer_on.email)
    text = client.get(f"/review/{aid}?show=all").text
    block = text.split('class="crit crit--not_applicable crit--na" id="crit-GOV-02"')
    assert len(block) == 2, "GOV-02 is on the page, not applicable"
    collapsed = block[1].split("</summary>")[0]
    assert '<details class="crit__na">' in collapsed  # closed
    reason = collapsed.split('class="crit__reason">')[1].split("<")[0]
    assert reason.strip()  # the reason shows in the closed summary
    assert "Not applicable" in collapsed


def test_hidden_draft_comment_is_posted_again_from_the_filtered_page(
    client: TestClient, world: World, app: Any
) -> None:
    """A comment saved on a criterion the filter hides (GOV-02 is met) is still in the form of
    the gaps view, so saving or deciding from that view keeps it."""
    engine = app.state.engine
    aid = submitted(engine, world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    saved = post_form(
        client,
        f"/review/{aid}",
        f"/review/{aid}",
        {"action": "save_draft", "comment-GOV-02": "Check the date"},
    )
    assert saved.status_code == 303
    page = client.get(f"/review/{aid}")  # default view: gaps only
    form = _form(page.text)
    assert "GOV-02" in form.hidden_criteria
    assert ("comment-GOV-02", "Check the date") in form.fields
    assert "Commented <span" in page.text
    # the browser posts every field of the form, hidden ones included
    payload = [*form.fields, ("comment-GOV-01", "Do the PIA"), ("action", "save_draft")]
    again = _post(client, f"/review/{aid}", payload)
    assert again.status_code == 303
    draft = _draft(engine)
    assert draft is not None
    assert draft.comments == {"GOV-01": "Do the PIA", "GOV-02": "Check the date"}
    commented = _form(client.get(f"/review/{aid}?show=commented").text)
    assert commented.hidden_criteria == {"SCO-01"}


def test_filter_without_script_keeps_what_was_typed(
    client: TestClient, world: World, app: Any
) -> None:
    """Without script a filter button posts the form: what was typed is kept (as the draft)
    and the page comes back with that filter."""
    engine = app.state.engine
    aid = submitted(engine, world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    form = _form(client.get(f"/review/{aid}").text)
    fields = [(n, v) for n, v in form.fields if n != "comment-GOV-01"]
    response = _post(
        client,
        f"/review/{aid}",
        [*fields, ("comment-GOV-01", "Typed, then filtered"), ("show", "all")],
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/review/{aid}?show=all#criteria"
    shown = client.get(response.headers["location"].split("#")[0])
    assert ("comment-GOV-01", "Typed, then filtered") in _form(shown.text).fields
    assert 'value="all" data-show="all" aria-pressed="true"' in shown.text
    # a filter with nothing typed saves nothing
    other = submitted(engine, world.officer_a, BAD, program="Other")
    blank = _form(client.get(f"/review/{other}").text)
    _post(client, f"/review/{other}", [*blank.fields, ("show", "all")])
    with db.new_session(engine) as s:
        assert len(s.exec(select(ReviewDraft)).all()) == 1


def test_return_comes_first_and_accept_asks_for_confirmation(
    client: TestClient, world: World, app: Any
) -> None:
    engine = app.state.engine
    aid = submitted(engine, world.officer_a, BAD)
    login(client, world.reviewer_on.email)
    page = client.get(f"/review/{aid}")
    assert _form(page.text).buttons == ["return", "accept", "save_draft"]
    assert 'class="button button--decide" name="action" value="return"' in page.text
    assert 'class="button button--secondary" name="action" value="accept"' in page.text
    form = _form(page.text)
    fields = [(n, v) for n, v in form.fields if n not in ("comment-GOV-01", "general")]
    first = _post(
        client,
        f"/review/{aid}",
        [
            *fields,
            ("comment-GOV-01", "Plan the PIA <this year>"),
            ("general", "Accepted with one gap"),
            ("action", "accept"),
        ],
    )
    assert first.status_code == 303
    assert first.headers["location"] == f"/review/{aid}/accept"
    with db.new_session(engine) as s:
        assert s.get_one(Assessment, aid).status == "submitted"  # not yet accepted
    confirm = client.get(f"/review/{aid}/accept")
    assert confirm.status_code == 200
    doc = parse(confirm.text)
    assert doc.title.startswith("Confirm that you accept the assessment")
    text = _text(confirm.text, "<main", "</main>")
    assert "Red" in text  # the rating
    assert "GOV-01" in text  # the critical gap (escalated) or listed comment
    assert "2 questions left unanswered" in text
    assert "Describe the program" in text
    assert "Who owns the program?" in text
    assert "Plan the PIA &lt;this year&gt;" in confirm.text  # comments to be published, escaped
    assert "Accepted with one gap" in text
    assert text.count("Accept the assessment") >= 1
    hidden = [
        (n, html.unescape(v))
        for n, v in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm.text
        )
    ]
    done = _post(client, f"/review/{aid}/accept", hidden)
    assert done.status_code == 303
    assert done.headers["location"] == f"/review/{aid}?done=accept"
    with db.new_session(engine) as s:
        assert s.get_one(Assessment, aid).status == "accepted"
        bodies = {c.criterion_id: c.body for c in s.exec(select(ReviewComment))}
        assert bodies == {"GOV-01": "Plan the PIA <this year>", None: "Accepted with one gap"}
        assert s.exec(select(ReviewDraft)).all() == []
    # once decided, the confirmation page sends back to the review; a second confirm is refused
    assert client.get(f"/review/{aid}/accept", follow_redirects=False).status_code == 303
    late = _post(client, f"/review/{aid}/accept", hidden)
    assert late.status_code == 409


def test_accept_confirmation_is_for_deciders_only(
    client: TestClient, world: World, app: Any
) -> None:
    aid = submitted(app.state.engine, world.officer_a, BAD)
    login(client, world.admin.email)
    assert client.get(f"/review/{aid}/accept").status_code == 403
    token = csrf_from(client.get("/review/").text)
    refused = client.post(f"/review/{aid}/accept", data={"csrf_token": token})
    assert refused.status_code == 403
    with db.new_session(app.state.engine) as s:
        assert s.get_one(Assessment, aid).status == "submitted"


def _attach(engine: Any, world: World, aid: Any, question: str, name: str, data: bytes) -> None:
    with db.new_session(engine) as s:
        document_service.attach(
            session=s,
            viewer=viewer(engine, world.officer_a),
            assessment_id=aid,
            questionnaire=mini(),
            question_id=question,
            filename=name,
            data=data,
            max_bytes=1_000_000,
            directory=None,
        )


def _detach(engine: Any, world: World, aid: Any, name: str) -> None:
    with db.new_session(engine) as s:
        doc = s.exec(
            select(Document).where(Document.assessment_id == aid, Document.name == name)
        ).one()
        document_service.remove(
            session=s,
            viewer=viewer(engine, world.officer_a),
            assessment_id=aid,
            document_id=doc.id,
            directory=None,
        )


def test_document_changes_between_submissions() -> None:
    a = DocumentRef(name="pia.pdf", size=10, sha256="a" * 64, media_type="application/pdf")
    a2 = DocumentRef(name="pia.pdf", size=12, sha256="b" * 64, media_type="application/pdf")
    c = DocumentRef(name="policy.txt", size=5, sha256="c" * 64, media_type="text/plain")
    d = DocumentRef(name="log.txt", size=5, sha256="d" * 64, media_type="text/plain")
    assert review_service.document_changes([a, c], [a, c]) == ((), (), ())
    assert review_service.document_changes([a, c], [a2, d]) == ((d,), (c,), ((a, a2),))


def test_resubmission_diff_shows_documents(client: TestClient, world: World, app: Any) -> None:
    engine = app.state.engine
    draft = submitted(engine, world.officer_a, BAD)
    aid = draft
    decide(engine, world.reviewer_on, aid, "return", general="Attach the evidence")
    # nothing attached on submission 1; attach, resubmit, then change the documents
    _attach(engine, world, aid, "pia_done", "pia.pdf", PDF)
    _attach(engine, world, aid, "uses", "policy.txt", TEXT)
    resubmit(engine, world.officer_a, aid)
    decide(engine, world.reviewer_on, aid, "return", general="Update the PIA")
    _detach(engine, world, aid, "pia.pdf")
    _attach(engine, world, aid, "pia_done", "pia.pdf", PDF + b"% version 2\n")
    _detach(engine, world, aid, "policy.txt")
    _attach(engine, world, aid, "searches", "log.txt", TEXT + b"log\n")
    answer(engine, world.officer_a, aid, {"description": "Now described"})
    resubmit(engine, world.officer_a, aid)
    login(client, world.reviewer_on.email)
    text = client.get(f"/review/{aid}?show=changed").text
    table = text.split("Documents changed")[1].split("</table>")[0]
    assert re.search(r"Replaced</strong> pia\.pdf", table)
    assert re.search(r"Removed</strong> policy\.txt", table)
    assert re.search(r"Added</strong> log\.txt", table)
    # the criteria reading those questions count as changed
    changed = _form(text)
    assert "GOV-01" not in changed.hidden_criteria  # reads pia_done, whose document changed
    token = {"Authorization": f"Bearer {_token(engine, world)}"}
    api = client.get(f"/api/v1/review/assessments/{aid}", headers=token).json()
    docs = {d["question_id"]: d for d in api["changes"]["documents"]}
    assert [r["name"] for r in docs["searches"]["added"]] == ["log.txt"]
    assert [r["name"] for r in docs["uses"]["removed"]] == ["policy.txt"]
    assert [(r["before"]["name"], r["now"]["name"]) for r in docs["pia_done"]["replaced"]] == [
        ("pia.pdf", "pia.pdf")
    ]


def _token(engine: Any, world: World) -> str:
    from service.auth import service as auth_service

    with db.new_session(engine) as s:
        return auth_service.create_api_token(session=s, user=world.reviewer_on, name="t")
