"""The public edition's use cases: prepare, propose, send back, release, change, withdraw; and the
published records anyone may read.

The agency's officer prepares the edition of an accepted submission: each free-text field starts
as the questionnaire proposes (`questionnaire.publication.items`), withheld items need a
statutory reason from the regime's list. The regulator that oversees the agency releases it (or
sends it back), may change a released edition and may withdraw it; a withdrawn record stays, and
says when and why. Every step is an audit event of the assessment.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, or_, select

from service import db, jobs
from service.actions.models import RemediationAction
from service.assessments import access
from service.assessments import service as assessment_service
from service.assessments.models import Assessment, Submission
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.auth.principal import Viewer
from service.config import Settings
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.i18n import N_
from service.models import (
    ActionStatus,
    AssessmentStatus,
    AuditEvent,
    EditionStatus,
    Organisation,
    OrgKind,
    utcnow,
)
from service.notices import service as notice_service
from service.notices.models import NoticeKind
from service.publication.models import PublicEdition, PublicEditionPdf
from service.questionnaire import publication as core
from service.questionnaire.loader import Registry, load_directory
from service.questionnaire.schema import Questionnaire, WithholdingReason, localize
from service.questionnaire.scoring import Result
from service.questionnaire.submission import SealedRecord, parse_sealed, record_version
from service.report.inputs import Issued, PlanEntry
from service.report.public import Change, PublicInput
from service.review import service as review_service

log = logging.getLogger(__name__)

MAX_REASON = 2000


class StaleEdition(Conflict):
    code = "stale_edition"
    message = N_("Someone else changed this public edition after you opened it")


class NotReady(Conflict):
    code = "edition_not_ready"
    message = N_("The public edition cannot take this step now")


# --- reading -----------------------------------------------------------------------------------


def sealed_of(submission: Submission) -> SealedRecord:
    """The submission's version-2 record (a version-1 submission has no public edition: its
    fields are not committed one by one, so a redaction could not be proven)."""
    raw = submission.canonical.encode("utf-8")
    if record_version(raw) != 2:
        raise NotReady("This submission was sealed before public editions; resubmit it first")
    return parse_sealed(raw)


def accepted_submission(
    session: Session, viewer: Viewer, assessment: Assessment
) -> Submission | None:
    """The submission a public edition is of: the latest, once accepted."""
    if assessment.status != AssessmentStatus.accepted:
        return None
    return assessment_service.get_submission(
        session=session, assessment_id=assessment.id, viewer=viewer
    )


def edition_of(session: Session, submission: Submission) -> PublicEdition | None:
    return session.exec(
        select(PublicEdition).where(PublicEdition.submission_id == submission.id)
    ).first()


@dataclass(frozen=True)
class ItemRow:
    """One withholdable field on the preparation form."""

    index: int
    path: str
    question_id: str
    question: str
    kind: str  # answer | evidence | document
    text: str  # the full text (only shown behind sign-in)
    publish: bool
    reason: str  # key, "" when none chosen
    default_publish: bool


def decision_of(edition: PublicEdition | None, item: core.Item) -> tuple[bool, str]:
    chosen = (edition.decisions if edition else {}).get(item.path)
    if isinstance(chosen, dict):
        return bool(chosen.get("publish")), str(chosen.get("reason") or "")
    return item.default_publish, ""


def item_rows(
    questionnaire: Questionnaire,
    sealed: SealedRecord,
    edition: PublicEdition | None,
    lang: str,
) -> list[ItemRow]:
    index = questionnaire.question_index()
    rows = []
    for n, item in enumerate(core.items(questionnaire, sealed)):
        publish, reason = decision_of(edition, item)
        field = sealed.fields.get(item.path)
        value: Any = field.value if field is not None else ""
        if item.kind == "document" and isinstance(value, dict):
            text = str(value.get("name", ""))
        else:
            text = str(value)
        question = index.get(item.question_id)
        rows.append(
            ItemRow(
                index=n,
                path=item.path,
                question_id=item.question_id,
                question=localize(question.text, lang) if question else item.question_id,
                kind=item.kind,
                text=text,
                publish=publish,
                reason=reason,
                default_publish=item.default_publish,
            )
        )
    return rows


def reasons_offered(
    questionnaire: Questionnaire, submission: Submission
) -> list[WithholdingReason]:
    result = Result.model_validate(submission.result)
    return core.reasons_for(questionnaire, core.regime_of(questionnaire, result.facts))


def withheld_of(
    questionnaire: Questionnaire, sealed: SealedRecord, edition: PublicEdition
) -> dict[str, str]:
    """path -> reason key of every item the edition withholds."""
    out = {}
    for item in core.items(questionnaire, sealed):
        publish, reason = decision_of(edition, item)
        if not publish:
            out[item.path] = reason
    return out


def problems_of(
    questionnaire: Questionnaire,
    submission: Submission,
    sealed: SealedRecord,
    edition: PublicEdition,
) -> list[tuple[str, str]]:
    """(path, message) for each withheld item without a reason from the offered list."""
    offered = {r.key for r in reasons_offered(questionnaire, submission)}
    return [
        (path, N_("Choose the reason this item is withheld"))
        for path, reason in withheld_of(questionnaire, sealed, edition).items()
        if reason not in offered
    ]


# --- changing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the preparation form posts: each item's choice, and the next review date."""

    decisions: Mapping[str, tuple[bool, str]]  # path -> (publish, reason key)
    next_review: date | None


