"""The reviewer's pages (inbox, review, portfolio, CSV exports) and the officer's reassessment.

Routes stay thin: they parse, call ``service.review.service`` and render.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from service.actions import service as action_service
from service.assessments import events, forms, workflow
from service.assessments import service as assessment_service
from service.assessments.frame import (
    Page,
    PageDep,
    PageForm,
    form_version,
    parse_id,
    questionnaire_of,
    section_slug,
    section_url,
)
from service.assessments.models import Assessment
from service.auth import policy
from service.auth.policy import Permission
from service.documents import service as document_service
from service.errors import AppError, InvalidTransition, NotFound, StaleVersion
from service.i18n import labels as labels_module
from service.i18n.catalogue import N_
from service.i18n.labels import verdict_abbreviation, verdict_label
from service.models import AssessmentStatus, Organisation
from service.questionnaire import engine
from service.questionnaire.carry import CarryStatus
from service.questionnaire.schema import Questionnaire, localize
from service.questionnaire.versions import version_key
from service.report.impact import change_reason, csv_header, impact_csv
from service.report.opendata import safe_cell
from service.report.view import percent
from service.review import opendata as review_opendata
from service.review import service as review_service
from service.review.service import InboxFilters
from service.web.page import today

router = APIRouter(tags=["pages"], include_in_schema=False)
PER_PAGE = 25


def _date(raw: str | None) -> tuple[date | None, bool]:
    if not raw:
        return None, True
    try:
        return date.fromisoformat(raw.strip()), True
    except ValueError:
        return None, False


def parse_filters(request: Request) -> tuple[InboxFilters, list[tuple[str, str]], dict[str, str]]:
    """Inbox filters from the query string; bad values are reported and ignored."""
    q = request.query_params
    raw = {k: q.get(k, "") for k in ("agency", "status", "rating", "questionnaire", "from", "to")}
    raw["sort"] = q.get("sort", "submitted")
    raw["order"] = q.get("order", "desc")
    errors: list[tuple[str, str]] = []
    agency: uuid.UUID | None = None
    if raw["agency"]:
        try:
            agency = uuid.UUID(raw["agency"])
        except ValueError:
            errors.append(("agency", "Select an agency from the list"))
    start, ok_start = _date(raw["from"])
    if not ok_start:
        errors.append(("from", "Enter the first date as YYYY-MM-DD"))
    end, ok_end = _date(raw["to"])
    if not ok_end:
        errors.append(("to", "Enter the last date as YYYY-MM-DD"))
    filters = InboxFilters(
        agency=agency,
        status=raw["status"] if raw["status"] in review_service.STATUSES else None,
        rating=raw["rating"] if raw["rating"] in review_service.RATINGS else None,
        questionnaire=raw["questionnaire"] or None,
        submitted_from=start,
        submitted_to=end,
        sort=raw["sort"] if raw["sort"] in review_service.SORTS else "submitted",
        descending=raw["order"] != "asc",
    )
    return filters, errors, raw


MAX_PAGE = 1_000_000


def _page_number(request: Request) -> int:
    try:
        number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1
    if number > MAX_PAGE:  # no inbox has a million pages; the OFFSET would overflow the database
        raise AppError("The address is not valid")
    return number


def _query(raw: dict[str, str], **changes: object) -> str:
    from urllib.parse import urlencode

    values = {**raw, **{k: str(v) for k, v in changes.items()}}
    return urlencode({k: v for k, v in values.items() if v})


def _csv(rows: Iterable[list[object]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(v) if isinstance(v, str) else v for v in row])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- inbox -----------------------------------------------------------------------------------


@router.get("/review/", name="show_inbox")
def show_inbox(page: PageDep, request: Request) -> HTMLResponse:
    policy.check(page.viewer.user, Permission.review_read)
    filters, errors, raw = parse_filters(request)
    result = review_service.inbox(
        session=page.session,
        viewer=page.viewer,
        filters=filters,
        page=_page_number(request),
        per_page=PER_PAGE,
    )
    lang = page.visitor.lang
    versions = sorted({(q.id, q.version, localize(q.title, lang)) for q in page.registry.all()})
    return page.render(
        "review/inbox.html",
        {
            "inbox": result,
            "marks": review_service.due_marks(page.session, result.rows, today=today()),
            "raw": raw,
            "form_errors": [(f, page._(m)) for f, m in errors],
            "field_errors": {f: page._(m) for f, m in errors},
            "agencies": review_service.agencies_for_filter(page.session, page.viewer),
            "versions": versions,
            "query": lambda **changes: _query(raw, **changes),
            "sorts": [
                ("submitted", page._("Date submitted")),
                ("agency", page._("Agency")),
                ("rating", page._("Rating")),
                ("score", page._("Score")),
                ("status", page._("Status")),
            ],
        },
        errors=bool(errors),
    )


@router.get("/review/inbox.csv", name="export_inbox")
def export_inbox(page: PageDep, request: Request) -> Response:
    policy.check(page.viewer.user, Permission.review_read)
    filters, _errors, _raw = parse_filters(request)
    rows = review_service.inbox_all(session=page.session, viewer=page.viewer, filters=filters)
    lang = page.visitor.lang
    header: list[object] = [
        "assessment_id",
        "agency",
        "program",
        "questionnaire",
        "version",
        "submission",
        "status",
        "rating",
        "score",
        "submitted_at",
    ]
    body: list[list[object]] = [
        [
            str(r.assessment_id),
            r.agency(lang),
            r.program,
            r.questionnaire_id,
            r.questionnaire_version,
            r.number,
            r.status,
            r.rating,
            "" if r.score is None else r.score,
            r.submitted_at.isoformat(),
        ]
        for r in rows
    ]
    return _csv([header, *body], "inbox.csv")


# --- portfolio -------------------------------------------------------------------------------


def _portfolio_questionnaire(page: Page, request: Request) -> Questionnaire:
    wanted = request.query_params.get("questionnaire", "")
    loaded = sorted(page.registry.all(), key=lambda q: (q.id, q.version))
    if not loaded:
        raise NotFound("No questionnaire is loaded")
    if wanted:
        qid, _, qver = wanted.partition("@")
        for q in loaded:
            if q.id == qid and (not qver or q.version == qver):
                return q
        raise NotFound("There is no such questionnaire version")
    return loaded[-1]


@router.get("/review/portfolio", name="show_portfolio")
def show_portfolio(page: PageDep, request: Request) -> HTMLResponse:
    policy.check(page.viewer.user, Permission.review_portfolio)
    questionnaire = _portfolio_questionnaire(page, request)
    data = review_service.portfolio(
        session=page.session, viewer=page.viewer, questionnaire=questionnaire
    )
    lang = page.visitor.lang
    titles = {c.id: localize(c.title, lang) for c in questionnaire.criteria}
    labels = {k: verdict_label(k, lang) for k in labels_module.VERDICTS}
    # one constant, escaped cell per verdict: the heat map has criteria x agencies cells
    cell = {
        v: Markup('<td class="heat heat--{}"><abbr title="{}">{}</abbr></td>').format(
            v, labels[v], verdict_abbreviation(v, lang)
        )
        for v in labels_module.VERDICTS
    }
    empty = Markup('<td class="heat"></td>')
    rows = [
        (
            org,
            digest,
            Markup("").join(
                cell.get(data.cells[digest.assessment_id].get(cid, ""), empty)
                for cid in data.criteria
            ),
        )
        for org, digest in data.programs
    ]
    return page.render(
        "review/portfolio.html",
        {
            "data": data,
            "rows": rows,
            "questionnaire": questionnaire,
            "q_title": localize(questionnaire.title, lang),
            "titles": titles,
            "short": {v: verdict_abbreviation(v, lang) for v in labels_module.VERDICTS},
            "labels": labels,
            "versions": sorted(
                {(q.id, q.version, localize(q.title, lang)) for q in page.registry.all()}
            ),
            "selected": f"{questionnaire.id}@{questionnaire.version}",
        },
    )


def _impact_pairs(page: Page) -> list[tuple[Questionnaire, Questionnaire]]:
    """Every (older, newer) pair of loaded versions of one questionnaire, newest pairs first."""
    by_id: dict[str, list[Questionnaire]] = {}
    for q in page.registry.all():
        by_id.setdefault(q.id, []).append(q)
    pairs = []
    for qid in sorted(by_id):
        versions = sorted(by_id[qid], key=lambda q: version_key(q.version), reverse=True)
        for i, new in enumerate(versions):
            for old in versions[i + 1 :]:
                if version_key(old.version) < version_key(new.version):
                    pairs.append((old, new))
    return pairs


def _impact_choice(page: Page, request: Request) -> tuple[Questionnaire, Questionnaire] | None:
    pairs = _impact_pairs(page)
    wanted = request.query_params.get("compare", "")
    if not wanted:
        return pairs[0] if pairs else None
    for old, new in pairs:
        if wanted == f"{old.id}@{old.version}@{new.version}":
            return old, new
    raise NotFound("There is no such pair of questionnaire versions")


def _portfolio_impact(
    page: Page, pair: tuple[Questionnaire, Questionnaire]
) -> review_service.PortfolioImpact:
    old, new = pair
    return review_service.portfolio_impact(
        session=page.session,
        viewer=page.viewer,
        old=old,
        new=new,
        lang=page.visitor.lang,
        as_of=today(),
    )


@router.get("/review/impact", name="show_impact")
def show_impact(page: PageDep, request: Request) -> HTMLResponse:
    """What a new version of a questionnaire does to the accepted assessments of the portfolio:
    the same numbers as `policygap impact`."""
    policy.check(page.viewer.user, Permission.review_portfolio)
    lang = page.visitor.lang
    pair = _impact_choice(page, request)
    choices = [
        (f"{o.id}@{o.version}@{n.version}", localize(n.title, lang), o.version, n.version)
        for o, n in _impact_pairs(page)
    ]
    if pair is None:
        return page.render("review/impact.html", {"choices": [], "pair": None})
    old, new = pair
    data = _portfolio_impact(page, pair)
    report = data.impact
    titles = {c.id: localize(c.title, lang) for c in [*old.criteria, *new.criteria]}
    questions = new.question_index()
    rows = [
        {
            "agency": data.details[r.name][0],
            "program": data.details[r.name][1],
            "url": f"/review/{r.name}",
            "old": r.old,
            "new": r.new,
            "changes": [
                {
                    "criterion": ch.criterion,
                    "title": titles.get(ch.criterion, ""),
                    "old": ch.old.value if ch.old else "",
                    "new": ch.new.value if ch.new else "",
                    "why": change_reason(ch, r, new, lang),
                }
                for ch in r.changes
            ],
            "to_answer": [localize(questions[q].text, lang) for q in r.new_questions_to_answer],
        }
        for r in report.assessments
    ]
    summary = report.summary
    return page.render(
        "review/impact.html",
        {
            "choices": choices,
            "selected": f"{old.id}@{old.version}@{new.version}",
            "pair": pair,
            "q_title": localize(new.title, lang),
            "as_of": report.as_of,
            "rows": rows,
            "moves": [((a.value, b.value), n) for (a, b), n in summary.moves.items() if n],
            "lower": sum(n for (a, b), n in summary.moves.items() if b.rank < a.rank),
            "failing": [(cid, titles.get(cid, ""), n) for cid, n in summary.new_criteria_failing],
            "asked": [
                (localize(questions[q].text, lang), n) for q, n in summary.questions_to_answer
            ],
            "count": summary.assessments,
        },
    )


@router.get("/review/impact.csv", name="export_impact")
def export_impact(page: PageDep, request: Request) -> Response:
    policy.check(page.viewer.user, Permission.review_portfolio)
    pair = _impact_choice(page, request)
    if pair is None:  # one version of each questionnaire: nothing to compare, the columns only
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(csv_header(page.visitor.lang))
        body = out.getvalue()
    else:
        data = _portfolio_impact(page, pair)
        body = impact_csv(data.impact, pair[1], page.visitor.lang, data.details)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="policygap-impact.csv"'},
    )


def _portfolio_data(page: Page, request: Request) -> tuple[Questionnaire, review_service.Portfolio]:
    policy.check(page.viewer.user, Permission.review_portfolio)
    questionnaire = _portfolio_questionnaire(page, request)
    data = review_service.portfolio(
        session=page.session, viewer=page.viewer, questionnaire=questionnaire
    )
    return questionnaire, data


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/review/portfolio.csv", name="export_portfolio")
def export_portfolio(page: PageDep, request: Request) -> Response:
    """The portfolio as open data (policygap-portfolio/1, docs/open-data.md)."""
    questionnaire, data = _portfolio_data(page, request)
    name = f"portfolio-{questionnaire.id}-{questionnaire.version}"
    body = review_opendata.portfolio_csv(data, page.visitor.lang)
    return _download(body, "text/csv; charset=utf-8", f"{name}.csv")


@router.get("/review/portfolio.json", name="export_portfolio_json")
def export_portfolio_json(page: PageDep, request: Request) -> Response:
    questionnaire, data = _portfolio_data(page, request)
    name = f"portfolio-{questionnaire.id}-{questionnaire.version}"
    body = review_opendata.portfolio_json(data, page.visitor.lang)
    return _download(body, "application/json", f"{name}.json")


@router.get("/review/portfolio.labels.csv", name="export_portfolio_labels")
def export_portfolio_labels(page: PageDep, request: Request) -> Response:
    """The CSV's column labels in English and French (its companion file)."""
    policy.check(page.viewer.user, Permission.review_portfolio)
    questionnaire = _portfolio_questionnaire(page, request)
    name = f"portfolio-{questionnaire.id}-{questionnaire.version}.labels.csv"
    return _download(review_opendata.labels_csv(questionnaire), "text/csv; charset=utf-8", name)


