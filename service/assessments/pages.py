"""The officer's journey: dashboard, start, task list, section pages, check answers, submit,
confirmation, history, export and import. Read-only views for reviewers, boards and admins.

Routes stay thin: they parse, call ``service.assessments.service`` and render.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from service.assessments import access, assignment_pages, assignments, events, forms
from service.assessments import service as assessment_service
from service.assessments.frame import (
    Page,
    PageDep,
    PageForm,
    document_links,
    find_section,
    form_version,
    parse_id,
    redirect,
    section_url,
    today,
    typed_rows,
)
from service.assessments.models import Assessment
from service.auth import policy
from service.auth.policy import Permission
from service.errors import Forbidden, InvalidTransition, NotFound, StaleVersion
from service.i18n import labels
from service.i18n.catalogue import N_
from service.models import Organisation
from service.questionnaire import engine, loader
from service.questionnaire.answers import AnswersFile, check_answers_file
from service.questionnaire.schema import Questionnaire, Section, localize
from service.web.page import PublicPageDep

router = APIRouter(tags=["pages"], include_in_schema=False)
# The section pages' old addresses (``/assessments/{id}/{slug}``...), before they moved under
# ``/sections/``. Included after every other router: its paths match any page of an assessment.
old_section_urls = APIRouter(tags=["pages"], include_in_schema=False)
MAX_IMPORT_BYTES = 500_000


# --- dashboard and start ---------------------------------------------------------------------


# Where a user starts after signing in: the page of their main job, the first their role may use.
HOME_PAGES = (
    (Permission.admin_organisations, "/admin/organisations"),
    (Permission.review_read, "/review/"),
    (Permission.board_read, "/board/"),
)


def home_page(role: str) -> str:
    held = policy.permissions_of(role)
    return next((url for permission, url in HOME_PAGES if permission in held), "/assessments/")


@router.get("/", name="home")
def home(page: PublicPageDep) -> Response:
    visitor = page.visitor
    if visitor.user is None:
        return redirect("/login")
    return redirect(home_page(visitor.user.role))


@router.get("/assessments/", name="list_assessments")
def list_assessments(page: PageDep) -> HTMLResponse:
    rows = assessment_service.list_visible(session=page.session, viewer=page.viewer)
    ids = [a.id for a, _org in rows]
    dues = assessment_service.due_dates(page.session, ids, today=today())
    late = events.overdue_actions(page.request.app, page.session, ids, today=today())
    items = [
        {
            "assessment": a,
            "agency": org.name(page.visitor.lang),
            "questionnaire": page.registry.get(a.questionnaire_id, a.questionnaire_version),
            "due": dues.get(a.id),
            "overdue_actions": late.get(a.id, 0),
        }
        for a, org in rows
    ]
    can_start = access.can_start(page.viewer.user, page.viewer.organisation)
    mine = [
        {
            "program": part.assessment.program,
            "title": part.title,
            "kind": part.assignment.kind.value,
            "due_on": part.assignment.due_on.isoformat() if part.assignment.due_on else "",
            "overdue": part.overdue,
            "answered": part.answered,
            "assigned": part.assigned,
            "url": part.url,
        }
        for part in assignments.assigned_to(
            session=page.session,
            viewer=page.viewer,
            registry=page.registry,
            lang=page.visitor.lang,
            today=today(),
        )
    ]
    return page.render(
        "assessments/dashboard.html", {"items": items, "can_start": can_start, "mine": mine}
    )


def _start_context(
    page: Page, *, program: str = "", chosen: str = "", errors: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    # One choice per questionnaire: its newest published version: admin/service.py publishes versions.
    offered = assessment_service.offered_for_new(page.session, page.registry)
    choices = [q for i, q in enumerate(offered) if i == 0 or offered[i - 1].id != q.id]
    choices.sort(key=lambda q: q.id)
    return {"choices": choices, "program": program, "chosen": chosen, "form_errors": errors or []}


@router.get("/assessments/new", name="show_start")
def show_start(page: PageDep) -> HTMLResponse:
    if not access.can_start(page.viewer.user, page.viewer.organisation):
        raise Forbidden()
    return page.render("assessments/start.html", _start_context(page))


@router.post("/assessments/", name="start_assessment")
def start_assessment(page: PageDep, form: PageForm) -> Response:
    if not access.can_start(page.viewer.user, page.viewer.organisation):
        raise Forbidden()
    _ = page._
    program = str(form.get("program") or "").strip()
    chosen = str(form.get("questionnaire") or "")
    errors: list[tuple[str, str]] = []
    questionnaire = (
        assessment_service.version_for_new(page.session, page.registry, chosen) if chosen else None
    )
    if questionnaire is None:
        errors.append(("questionnaire", _("Select the questionnaire to answer")))
    if not program:
        errors.append(("program", _("Enter the name of the program you are assessing")))
    elif len(program) > 200:
        errors.append(("program", _("Program name must be 200 characters or fewer")))
    if errors or questionnaire is None:
        return page.render(
            "assessments/start.html",
            _start_context(page, program=program, chosen=chosen, errors=errors),
            status_code=422,
            errors=True,
        )
    assessment = assessment_service.start(
        session=page.session, viewer=page.viewer, questionnaire=questionnaire, program=program
    )
    return redirect(f"/assessments/{assessment.id}/")


# --- task list -------------------------------------------------------------------------------


def _summary(page: Page, questionnaire: Questionnaire, assessment: Assessment) -> dict[str, Any]:
    """The live gap summary (a preview for drafts, the stored result once submitted)."""
    submission = None
    if assessment.status not in access.EDITABLE:
        submission = assessment_service.get_submission(
            session=page.session, assessment_id=assessment.id, viewer=page.viewer
        )
    view = assessment_service.report_view(
        questionnaire, assessment, page.visitor.lang, submission=submission, as_of=today()
    )
    result = view.report.result
    return {
        "rating": result.rating,
        "score": result.score,
        "gap_count": len(result.gaps),
        "critical_gaps": view.summary.critical,
        "complete": result.complete,
    }


REOPENED = N_("Saved. These sections show new questions and are In progress again: {sections}")


@router.get("/assessments/{assessment_id}/", name="show_task_list")
def show_task_list(
    page: PageDep, assessment_id: str, notice: str | None = None, sections: str = ""
) -> HTMLResponse:
    assessment, agency, questionnaire = page.load(assessment_id)
    statuses = assessment_service.section_statuses(questionnaire, assessment)
    editable = page.editable(assessment)
    reopened = [
        localize(s.title, page.visitor.lang)
        for s in questionnaire.sections
        if s.id in sections.split(",")
    ]
    message = None
    if notice == "saved":
        message = page._("Your answers have been saved")
    elif notice == "reopened" and reopened:
        message = page._(REOPENED, sections=", ".join(reopened))
    mine = assessment_service.assigned_questions(
        page.session, page.viewer, assessment, questionnaire
    )
    if mine is not None:
        return _contributor_task_list(page, assessment, agency, questionnaire, mine, message)
    rows = [
        {
            "id": s.id,
            "title": localize(s.title, page.visitor.lang),
            "status": statuses[s.id],
            "url": section_url(assessment.id, s.id) + ("" if editable else "/check"),
        }
        for s in questionnaire.sections
    ]
    done = sum(1 for s in statuses.values() if s == "completed")
    context = page.common(assessment, agency, questionnaire) | {
        "sections": rows,
        "done": done,
        "total": len(rows),
        "summary": _summary(page, questionnaire, assessment),
        "notice": message,
        "submissions": assessment_service.submissions(
            session=page.session, assessment_id=assessment.id, viewer=page.viewer
        ),
        "regulators": [
            r.name(page.visitor.lang)
            for r in assessment_service.regulators_for(session=page.session, agency=agency)
        ],
        "review_comments": page.review_comments(assessment, questionnaire),
        "carried": _carried_notice(page, assessment, questionnaire, editable),
        # who has what: for the agency's own people only
        "shared": assignment_pages.task_list_parts(page, assessment, questionnaire)
        if access.reads_draft(user=page.viewer.user, assessment=assessment)
        else {"by_section": {}, "people": []},
        "due": assessment_service.due_dates(page.session, [assessment.id], today=today()).get(
            assessment.id
        ),
    }
    return page.render("assessments/task_list.html", context)


def _contributor_task_list(
    page: Page,
    assessment: Assessment,
    agency: Organisation,
    questionnaire: Questionnaire,
    mine: frozenset[str],
    notice: str | None,
) -> HTMLResponse:
    """A contributor's task list: only the sections holding questions assigned to them, with
    how many of those they answered; no result, no submissions, no whole-assessment links."""
    lang = page.visitor.lang
    editable = page.editable(assessment)
    visible = engine.resolve(
        questionnaire, assessment_service.answers_of(assessment), today()
    ).visible
    rows = []
    for s in questionnaire.sections:
        asked = [q.id for q in s.questions if q.id in mine and q.id in visible]
        if not any(q.id in mine for q in s.questions):
            continue
        answered = [q for q in asked if assessment.answers.get(q) not in (None, "", [])]
        rows.append(
            {
                "title": localize(s.title, lang),
                "url": section_url(assessment.id, s.id) + ("" if editable else "/check"),
                "answered": len(answered),
                "asked": len(asked),
            }
        )
    parts = [
        p
        for p in assignments.assigned_to(
            session=page.session,
            viewer=page.viewer,
            registry=page.registry,
            lang=lang,
            today=today(),
        )
        if p.assessment.id == assessment.id
    ]
    return page.render(
        "assessments/task_list_contributor.html",
        page.common(assessment, agency, questionnaire)
        | {
            "notice": notice,
            "sections": rows,
            "parts": [
                {
                    "title": p.title,
                    "kind": p.assignment.kind.value,
                    "due_on": p.assignment.due_on.isoformat() if p.assignment.due_on else "",
                    "overdue": p.overdue,
                }
                for p in parts
            ],
        },
    )


def _carried_notice(
    page: Page, assessment: Assessment, questionnaire: Questionnaire, editable: bool
) -> dict[str, Any] | None:
    """For a reassessment being edited: the version its answers came from and the sections
    the new version left to do (the review feature's page shows them question by question)."""
    if not editable:
        return None
    link = assessment_service.reassessment_of(session=page.session, assessment_id=assessment.id)
    if link is None or "sections_to_do" not in link.detail:
        return None
    to_do = set(link.detail["sections_to_do"])
    return {
        "from_version": str(link.detail.get("from_version", "")),
        "sections": [
            localize(s.title, page.visitor.lang) for s in questionnaire.sections if s.id in to_do
        ],
        "url": f"/assessments/{assessment.id}/carried",
    }


# --- check your answers, submit, history, export and import -----------------------------------


@router.get("/assessments/{assessment_id}/check-your-answers", name="show_check_answers")
def show_check_answers(page: PageDep, assessment_id: str) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_read_all)
    statuses = assessment_service.section_statuses(questionnaire, assessment)
    if not page.editable(assessment):
        return redirect(f"/assessments/{assessment.id}/submitted")
    if any(s != "completed" for s in statuses.values()):
        return redirect(f"/assessments/{assessment.id}/")
    return _check_answers_page(page, assessment, agency, questionnaire)