def _regulator_of(viewer: Viewer, agency: Organisation) -> Organisation:
    org = viewer.organisation
    if org is None or org.kind != OrgKind.regulator:
        raise Forbidden()
    if not access.oversees(org, agency):
        raise NotFound()
    return org


def _load(
    session: Session, viewer: Viewer, assessment_id: uuid.UUID
) -> tuple[Assessment, Organisation, Submission]:
    assessment, agency = assessment_service.get_visible(
        session=session, viewer=viewer, assessment_id=assessment_id
    )
    submission = accepted_submission(session, viewer, assessment)
    if submission is None:
        raise NotReady("Only an accepted assessment has a public edition")
    return assessment, agency, submission


def _tell(
    session: Session, users: list[uuid.UUID], kind: NoticeKind, assessment: Assessment
) -> None:
    """A notice about the public edition (its program and the edition's page: no content)."""
    notice_service.notify_many(
        session,
        users,
        kind,
        {"program": assessment.program, "link": f"/assessments/{assessment.id}/public-edition"},
    )


def _check_version(edition: PublicEdition | None, expected: int | None) -> None:
    current = edition.version if edition is not None else 0
    if expected is None or expected != current:
        raise StaleEdition()


def _apply(
    questionnaire: Questionnaire,
    submission: Submission,
    edition: PublicEdition,
    proposal: Proposal,
) -> list[str]:
    """Set the edition's decisions from ``proposal``; the paths whose choice changed."""
    sealed = sealed_of(submission)
    known = {i.path: i for i in core.items(questionnaire, sealed)}
    unknown = sorted(set(proposal.decisions) - set(known))
    if unknown:
        raise Unprocessable("Some fields are not acceptable")
    offered = {r.key for r in reasons_offered(questionnaire, submission)}
    decisions: dict[str, Any] = {}
    changed = []
    for path, item in known.items():
        before = decision_of(edition, item)
        publish, reason = proposal.decisions.get(path, before)
        reason = "" if publish else (reason if reason in offered else "")
        decisions[path] = {"publish": publish, "reason": reason}
        if (publish, reason) != before:
            changed.append(path)
    edition.decisions = decisions  # a new dict: JSON columns are replaced, never changed in place
    edition.next_review = proposal.next_review
    return changed