# --- review page -----------------------------------------------------------------------------

# What the review page shows (``?show=``): the gaps by default, every criterion, the criteria with
# a comment (yours, not yet published, or an earlier one), or those changed since the previous
# submission. Every criterion is in the page (and its comment box in the form) whatever the
# filter: the ones it leaves out are only hidden, so a comment typed or saved on them is posted
# with the decision and never dropped.
SHOWS = ("gaps", "all", "commented", "changed")
DEFAULT_SHOW = "gaps"


def _show(raw: object) -> str:
    return raw if isinstance(raw, str) and raw in SHOWS else DEFAULT_SHOW


def _criterion_flags(
    detail: Any,
    *,
    commented: set[str],
    changed: set[str],
) -> dict[str, bool]:
    verdict = detail.verdict
    return {
        "gaps": verdict.is_gap,
        "all": True,
        "commented": detail.id in commented,
        "changed": detail.id in changed,
    }


def _changed_criteria(questionnaire: Questionnaire, latest_result: Any, d: Any) -> set[str]:
    """Criteria whose verdict changed, or that read an answer, note or document that changed."""
    touched = {c.question_id for c in d.answers} | {c.question_id for c in d.documents}
    out = {v.criterion_id for v in d.verdicts}
    for criterion in latest_result.criteria:
        if touched & set(criterion.trace.reads):
            out.add(criterion.id)
    return out