def _check_answers_page(
    page: Page,
    assessment: Assessment,
    agency: Organisation,
    questionnaire: Questionnaire,
    *,
    error: str | None = None,
) -> HTMLResponse:
    """Every answer, and every question shown but left unanswered (the officer confirms those
    by name before submitting)."""
    index = questionnaire.question_index()
    unanswered = [
        {
            "id": qid,
            "text": localize(index[qid].text, page.visitor.lang),
            "url": section_url(assessment.id, questionnaire.section_of()[qid])
            + f"?return=all#{qid}",
        }
        for qid in assessment_service.unanswered_visible(
            questionnaire, assessment_service.answers_of(assessment), as_of=today()
        )
    ]
    documents = assessment_service.attached_documents(page.session, assessment.id)
    lacking = assessment_service.met_without_evidence(questionnaire, assessment, as_of=today())
    groups = [
        page.section_rows(
            questionnaire, assessment, s, return_all=True, documents=documents, lacking=lacking
        )
        for s in questionnaire.sections
    ]
    return page.render(
        "assessments/check_answers.html",
        page.common(assessment, agency, questionnaire)
        | {
            "groups": groups,
            # the "met" answers that count as partly met for want of evidence, in page order
            "lacking": [row for group in groups for row in group["rows"] if row["lacking"]],
            "unanswered": unanswered,
            "form_errors": [("confirm", error)] if error else [],
        },
        status_code=422 if error else 200,
        errors=bool(error),
    )