def save(
    *,
    session: Session,
    viewer: Viewer,
    questionnaire: Questionnaire,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    proposal: Proposal,
    propose: bool,
) -> PublicEdition:
    """The officer saves the edition (a draft, or sent back), and with ``propose`` sends it to
    the regulator (refused while a withheld item has no reason)."""
    policy.check(viewer.user, Permission.public_prepare)
    try:
        with db.writing(session):
            assessment, agency, submission = _load(session, viewer, assessment_id)
            if assessment.organisation_id != (
                viewer.organisation.id if viewer.organisation else None
            ):
                raise Forbidden()
            edition = edition_of(session, submission)
            _check_version(edition, expected_version)
            if edition is not None and edition.status not in (EditionStatus.draft,):
                raise NotReady()
            if edition is None:
                edition = PublicEdition(
                    assessment_id=assessment.id,
                    submission_id=submission.id,
                    organisation_id=agency.id,
                )
            changed = _apply(questionnaire, submission, edition, proposal)
            if propose:
                problems = problems_of(questionnaire, submission, sealed_of(submission), edition)
                if problems:
                    raise Unprocessable(
                        "Some fields are not acceptable",
                        errors=[{"loc": [p], "msg": m} for p, m in problems],
                    )
                edition.status = EditionStatus.proposed
                edition.proposed_at = utcnow()
                edition.note = ""
                _tell(
                    session,
                    notice_service.overseeing_reviewers(session, agency),
                    NoticeKind.public_edition_proposed,
                    assessment,
                )
            session.add(edition)
            session.flush()
            auth_service.audit(
                session,
                action="public_edition_proposed" if propose else "public_edition_saved",
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                edition=str(edition.id),
                submission=submission.number,
                changed=changed,
                withheld=len(withheld_of(questionnaire, sealed_of(submission), edition)),
            )
    except (StaleDataError, IntegrityError) as error:
        raise StaleEdition() from error
    return edition


def _reviewer_edition(
    session: Session, viewer: Viewer, assessment_id: uuid.UUID, expected_version: int | None
) -> tuple[Assessment, Organisation, Submission, PublicEdition]:
    policy.check(viewer.user, Permission.public_release)
    assessment, agency, submission = _load(session, viewer, assessment_id)
    _regulator_of(viewer, agency)
    edition = edition_of(session, submission)
    if edition is None:
        raise NotReady()
    _check_version(edition, expected_version)
    return assessment, agency, submission, edition


def _clear_pdfs(session: Session, edition: PublicEdition) -> None:
    for row in session.exec(
        select(PublicEditionPdf).where(PublicEditionPdf.edition_id == edition.id)
    ):
        session.delete(row)


def _required(text: str, field: str, message: str) -> str:
    """A text the regulator must give (why it sends back or withdraws), stripped."""
    text = text.strip()
    if not text:
        raise Unprocessable(
            "Some fields are not acceptable", errors=[{"loc": [field], "msg": message}]
        )
    return text


def send_back(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    note: str,
) -> PublicEdition:
    """The regulator sends a proposed edition back to the officer, saying why."""
    note = _required(note, "note", N_("Say what the agency should change"))
    try:
        with db.writing(session):
            assessment, _agency, submission, edition = _reviewer_edition(
                session, viewer, assessment_id, expected_version
            )
            if edition.status != EditionStatus.proposed:
                raise NotReady()
            edition.status = EditionStatus.draft
            edition.note = note[:MAX_REASON]
            session.add(edition)
            _tell(
                session,
                notice_service.agency_officers(session, assessment.organisation_id),
                NoticeKind.public_edition_sent_back,
                assessment,
            )
            auth_service.audit(
                session,
                action="public_edition_returned",
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                edition=str(edition.id),
                submission=submission.number,
            )
    except (StaleDataError, IntegrityError) as error:
        raise StaleEdition() from error
    return edition


def release(
    *,
    session: Session,
    viewer: Viewer,
    questionnaire: Questionnaire,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    proposal: Proposal | None = None,
) -> PublicEdition:
    """The regulator releases a proposed edition (it becomes public), or, with ``proposal``,
    changes a released one (audited as a change; the PDFs are made again)."""
    try:
        with db.writing(session):
            assessment, agency, submission, edition = _reviewer_edition(
                session, viewer, assessment_id, expected_version
            )
            regulator = _regulator_of(viewer, agency)
            changed: list[str] = []
            if proposal is not None:
                if edition.status not in (EditionStatus.proposed, EditionStatus.released):
                    raise NotReady()
                changed = _apply(questionnaire, submission, edition, proposal)
            elif edition.status != EditionStatus.proposed:
                raise NotReady()
            problems = problems_of(questionnaire, submission, sealed_of(submission), edition)
            if problems:
                raise Unprocessable(
                    "Some fields are not acceptable",
                    errors=[{"loc": [p], "msg": m} for p, m in problems],
                )
            now = utcnow()
            was_released = edition.status == EditionStatus.released
            if was_released:
                edition.changed_at = now
            else:
                edition.status = EditionStatus.released
                edition.released_at = now
                edition.released_by_id = viewer.user.id
                _tell(
                    session,
                    notice_service.agency_officers(session, assessment.organisation_id),
                    NoticeKind.public_edition_released,
                    assessment,
                )
            edition.regulator_id = regulator.id
            edition.note = ""
            session.add(edition)
            _clear_pdfs(session, edition)
            auth_service.audit(
                session,
                action="public_edition_changed" if was_released else "public_edition_released",
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                edition=str(edition.id),
                submission=submission.number,
                changed=changed,
                withheld=len(withheld_of(questionnaire, sealed_of(submission), edition)),
            )
    except (StaleDataError, IntegrityError) as error:
        raise StaleEdition() from error
    return edition