def _review_context(
    page: Page,
    assessment: Assessment,
    agency: Organisation,
    questionnaire: Questionnaire,
    *,
    values: dict[str, str] | None = None,
    show: str = DEFAULT_SHOW,
) -> dict[str, Any]:
    lang = page.visitor.lang
    values = values or {}
    subs = assessment_service.submissions(
        session=page.session, assessment_id=assessment.id, viewer=page.viewer
    )
    if not subs:
        raise NotFound()
    latest = subs[-1]
    view = assessment_service.report_view(questionnaire, assessment, lang, submission=latest)
    result = view.report.result
    index = questionnaire.question_index()
    change = None
    changed: set[str] = set()
    if len(subs) > 1:
        d = review_service.diff(questionnaire, subs[-2], latest)
        changed = _changed_criteria(questionnaire, result, d)

        def text_of(qid: str) -> str:
            return localize(index[qid].text, lang) if qid in index else qid

        change = {
            "diff": d,
            "answers": [
                {
                    "question": text_of(c.question_id),
                    "id": c.question_id,
                    "before": forms.display_value(index[c.question_id], c.before, lang)
                    if c.question_id in index
                    else str(c.before),
                    "after": forms.display_value(index[c.question_id], c.after, lang)
                    if c.question_id in index
                    else str(c.after),
                    "note_before": c.note_before or "",
                    "note_after": c.note_after or "",
                }
                for c in d.answers
            ],
            "documents": [
                {"question": text_of(c.question_id), "id": c.question_id, "change": c}
                for c in d.documents
            ],
            "score_before": percent(d.score_before, lang),
            "score_after": percent(d.score_after, lang),
            "score_change": ("+" if (d.score_change or 0) >= 0 else "-")
            + percent(abs(d.score_change or 0), lang),
            "verdicts": [
                {
                    "id": v.criterion_id,
                    "before": verdict_label(v.before, page.visitor.lang)
                    if v.before
                    else page._("None"),
                    "after": verdict_label(v.after, page.visitor.lang),
                }
                for v in d.verdicts
            ],
        }
    history: list[dict[str, Any]] = [
        {
            "criterion": c.criterion_id,
            "body": c.body,
            "number": s.number if s else None,
            "author": u.full_name if u else "",
            "at": c.created_at,
        }
        for c, s, u in assessment_service.comments(
            session=page.session, assessment_id=assessment.id
        )
    ]
    earlier: dict[str, list[dict[str, Any]]] = {}
    for h in history:
        if h["criterion"]:
            earlier.setdefault(str(h["criterion"]), []).append(h)
    commented = set(values) | set(earlier)
    actions = [a.value for a in workflow.allowed_actions(assessment.status, page.viewer.user.role)]
    record = view.report.record
    unanswered_ids = assessment_service.unanswered_visible(
        questionnaire, record.to_answers(), as_of=record.as_of
    )
    section_of = questionnaire.section_of()
    titles = {s.id: localize(s.title, lang) for s in questionnaire.sections}
    unanswered = [
        {
            "id": qid,
            "text": localize(index[qid].text, lang) if qid in index else qid,
            "section": titles.get(section_of.get(qid, ""), ""),
        }
        for qid in unanswered_ids
    ]
    # each criterion with what the filter reads; each section with what it holds
    sections: list[dict[str, Any]] = []
    counts = dict.fromkeys(SHOWS, 0)
    gaps_by_severity: Counter[str] = Counter()
    for section in view.details:
        rows: list[dict[str, Any]] = []
        for c in section.criteria:
            flags = _criterion_flags(c, commented=commented, changed=changed)
            for key, on in flags.items():
                counts[key] += on
            if flags["gaps"]:
                gaps_by_severity[c.severity.value] += 1
            rows.append({"c": c, "flags": flags, "shown": flags[show]})
        sections.append(
            {
                "s": section,
                "rows": rows,
                "gaps": sum(r["flags"]["gaps"] for r in rows),
                "shown": any(r["shown"] for r in rows),
            }
        )
    bar = {
        "critical": gaps_by_severity["critical"],
        "high": gaps_by_severity["high"],
        "other": sum(gaps_by_severity.values())
        - gaps_by_severity["critical"]
        - gaps_by_severity["high"],
    }
    return page.common(assessment, agency, questionnaire) | {
        "unanswered_count": len(unanswered),
        "unanswered": unanswered,
        "documents": document_service.views_by_question(
            session=page.session, viewer=page.viewer, assessment=assessment
        ),
        "submission": latest,
        "result": result,
        "score_text": view.cover.score,
        "sections": sections,
        "bar": bar,
        "counts": counts,
        "show": show,
        "shows": [s for s in SHOWS if s != "changed" or change is not None],
        "earlier": earlier,
        "change": change,
        "history": history,
        "actions": actions,
        "acceptance": review_service.acceptance(session=page.session, assessment_id=assessment.id),
        "preparing": events.report_preparing(page.request.app, assessment_id=assessment.id),
        "due": assessment_service.due_dates(page.session, [assessment.id], today=today()).get(
            assessment.id
        ),
        "due_value": None,
        "due_error": "",
        "due_saved": False,
    }