@router.post("/assessments/{assessment_id}/check-your-answers", name="submit_assessment")
def submit_assessment(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    policy.check(page.viewer.user, Permission.assessment_submit)
    statuses = assessment_service.section_statuses(questionnaire, assessment)
    if any(s != "completed" for s in statuses.values()):
        return redirect(f"/assessments/{assessment.id}/")  # nothing to submit yet: no change
    version = form_version(form)
    if version != assessment.version:
        return page.conflict(assessment.id, None, missing_version=version is None)
    confirmed = [str(v) for v in form.getlist("unanswered")] if form.get("confirm") == "yes" else []
    try:
        submission = assessment_service.submit(
            session=page.session,
            viewer=page.viewer,
            assessment_id=assessment.id,
            expected_version=version,
            questionnaire=questionnaire,
            confirmed_unanswered=confirmed,
        )
    except assessment_service.UnansweredQuestions:
        page.session.rollback()
        return _check_answers_page(
            page,
            assessment,
            agency,
            questionnaire,
            error=page._("Confirm that you submit without answering these questions"),
        )
    except InvalidTransition:
        return redirect(f"/assessments/{assessment.id}/")
    except StaleVersion:
        return page.conflict(assessment.id, None)
    events.submission_changed(page.request.app, submission.assessment_id)
    return redirect(f"/assessments/{assessment.id}/submitted")


@router.get("/assessments/{assessment_id}/submitted", name="show_submitted")
def show_submitted(page: PageDep, assessment_id: str) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_read_all)
    submission = assessment_service.get_submission(
        session=page.session, assessment_id=assessment.id, viewer=page.viewer
    )
    if submission is None:
        return redirect(f"/assessments/{assessment.id}/")
    return page.render(
        "assessments/submitted.html",
        page.common(assessment, agency, questionnaire)
        | {
            "submission": submission,
            "preparing": events.report_preparing(page.request.app, assessment_id=assessment.id),
        },
    )