def withdraw(
    *,
    session: Session,
    viewer: Viewer,
    assessment_id: uuid.UUID,
    expected_version: int | None,
    reason: str,
) -> PublicEdition:
    """The regulator withdraws a released edition: it stays public, saying when and why."""
    reason = _required(reason, "reason", N_("Say why the record is withdrawn"))
    try:
        with db.writing(session):
            assessment, _agency, submission, edition = _reviewer_edition(
                session, viewer, assessment_id, expected_version
            )
            if edition.status != EditionStatus.released:
                raise NotReady()
            edition.status = EditionStatus.withdrawn
            edition.withdrawn_at = utcnow()
            edition.withdrawal_reason = reason[:MAX_REASON]
            session.add(edition)
            _clear_pdfs(session, edition)
            auth_service.audit(
                session,
                action="public_edition_withdrawn",
                actor_id=viewer.user.id,
                assessment_id=assessment.id,
                edition=str(edition.id),
                submission=submission.number,
                reason=edition.withdrawal_reason,
            )
    except (StaleDataError, IntegrityError) as error:
        raise StaleEdition() from error
    return edition


# --- the public records ------------------------------------------------------------------------

PUBLISHED = (EditionStatus.released, EditionStatus.withdrawn)


@dataclass(frozen=True)
class PublishedRow:
    edition: PublicEdition
    assessment: Assessment
    agency: Organisation
    regulator: Organisation | None
    submission: Submission


def published(
    session: Session,
    *,
    query: str = "",
    regulator_id: uuid.UUID | None = None,
    agency_id: uuid.UUID | None = None,
    include_withdrawn: bool = True,
) -> list[PublishedRow]:
    """The released (and withdrawn) records, newest first, filtered."""
    statuses = PUBLISHED if include_withdrawn else (EditionStatus.released,)
    stmt = (
        select(PublicEdition, Assessment, Organisation, Submission)
        .join(Assessment, col(Assessment.id) == col(PublicEdition.assessment_id))
        .join(Organisation, col(Organisation.id) == col(PublicEdition.organisation_id))
        .join(Submission, col(Submission.id) == col(PublicEdition.submission_id))
        .where(col(PublicEdition.status).in_(statuses))
        .order_by(col(PublicEdition.released_at).desc())
    )
    if regulator_id is not None:
        stmt = stmt.where(PublicEdition.regulator_id == regulator_id)
    if agency_id is not None:
        stmt = stmt.where(PublicEdition.organisation_id == agency_id)
    text = query.strip()[:100]
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(col(Assessment.program)).like(like),
                func.lower(col(Organisation.name_en)).like(like),
                func.lower(col(Organisation.name_fr)).like(like),
            )
        )
    rows = list(session.exec(stmt))
    regulators = {
        r.id: r
        for r in session.exec(
            select(Organisation).where(
                col(Organisation.id).in_(
                    sorted({e.regulator_id for e, *_ in rows if e.regulator_id})
                )
            )
        )
    }
    return [
        PublishedRow(e, a, o, regulators.get(e.regulator_id) if e.regulator_id else None, s)
        for e, a, o, s in rows
    ]


# The public register as open data (docs/open-data.md, "The public register"): one row per
# published record, withdrawn ones included and said so. Column -> label (English and French in
# the companion labels file); values are codes (rating), dates YYYY-MM-DD, names in the language
# asked for.
REGISTER_FORMAT = "policygap-register/1"
REGISTER_COLUMNS: dict[str, str] = {
    "record_id": N_("Record"),
    "agency": N_("Agency"),
    "regulator": N_("Regulator"),
    "program": N_("Program"),
    "questionnaire_id": N_("Questionnaire"),
    "questionnaire_version": N_("Questionnaire version"),
    "rating": N_("Rating"),
    "score": N_("Overall score"),
    "gaps": N_("Gaps"),
    "released_on": N_("Released on"),
    "status": N_("Status"),
    "withdrawn_on": N_("Withdrawn on"),
    "withdrawal_reason": N_("Reason for withdrawal"),
    "url": N_("Address"),
}