@router.get("/review/{assessment_id}", name="show_review")
def show_review(page: PageDep, assessment_id: str, request: Request) -> HTMLResponse:
    policy.check(page.viewer.user, Permission.review_read)
    assessment, agency, questionnaire = page.load(assessment_id)
    draft = review_service.draft_of(session=page.session, viewer=page.viewer, assessment=assessment)
    values = dict(draft.comments) if draft else {}
    context = _review_context(
        page,
        assessment,
        agency,
        questionnaire,
        values=values,
        show=_show(request.query_params.get("show")),
    )
    return page.render(
        "review/review.html",
        context
        | {
            "form_errors": [],
            "problem": "",
            "values": values,
            "general": draft.general if draft else "",
            "draft_saved_at": draft.updated_at if draft else None,
            "due_saved": request.query_params.get("done") == "due",
        },
    )


# The third button of the review form: keep the comments, decide later.
SAVE_DRAFT = "save_draft"
# Without script, a filter button of the review form keeps what was typed (as the draft) and
# shows the page again with that filter; with script the page filters itself and posts nothing.
FILTER = "filter"


def _form_comments(form: Any, questionnaire: Questionnaire) -> tuple[dict[str, str], str]:
    values: dict[str, str] = {}
    for c in questionnaire.criteria:
        raw = form.get(f"comment-{c.id}")
        if isinstance(raw, str) and raw.strip():
            values[c.id] = raw
    general_raw = form.get("general")
    return values, general_raw if isinstance(general_raw, str) else ""