@router.get("/assessments/{assessment_id}/history", name="show_history")
def show_history(page: PageDep, assessment_id: str) -> HTMLResponse:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_read_all)
    events = assessment_service.history(
        session=page.session, assessment_id=assessment.id, viewer=page.viewer
    )
    lang = page.visitor.lang
    # questions and sections by their text, as the officer knows them (not the author's ids)
    names = {s.id: localize(s.title, lang) for s in questionnaire.sections}
    names.update({q.id: localize(q.text, lang) for q in questionnaire.questions()})
    colon = "\u00a0:" if lang == "fr" else ":"
    details = {
        event.id: [
            (f"{label}{colon}", words)
            for label, words in labels.detail_items(event.detail, lang, names=names, limit=6)
        ]
        for event, _actor in events
    }
    return page.render(
        "assessments/history.html",
        page.common(assessment, agency, questionnaire) | {"events": events, "details": details},
    )


@router.get("/assessments/{assessment_id}/export", name="export_answers")
def export_answers(page: PageDep, assessment_id: str) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_read_all)
    data = AnswersFile(
        questionnaire=questionnaire.id,
        version=questionnaire.version,
        agency=agency.name_en,
        program=assessment.program,
        answers=dict(assessment.answers),
        evidence=dict(assessment.evidence),
    )
    body = json.dumps(
        data.model_dump(mode="json", exclude_none=True),
        indent=2,
        ensure_ascii=False,
        sort_keys=True,
    )
    filename = f"answers-{assessment.id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/assessments/{assessment_id}/import", name="show_import")
def show_import(page: PageDep, assessment_id: str) -> HTMLResponse:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_import)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    return page.render(
        "assessments/import.html",
        page.common(assessment, agency, questionnaire) | {"form_errors": [], "problems": []},
    )