def register_rows(rows: Iterable[PublishedRow], lang: str, base_url: str) -> list[dict[str, Any]]:
    """The register's rows: what the public list shows, in stable columns."""
    out = []
    for row in rows:
        result = row.submission.result or {}
        withdrawn = row.edition.status == EditionStatus.withdrawn
        out.append(
            {
                "record_id": str(row.edition.id),
                "agency": row.agency.name(lang),
                "regulator": row.regulator.name(lang) if row.regulator else "",
                "program": row.assessment.program,
                "questionnaire_id": row.assessment.questionnaire_id,
                "questionnaire_version": row.assessment.questionnaire_version,
                "rating": result.get("rating", ""),
                "score": result.get("score"),
                "gaps": len(result.get("gaps", [])),
                "released_on": _day(row.edition.released_at),
                "status": "withdrawn" if withdrawn else "released",
                "withdrawn_on": _day(row.edition.withdrawn_at) if withdrawn else "",
                "withdrawal_reason": row.edition.withdrawal_reason if withdrawn else "",
                "url": f"{base_url}/public/{row.edition.id}?lang={lang}",
            }
        )
    return out


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""


def filters(session: Session) -> tuple[list[Organisation], list[Organisation]]:
    """The regulators and agencies that have a published record (for the list's filters)."""
    rows = published(session)
    regulators = {r.regulator.id: r.regulator for r in rows if r.regulator is not None}
    agencies = {r.agency.id: r.agency for r in rows}
    return (
        sorted(regulators.values(), key=lambda o: o.name_en),
        sorted(agencies.values(), key=lambda o: o.name_en),
    )


def published_one(session: Session, record_id: uuid.UUID) -> PublishedRow:
    """One released or withdrawn record (404 for anything else: nothing is public before it
    is released)."""
    edition = session.get(PublicEdition, record_id)
    if edition is None or edition.status not in PUBLISHED:
        raise NotFound()
    assessment = session.get_one(Assessment, edition.assessment_id)
    agency = session.get_one(Organisation, edition.organisation_id)
    regulator = session.get(Organisation, edition.regulator_id) if edition.regulator_id else None
    submission = session.get_one(Submission, edition.submission_id)
    return PublishedRow(edition, assessment, agency, regulator, submission)


CHANGE_OF = {
    "submit": "submitted",
    "return": "returned",
    "accept": "accepted",
    "public_edition_released": "released",
    "public_edition_changed": "changed",
    "public_edition_withdrawn": "withdrawn",
}


def changes(session: Session, assessment_id: uuid.UUID) -> tuple[Change, ...]:
    """The record's change log: submits, decisions and the public edition's steps (no names)."""
    events = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.assessment_id == assessment_id,
            col(AuditEvent.action).in_(list(CHANGE_OF)),
        )
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    out = []
    for event in events:
        detail = event.detail or {}
        number = detail.get("submission", detail.get("number"))
        out.append(
            Change(
                at=event.at.date(),
                what=CHANGE_OF[event.action],
                number=number if isinstance(number, int) else 0,
            )
        )
    return tuple(out)


def live_plan(session: Session, submission: Submission) -> tuple[PlanEntry, ...]:
    """The action of each gap as it stands now (no owner: a person's name is not published)."""
    result = Result.model_validate(submission.result)
    rows = {
        r.criterion_id: r
        for r in session.exec(
            select(RemediationAction).where(
                RemediationAction.assessment_id == submission.assessment_id
            )
        )
    }
    return tuple(
        PlanEntry(
            criterion_id=cid,
            target_date=rows[cid].target_date if cid in rows else None,
            status=(rows[cid].status if cid in rows else ActionStatus.todo).value,
        )
        for cid in result.gaps
    )