# The review form did not name the version it was read at (the conflict page's words; one
# literal, as the translation check reads whole literals).
MISSING_VERSION = N_(
    "The form did not say which version of the assessment you opened, so it could have overwritten someone else's work. Your comments were not saved."
)


MISSING_ACCEPT_VERSION = N_(
    "The form did not say which version of the assessment you opened, so nothing was accepted. Check the page again and confirm."
)


def _refused_review(
    page: Page,
    assessment_id: str,
    values: dict[str, str],
    general: str,
    *,
    show: str,
    error: InvalidTransition | StaleVersion | None = None,
    problem: str = "",
    status_code: int = 409,
    due: tuple[str, str] | None = None,
) -> HTMLResponse:
    """The review page again after nothing was decided or saved, with what the reviewer typed
    (``due``: the due date typed and why it was refused):
    422 for a return without a comment, 409 when the assessment changed or is no longer waiting
    for review, or ``status_code`` with ``problem``."""
    page.session.rollback()
    assessment, agency, questionnaire = page.load(assessment_id)
    missing_comment = (
        error is not None
        and not isinstance(error, StaleVersion)
        and assessment.status == AssessmentStatus.submitted
    )
    if error is not None:
        problem = error.message
    context = _review_context(page, assessment, agency, questionnaire, values=values, show=show)
    form_errors = [("general", page._(problem))] if missing_comment else []
    if due is not None:
        form_errors, problem = [("due_date", page._(due[1]))], ""
    return page.render(
        "review/review.html",
        context
        | {
            "form_errors": form_errors,
            "problem": "" if missing_comment else page._(problem),
            "values": values,
            "general": general,
            "draft_saved_at": None,
        }
        | ({"due_value": due[0], "due_error": page._(due[1])} if due else {}),
        status_code=422 if missing_comment else status_code,
        errors=missing_comment or due is not None,
    )