@router.post("/assessments/{assessment_id}/import", name="import_answers")
async def import_answers(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    upload = form.get("file")
    raw = await upload.read(MAX_IMPORT_BYTES + 1) if isinstance(upload, UploadFile) else b""
    return await run_in_threadpool(_import_sync, page, assessment_id, form, raw)


def _import_sync(page: Page, assessment_id: str, form: FormData, raw: bytes) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    policy.check(page.viewer.user, Permission.assessment_import)
    version = form_version(form)
    if version is None:
        return page.conflict(assessment.id, None, missing_version=True)
    _ = page._
    problems: list[str] = []
    error: str | None = None
    data: AnswersFile | None = None
    if not raw:
        error = _("Select an answers file")
    elif len(raw) > MAX_IMPORT_BYTES:
        error = _("The file must be smaller than 500 KB")
    else:
        # the CLI's reader: safe YAML or JSON, nesting, numbers and text checked
        data, read_problems = loader.load_answers(raw, "file")
        if data is None:
            error = _("The file must be a PolicyGap answers file (JSON or YAML)")
            problems = [
                f"{p.line}:{p.col}: {p.path or '(file)'}: {p.message}"
                for p in read_problems
                if p.level == "error"
            ][:10]
        else:
            problems = check_answers_file(questionnaire, data)
            if problems:
                error = _("The answers file does not fit this questionnaire")
    if error or data is None:
        return page.render(
            "assessments/import.html",
            page.common(assessment, agency, questionnaire)
            # the version the form was read at, not the latest: a stale form stays stale
            | {"form_errors": [("file", error or "")], "problems": problems, "version": version},
            status_code=422,
            errors=True,
        )
    answers = data.to_answers()  # the file replaces the answers and notes it holds, no others
    # made on an earlier version: refused only where the file changes what others changed since
    try:
        assessment_service.save_answers(
            session=page.session,
            viewer=page.viewer,
            assessment_id=assessment.id,
            expected_version=version,
            questionnaire=questionnaire,
            values=dict(answers.values),
            evidence=dict(answers.evidence),
            as_of=today(),
            source="import",
        )
    except StaleVersion:
        yours = typed_rows(questionnaire, answers.values, answers.evidence, page.visitor.lang)
        return page.conflict(assessment.id, None, yours)
    return redirect(f"/assessments/{assessment.id}/?notice=saved")


# --- sections --------------------------------------------------------------------------------


# What a section page shows of each question that no answer changes: texts, options and the
# law behind it, per questionnaire (by the hash of its file), section and language. Bounded by
# the questionnaires loaded; built once instead of on every page view. A questionnaire that was
# not loaded from a file has no hash and is not cached.
_FIXED: dict[tuple[str, str, str], list[dict[str, Any]]] = {}


def _fixed_questions(
    questionnaire: Questionnaire, section: Section, lang: str
) -> list[dict[str, Any]]:
    """The fixed part of each question of ``section`` (a contributor's part of a section: of
    those questions only; the cache holds whole sections)."""
    whole = next((s for s in questionnaire.sections if s.id == section.id), section)
    if whole is not section:
        wanted = {q.id for q in section.questions}
        return [f for f in _fixed_of(questionnaire, whole, lang) if f["q"].id in wanted]
    return _fixed_of(questionnaire, section, lang)


def _fixed_of(questionnaire: Questionnaire, section: Section, lang: str) -> list[dict[str, Any]]:
    key = (questionnaire.sha256, section.id, lang)
    if key in _FIXED:
        return _FIXED[key]
    sources = questionnaire.source_index()
    questions = []
    for q in section.questions:
        refs = []
        for ref in q.references:
            source = sources.get(ref.source)
            refs.append(
                {
                    "title": localize(source.title, lang) if source else ref.source,
                    "section": ref.section or "",
                    "url": source.url
                    if source and source.url and source.url.startswith(("https://", "http://"))
                    else None,
                    "note": localize(ref.note, lang) if ref.note else "",
                }
            )
        questions.append(
            {
                "q": q,
                "text": localize(q.text, lang),
                "hint": localize(q.hint, lang) if q.hint else "",
                "guidance": localize(q.guidance, lang) if q.guidance else "",
                "references": refs,
                "options": [
                    {
                        "value": o.value,
                        "label": localize(o.label, lang),
                        "hint": localize(o.hint, lang) if o.hint else "",
                    }
                    for o in q.choices()
                ],
                "type": q.type.value,
                "evidence_name": forms.evidence_field(q.id),
            }
        )
    if questionnaire.sha256:
        _FIXED[key] = questions
    return questions


def _section_context(
    page: Page,
    questionnaire: Questionnaire,
    assessment: Assessment,
    section: Section,
    *,
    raw: dict[str, Any] | None,
    errors: dict[str, str],
    return_all: bool,
    version: int | None = None,
    read: str | None = None,
) -> dict[str, Any]:
    """The section page's context. A form shown again (``raw``) keeps the ``version`` and the
    ``read`` fingerprints it was first read at: a stale form stays stale."""
    lang = page.visitor.lang
    if raw is None:
        raw = {}
        for q in section.questions:
            value = assessment.answers.get(q.id)
            if isinstance(value, list):
                raw[q.id] = value
            elif value is None:
                raw[q.id] = ""
            else:
                raw[q.id] = (
                    forms.display_value(q, value, "en")
                    if isinstance(value, float | int)
                    else str(value)
                )
            raw[forms.evidence_field(q.id)] = assessment.evidence.get(q.id, "")
        visible = engine.resolve(
            questionnaire, assessment_service.answers_of(assessment), today()
        ).visible
    else:
        typed = {q.id: raw.get(q.id) for q in section.questions}
        visible = assessment_service.visible_with(questionnaire, assessment, typed, as_of=today())
    documents = assessment_service.attached_documents(page.session, assessment.id)
    questions = [
        fixed
        | {
            "documents": document_links(assessment.id, documents.get(fixed["q"].id, [])),
            "visible": fixed["q"].id in visible,
            "value": raw.get(fixed["q"].id, ""),
            "evidence_value": raw.get(fixed["evidence_name"], ""),
            "error": errors.get(fixed["q"].id),
            "evidence_error": errors.get(fixed["evidence_name"]),
        }
        for fixed in _fixed_questions(questionnaire, section, lang)
    ]
    error_list = []
    for item in questions:
        q = item["q"]
        if item["error"]:
            error_list.append((q.id, item["error"]))
        if item["evidence_error"]:
            error_list.append((item["evidence_name"], item["evidence_error"]))
    return {
        "section": section,
        "section_title": localize(section.title, lang),
        "section_description": localize(section.description, lang) if section.description else "",
        "questions": questions,
        "form_errors": error_list,
        "return_all": return_all,
        "action": section_url(assessment.id, section.id) + ("?return=all" if return_all else ""),
        "review_comments": page.review_comments(assessment, questionnaire, section.id),
        "new_questions": page.new_questions(assessment, questionnaire, section.id),
        "section_url": section_url(assessment.id, section.id),
        "form_version": version if version is not None else assessment.version,
        "form_read": read
        if read is not None
        else assessment_service.read_marks(assessment, [q.id for q in section.questions]),
        "part_only": page.mine(assessment, questionnaire) is not None,
    }


def _field_labels(page: Page, section: Section) -> dict[str, str]:
    """The section form's fields as a person knows them: the questions and their notes."""
    lang = page.visitor.lang
    labels: dict[str, str] = {}
    for q in section.questions:
        text = localize(q.text, lang)
        labels[q.id] = text
        labels[forms.evidence_field(q.id)] = page._("Evidence for: {question}", question=text)
    return labels


def _typed(
    page: Page, questionnaire: Questionnaire, section: Section, raw: dict[str, Any]
) -> list[dict[str, str]]:
    """What the section's form held, for the conflict page."""
    notes = {q.id: raw.get(forms.evidence_field(q.id)) for q in section.questions}
    return typed_rows(questionnaire, raw, notes, page.visitor.lang, sections=[section])


@router.get("/assessments/{assessment_id}/sections/{slug}", name="show_section")
def show_section(page: PageDep, assessment_id: str, slug: str) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    section = page.part_of(assessment, questionnaire, find_section(questionnaire, slug))
    if not page.editable(assessment):
        return redirect(section_url(assessment.id, slug) + "/check")
    context = _section_context(
        page,
        questionnaire,
        assessment,
        section,
        raw=None,
        errors={},
        return_all=page.request.query_params.get("return") == "all",
    )
    return page.render(
        "assessments/section.html", page.common(assessment, agency, questionnaire) | context
    )


@router.post("/assessments/{assessment_id}/sections/{slug}", name="save_section")
def save_section(page: PageDep, assessment_id: str, slug: str, form: PageForm) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    whole = find_section(questionnaire, slug)
    section = page.part_of(assessment, questionnaire, whole)
    return_all = page.request.query_params.get("return") == "all"
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    mine = page.mine(assessment, questionnaire)
    if mine is not None:
        # a contributor's form holds only their questions: any other question is refused
        index = questionnaire.question_index()
        if any(
            key.removeprefix(forms.EVIDENCE_PREFIX) in index
            and key.removeprefix(forms.EVIDENCE_PREFIX) not in mine
            for key in form
        ):
            raise Forbidden("This question is not assigned to you")
    page.label_fields(_field_labels(page, section))
    lists = {key: form.getlist(key) for key in form}
    parsed = forms.parse_section(
        section, {k: [v for v in vals if isinstance(v, str)] for k, vals in lists.items()}, page._
    )
    version = form_version(form)
    if version is None:
        return page.conflict(
            assessment.id,
            section,
            _typed(page, questionnaire, section, parsed.raw),
            missing_version=True,
        )
    raw_read = form.get("read")
    read = assessment_service.parse_read_marks(raw_read)
    if version != assessment.version:
        # Saved since this form was read: a conflict only where someone else changed a field
        # this form changes (a mistake in a field counts as a change to it).
        try:
            assessment_service.field_conflicts(
                assessment,
                read_version=version,
                values=parsed.values,
                evidence=parsed.evidence,
                read=read,
                unparsed=list(parsed.errors),
            )
        except StaleVersion as error:
            return page.conflict(
                assessment.id,
                section,
                _typed(page, questionnaire, section, parsed.raw),
                fields=list(error.detail.get("fields", [])),
            )
    if parsed.errors:
        # A hidden question is not asked, so what its (hidden) field holds is not an error.
        shown = assessment_service.visible_with(
            questionnaire, assessment, parsed.values, as_of=today()
        )
        parsed.errors = {
            k: v for k, v in parsed.errors.items() if k.removeprefix(forms.EVIDENCE_PREFIX) in shown
        }
    if parsed.errors:
        context = _section_context(
            page,
            questionnaire,
            assessment,
            section,
            raw=parsed.raw,
            errors=parsed.errors,
            return_all=return_all,
            version=version,
            read=raw_read if isinstance(raw_read, str) else "",
        )
        return page.render(
            "assessments/section.html",
            page.common(assessment, agency, questionnaire) | context,
            status_code=422,
            errors=True,
        )
    try:
        saved = assessment_service.save_answers(
            session=page.session,
            viewer=page.viewer,
            assessment_id=assessment.id,
            expected_version=version,
            questionnaire=questionnaire,
            values=parsed.values,
            evidence=parsed.evidence,
            as_of=today(),
            read=read,
        )
    except StaleVersion as error:
        return page.conflict(
            assessment.id,
            section,
            _typed(page, questionnaire, section, parsed.raw),
            fields=list(error.detail.get("fields", [])),
        )
    base = f"/assessments/{assessment.id}"
    if saved.reopened:
        # questions revealed in other sections: the task list says which are In progress again
        ids = ",".join(s.id for s in questionnaire.sections if s.id in saved.reopened)
        return redirect(f"{base}/?notice=reopened&sections={ids}")
    if form.get("action") == "later":
        return redirect(f"{base}/?notice=saved")
    here = section_url(assessment.id, slug)
    newly = [q.id for q in section.questions if q.id in saved.newly_visible]
    if newly:
        return redirect(here + ("?return=all" if return_all else "") + f"#{newly[0]}")
    if return_all:
        return redirect(f"{base}/check-your-answers")
    return redirect(here + "/check")


@router.post("/assessments/{assessment_id}/sections/{slug}/visibility", name="section_visibility")
def section_visibility(
    page: PageDep, assessment_id: str, slug: str, form: PageForm
) -> JSONResponse:
    """Which questions of the section are shown for the answers on the page (for app.js)."""
    assessment, _agency, questionnaire = page.load(assessment_id)
    section = page.part_of(assessment, questionnaire, find_section(questionnaire, slug))
    lists = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    parsed = forms.parse_section(section, lists, page._)
    visible = assessment_service.visible_with(
        questionnaire, assessment, parsed.values, as_of=today()
    )
    return JSONResponse({"visible": sorted(q.id for q in section.questions if q.id in visible)})


def _checked_rows(
    page: Page, questionnaire: Questionnaire, assessment: Assessment, section: Section
) -> dict[str, Any]:
    """A section's check page rows, with the documents and the "met" that wants evidence."""
    return page.section_rows(
        questionnaire,
        assessment,
        section,
        return_all=False,
        documents=assessment_service.attached_documents(page.session, assessment.id),
        lacking=assessment_service.met_without_evidence(questionnaire, assessment, as_of=today()),
    )


@router.get("/assessments/{assessment_id}/sections/{slug}/check", name="show_section_check")
def show_section_check(page: PageDep, assessment_id: str, slug: str) -> HTMLResponse:
    assessment, agency, questionnaire = page.load(assessment_id)
    section = find_section(questionnaire, slug)
    page.part_of(assessment, questionnaire, section)
    return page.render(
        "assessments/check_section.html",
        page.common(assessment, agency, questionnaire)
        | {
            "group": _checked_rows(page, questionnaire, assessment, section),
            "form_errors": [],
            "completed": assessment.section_status.get(section.id) == "completed",
            "section_url": section_url(assessment.id, slug),
            "may_mark": _may_mark(page, assessment, section.id),
        },
    )


def _may_mark(page: Page, assessment: Assessment, section_id: str) -> bool:
    """Whether the viewer answers "Have you completed this section?": a contributor only for a
    section given to them whole."""
    whole = assessment_service.assigned_sections(page.session, page.viewer, assessment)
    return whole is None or section_id in whole


@router.post("/assessments/{assessment_id}/sections/{slug}/check", name="mark_section")
def mark_section(page: PageDep, assessment_id: str, slug: str, form: PageForm) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    section = find_section(questionnaire, slug)
    if refused := page.refuse_change(assessment, agency, questionnaire):
        return refused
    version = form_version(form)
    if version is None:
        return page.conflict(assessment.id, section, missing_version=True)
    _ = page._
    choice = form.get("completed")
    error: str | None = None
    if choice not in ("yes", "no"):
        error = _("Select whether you have completed this section")
    else:
        try:
            assessment_service.mark_section(
                session=page.session,
                viewer=page.viewer,
                assessment_id=assessment.id,
                expected_version=version,
                questionnaire=questionnaire,
                section_id=section.id,
                completed=choice == "yes",
                as_of=today(),
            )
        except InvalidTransition:
            error = _("Answer every required question before you mark this section as completed")
        except StaleVersion as stale:
            return page.conflict(
                assessment.id, section, fields=list(stale.detail.get("fields", []))
            )
    if error:
        return page.render(
            "assessments/check_section.html",
            page.common(assessment, agency, questionnaire)
            | {
                "group": _checked_rows(page, questionnaire, assessment, section),
                "form_errors": [("completed", error)],
                "completed": False,
                "section_url": section_url(assessment.id, slug),
                "may_mark": _may_mark(page, assessment, section.id),
            },
            status_code=422,
            errors=True,
        )
    return redirect(f"/assessments/{assessment.id}/")


# --- old section addresses -------------------------------------------------------------------

# What follows a section's slug in its old addresses (``/assessments/{id}/{slug}/check``...).
OLD_SECTION_PAGES = frozenset({"check", "visibility", "documents"})


def _moved(request: Request, target: str) -> RedirectResponse:
    """301 for a GET (bookmarks and links), 308 for a POST (the form is sent again to the new
    address); the query string is kept."""
    query = request.url.query
    status = 301 if request.method in ("GET", "HEAD") else 308
    return RedirectResponse(target + (f"?{query}" if query else ""), status_code=status)


async def old_section(request: Request) -> Response:
    params = request.path_params
    page = params.get("page")
    if page is not None and page not in OLD_SECTION_PAGES:
        raise NotFound()
    target = f"/assessments/{parse_id(params['assessment_id'])}/sections/{params['slug']}"
    return _moved(request, target + (f"/{page}" if page else ""))


# Plain routes, not API routes: a redirect has no form (the new address checks its CSRF token).
for _path in ("/assessments/{assessment_id}/{slug}", "/assessments/{assessment_id}/{slug}/{page}"):
    old_section_urls.add_route(_path, old_section, methods=["GET", "HEAD", "POST"])