def public_input(
    session: Session,
    registry: Registry,
    row: PublishedRow,
    *,
    issued: Issued | None = None,
    now: datetime | None = None,
) -> PublicInput:
    """What the record is made from: the redacted sealed record and its context."""
    edition, submission = row.edition, row.submission
    questionnaire = registry.get(
        row.assessment.questionnaire_id, row.assessment.questionnaire_version
    )
    if questionnaire is None:
        raise NotFound()
    sealed = sealed_of(submission)
    redacted = core.redact(questionnaire, sealed, withheld_of(questionnaire, sealed, edition))
    decided = review_service.decision(session=session, submission=submission)
    regulator = row.regulator
    return PublicInput(
        questionnaire=questionnaire,
        sealed=redacted,
        result=Result.model_validate(submission.result),
        record_id=str(edition.id),
        regulator={"en": regulator.name_en, "fr": regulator.name_fr} if regulator else {},
        agency={"en": row.agency.name_en, "fr": row.agency.name_fr},
        decided_at=decided.review.decided_at if decided.review else None,
        next_review=edition.next_review,
        plan=live_plan(session, submission),
        plan_as_at=(now or datetime.now(UTC)).replace(microsecond=0),
        released_at=edition.released_at,
        withdrawn_at=edition.withdrawn_at,
        withdrawal_reason=edition.withdrawal_reason,
        changes=changes(session, row.assessment.id),
        issued=issued,
    )


# --- the PDFs ------------------------------------------------------------------------------------


def _render(inp: PublicInput, lang: str, signer: Any) -> bytes:
    from service.report.public import render_public_pdf

    return render_public_pdf(inp, lang, signer=signer)


def _make_pdf(
    session: Session,
    registry: Registry,
    settings: Settings,
    resources: jobs.Resources,
    row: PublishedRow,
    lang: str,
) -> bytes:
    """Render the record's PDF in ``lang`` in the render process, signed, and keep it."""
    from service.report_delivery import service as delivery

    signer = delivery.instance_identity(session, settings)
    now = datetime.now(UTC).replace(microsecond=0)
    inp = public_input(session, registry, row, issued=Issued(instance=signer.name, at=now), now=now)
    edition_id = row.edition.id
    session.rollback()  # no read transaction held open during the render
    child = delivery.renderer(resources, settings)
    data: bytes = child.call(_render, inp, lang, signer, timeout=settings.report_timeout_seconds)
    try:
        with db.writing(session):
            if session.get(PublicEditionPdf, (edition_id, lang)) is None:
                session.add(PublicEditionPdf(edition_id=edition_id, language=lang, pdf=data))
    except IntegrityError:
        log.info("public edition PDF stored by another process")
    return data


def pdf(app: FastAPI, session: Session, registry: Registry, row: PublishedRow, lang: str) -> bytes:
    """The record's signed PDF in ``lang``: made once (in the render process, by the job queued
    at release or now) and kept until the edition changes."""
    found = session.get(PublicEditionPdf, (row.edition.id, lang))
    if found is not None:
        return found.pdf
    return _make_pdf(session, registry, app.state.settings, app.state.job_resources, row, lang)


RENDER_TASK = "render_public_edition"


@jobs.task(RENDER_TASK)
def render_public_edition(ctx: jobs.JobContext, *, edition_id: str, lang: str) -> None:
    """The job after a release or a change: make the record's PDF in ``lang`` (nothing to do
    when it is made already, or the record is no longer released)."""
    with db.new_session(ctx.engine) as session:
        try:
            row = published_one(session, uuid.UUID(edition_id))
        except NotFound:
            return
        if row.edition.status != EditionStatus.released:
            return
        if session.get(PublicEditionPdf, (row.edition.id, lang)) is not None:
            return
        registry = load_directory(Path(ctx.settings.questionnaires_dir))
        _make_pdf(session, registry, ctx.settings, ctx.resources, row, lang)
        log.info("public edition %s (%s) rendered", edition_id, lang)


def prerender(app: FastAPI, edition: PublicEdition) -> None:
    """Queue the record's PDFs (both languages) after a release or a change."""
    if not app.state.settings.report_prerender:
        return
    queue: jobs.Queue = app.state.jobs
    for lang in ("en", "fr"):
        queue.defer(
            RENDER_TASK,
            key=f"public:{edition.id}:{edition.version}:{lang}",
            edition_id=str(edition.id),
            lang=lang,
        )