def parse_due(raw: object) -> tuple[date | None, str]:
    """A due date typed on the review page (blank: none) and the message id of its problem."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None, ""
    due_on = action_service.parse_date(text)
    if due_on is None:
        return None, DUE_FORMAT
    if due_on < today():
        return None, DUE_PAST
    return due_on, ""


DUE_FORMAT = N_("Enter the due date as year-month-day, for example 2027-03-31")
DUE_PAST = N_("The due date must be today or later")


@router.post("/review/{assessment_id}", name="decide_review")
def decide_review(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    policy.check(page.viewer.user, Permission.review_decide)  # an admin reads, does not decide
    assessment, _agency, questionnaire = page.load(assessment_id)
    action = form.get("action")
    action = action if isinstance(action, str) else ""
    show_raw = form.get("show")
    if isinstance(show_raw, str) and show_raw:
        action = FILTER
    values, general = _form_comments(form, questionnaire)
    if action not in (
        workflow.Action.return_.value,
        workflow.Action.accept.value,
        SAVE_DRAFT,
        FILTER,
    ):
        raise InvalidTransition("Choose to return the assessment or to accept it")
    due_on, due_problem = parse_due(form.get("due_date"))
    if due_problem and action == workflow.Action.return_.value:
        return _refused_review(
            page,
            assessment_id,
            values,
            general,
            show=_show(form.get("shown")),
            status_code=422,
            due=(str(form.get("due_date") or ""), due_problem),
        )
    version = form_version(form)
    if version is None:
        # the form does not say which submission it was read on: it might be an earlier one,
        # so nothing is decided or saved (428, as the API answers a missing If-Match)
        return _refused_review(
            page,
            assessment_id,
            values,
            general,
            show=_show(form.get("shown")),
            problem=MISSING_VERSION,
            status_code=428,
        )
    try:
        if action in (SAVE_DRAFT, FILTER, workflow.Action.accept.value):
            # accepting is confirmed on a page of its own, which lists the comments saved here
            draft = review_service.draft_of(
                session=page.session, viewer=page.viewer, assessment=assessment
            )
            unchanged = (
                draft is not None
                and {k: v.strip() for k, v in values.items()} == dict(draft.comments)
                and general.strip() == draft.general
            ) or (draft is None and not values and not general.strip())
            if action == SAVE_DRAFT or not unchanged:
                review_service.save_draft(
                    session=page.session,
                    viewer=page.viewer,
                    assessment_id=parse_id(assessment_id),
                    expected_version=version,
                    questionnaire=questionnaire,
                    criterion_comments=values,
                    general_comment=general,
                )
            elif assessment.status != AssessmentStatus.submitted:
                raise InvalidTransition("This assessment is not waiting for review")
        else:
            review_service.decide(
                session=page.session,
                viewer=page.viewer,
                assessment_id=parse_id(assessment_id),
                action=action,
                expected_version=version,
                questionnaire=questionnaire,
                criterion_comments=values,
                general_comment=general,
                due_on=due_on,
            )
    except (InvalidTransition, StaleVersion) as error:
        # the use case rolled back; render here, while the session is open (422 for a missing
        # comment, 409 when the assessment is no longer waiting for review or changed meanwhile)
        return _refused_review(
            page, assessment_id, values, general, show=_show(form.get("shown")), error=error
        )
    if action == FILTER:
        return RedirectResponse(
            f"/review/{assessment.id}?show={_show(show_raw)}#criteria", status_code=303
        )
    if action == workflow.Action.accept.value:
        return RedirectResponse(f"/review/{assessment.id}/accept", status_code=303)
    if action == SAVE_DRAFT:  # back to the page as the reviewer left it (its filter kept)
        shown = _show(form.get("shown"))
        keep = "" if shown == DEFAULT_SHOW else f"&show={shown}"
        return RedirectResponse(f"/review/{assessment.id}?done={action}{keep}", status_code=303)
    events.submission_changed(page.request.app, assessment.id)
    return RedirectResponse(f"/review/{assessment.id}?done={action}", status_code=303)


@router.post("/review/{assessment_id}/due", name="set_due_date")
def set_due_date(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    """When the resubmission of a returned assessment is due (blank: no due date)."""
    policy.check(page.viewer.user, Permission.review_decide)
    page.label_fields({"due_date": page._("Resubmission due by")})
    due_on, problem = parse_due(form.get("due_date"))
    if problem:
        return _refused_review(
            page,
            assessment_id,
            {},
            "",
            show=DEFAULT_SHOW,
            status_code=422,
            due=(str(form.get("due_date") or ""), problem),
        )
    try:
        review_service.set_due_date(
            session=page.session,
            viewer=page.viewer,
            assessment_id=parse_id(assessment_id),
            due_on=due_on,
        )
    except InvalidTransition as error:
        return _refused_review(page, assessment_id, {}, "", show=DEFAULT_SHOW, error=error)
    return RedirectResponse(f"/review/{assessment_id}?done=due#due-title", status_code=303)


# --- accepting: a confirmation page ----------------------------------------------------------


def _accept_context(
    page: Page, assessment: Assessment, agency: Organisation, questionnaire: Questionnaire
) -> dict[str, Any]:
    lang = page.visitor.lang
    draft = review_service.draft_of(session=page.session, viewer=page.viewer, assessment=assessment)
    context = _review_context(
        page, assessment, agency, questionnaire, values=dict(draft.comments) if draft else {}
    )
    titles = {c.id: localize(c.title, lang) for c in questionnaire.criteria}
    critical = [
        row["c"]
        for section in context["sections"]
        for row in section["rows"]
        if row["flags"]["gaps"] and row["c"].severity.value == "critical"
    ]
    comments = [
        {"id": cid, "title": titles.get(cid, cid), "body": text}
        for cid, text in (draft.comments.items() if draft else [])
        if cid in titles
    ]
    order = {c.id: i for i, c in enumerate(questionnaire.criteria)}
    comments.sort(key=lambda c: order.get(c["id"], 0))
    return context | {
        "critical": critical,
        "comments": comments,
        "general": draft.general if draft else "",
    }


@router.get("/review/{assessment_id}/accept", name="confirm_accept")
def confirm_accept(page: PageDep, assessment_id: str) -> Response:
    policy.check(page.viewer.user, Permission.review_decide)
    assessment, agency, questionnaire = page.load(assessment_id)
    if workflow.Action.accept.value not in [
        a.value for a in workflow.allowed_actions(assessment.status, page.viewer.user.role)
    ]:
        return RedirectResponse(f"/review/{assessment.id}", status_code=303)
    return page.render(
        "review/accept.html",
        _accept_context(page, assessment, agency, questionnaire) | {"problem": ""},
    )


@router.post("/review/{assessment_id}/accept", name="accept_review")
def accept_review(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    """The one explicit confirmation: publish the comments listed on the page and accept."""
    policy.check(page.viewer.user, Permission.review_decide)
    assessment, agency, questionnaire = page.load(assessment_id)
    values, general = _form_comments(form, questionnaire)
    version = form_version(form)
    if version is None:  # as on the review page: nothing is decided without the version read
        return page.render(
            "review/accept.html",
            _accept_context(page, assessment, agency, questionnaire)
            | {"problem": page._(MISSING_ACCEPT_VERSION)},
            status_code=428,
        )
    try:
        review_service.decide(
            session=page.session,
            viewer=page.viewer,
            assessment_id=parse_id(assessment_id),
            action=workflow.Action.accept.value,
            expected_version=version,
            questionnaire=questionnaire,
            criterion_comments=values,
            general_comment=general,
        )
    except (InvalidTransition, StaleVersion) as error:
        page.session.rollback()
        assessment, agency, questionnaire = page.load(assessment_id)
        return page.render(
            "review/accept.html",
            _accept_context(page, assessment, agency, questionnaire)
            | {"problem": page._(error.message)},
            status_code=409,
        )
    events.submission_changed(page.request.app, assessment.id)
    return RedirectResponse(f"/review/{assessment.id}?done=accept", status_code=303)


__all__ = ["questionnaire_of", "router", "section_slug"]


# --- reassessment ----------------------------------------------------------------------------


def _reassess_page(
    page: Page,
    assessment: Assessment,
    agency: Organisation,
    questionnaire: Questionnaire,
    *,
    errors: list[tuple[str, str]],
    program: str,
    status_code: int = 200,
) -> HTMLResponse:
    lang = page.visitor.lang
    versions = review_service.reassessment_versions(page.registry.all(), assessment)
    return page.render(
        "review/reassess.html",
        page.common(assessment, agency, questionnaire)
        | {
            "versions": [(q.version, localize(q.title, lang)) for q in versions],
            "program": program,
            "form_errors": errors,
        },
        status_code=status_code,
        errors=bool(errors),
    )


@router.get("/assessments/{assessment_id}/reassess", name="show_reassess")
def show_reassess(page: PageDep, assessment_id: str) -> HTMLResponse:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_start)
    return _reassess_page(
        page, assessment, agency, questionnaire, errors=[], program=assessment.program
    )


@router.post("/assessments/{assessment_id}/reassess", name="reassess")
def reassess(page: PageDep, assessment_id: str, form: PageForm) -> Response:
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_start)
    version = form.get("version_choice")
    program_raw = form.get("program")
    program = program_raw.strip() if isinstance(program_raw, str) else ""
    errors: list[tuple[str, str]] = []
    target = (
        page.registry.get(assessment.questionnaire_id, version)
        if isinstance(version, str)
        else None
    )
    if target is None:
        errors.append(("version_choice", page._("Select the questionnaire version")))
    if not program:
        errors.append(("program", page._("Enter the name of the program")))
    elif len(program) > 200:
        errors.append(("program", page._("The program name must be 200 characters or fewer")))
    if errors or target is None:
        return _reassess_page(
            page, assessment, agency, questionnaire, errors=errors, program=program, status_code=422
        )
    draft, _link = review_service.reassess(
        session=page.session,
        viewer=page.viewer,
        previous_id=assessment.id,
        questionnaire=target,
        previous_questionnaire=questionnaire,
        program=program,
        as_of=today(),
    )
    return RedirectResponse(f"/assessments/{draft.id}/", status_code=303)


@router.get("/assessments/{assessment_id}/carried", name="show_carried")
def show_carried(page: PageDep, assessment_id: str) -> HTMLResponse:
    """A reassessment, question by question: what carried over from the accepted assessment,
    what changed, what needs an answer."""
    assessment, agency, questionnaire = page.load(assessment_id)
    policy.check(page.viewer.user, Permission.assessment_read_all)
    lang = page.visitor.lang
    link = assessment_service.reassessment_of(session=page.session, assessment_id=assessment.id)
    from_version = str(link.detail.get("from_version", "")) if link is not None else ""
    previous_questionnaire = page.registry.get(assessment.questionnaire_id, from_version)
    found = review_service.carried_into(
        session=page.session,
        assessment=assessment,
        questionnaire=questionnaire,
        previous_questionnaire=previous_questionnaire,
        as_of=today(),
    )
    if found is None:
        raise NotFound()
    _version, draft = found
    carried = draft.carried
    old_index = previous_questionnaire.question_index() if previous_questionnaire else {}
    visible = engine.resolve(
        questionnaire, assessment_service.answers_of(assessment), today()
    ).visible
    sections = []
    for section in questionnaire.sections:
        rows = []
        for q in section.questions:
            c = carried.questions[q.id]
            if q.id not in visible and not c.status.is_change:
                continue
            source = old_index.get(c.source or "")
            rows.append(
                {
                    "id": q.id,
                    "text": localize(q.text, lang),
                    "url": section_url(assessment.id, section.id) + f"#{q.id}",
                    "status": c.status.value,
                    "needs_answer": c.status.needs_answer and q.id in visible,
                    "shown": q.id in visible,
                    "source": c.source if c.source and c.source != q.id else "",
                    "before": forms.display_value(source, c.old_value, lang)
                    if source is not None and c.old_value is not None
                    else "",
                    "now": forms.display_value(q, assessment.answers.get(q.id), lang),
                }
            )
        if rows:
            sections.append(
                {
                    "id": section.id,
                    "title": localize(section.title, lang),
                    "to_do": section.id in draft.sections_to_do,
                    "rows": rows,
                }
            )
    dropped = [
        {
            "id": qid,
            "text": localize(old_index[qid].text, lang) if qid in old_index else qid,
            "before": forms.display_value(old_index[qid], value, lang)
            if qid in old_index
            else str(value),
        }
        for qid, value in carried.dropped.items()
    ]
    needs_answer = sum(
        1
        for section in questionnaire.sections
        for q in section.questions
        if carried.questions[q.id].status.needs_answer and q.id in visible
    )
    counts = {
        "carried": len(carried.with_status(CarryStatus.carried)),
        "changed": len(carried.with_status(CarryStatus.changed)),
        "needs_answer": needs_answer,
    }
    return page.render(
        "review/carried.html",
        page.common(assessment, agency, questionnaire)
        | {
            "from_version": from_version,
            "sections": sections,
            "dropped": dropped,
            "counts": counts,
        },
    )
