"""Who may do what: one pure table, role x permission, in the style of the workflow table.

A page or endpoint states the permission it needs (``check(user, Permission.X)`` in a page,
``service.api.deps.require(Permission.X)`` as a dependency of an API route); the layout's navigation reads the
same table (``permissions_of``). The table says only what a role may do at all: which records a
user may see (their own agency, the agencies their regulator oversees...) is decided in
``service.auth.scope`` and the features' services, which answer 404 for what is hidden.

The contributor reads and answers only the questions assigned to them (``ASSIGNED_ONLY``:
the assessments service narrows what they see and change to their assignments), adds evidence
to those, and cannot submit, read the result, assign, import or archive.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from service.errors import Forbidden
from service.models import OrgKind, Role, User


class Permission(StrEnum):
    assessment_start = "assessment.start"  # start an assessment, or a reassessment of one
    assessment_read = "assessment.read"
    assessment_edit = "assessment.edit"  # answers, section status, import
    assessment_submit = "assessment.submit"
    # the whole assessment, not only a part assigned: check your answers, history, export,
    # archive, submissions, the result preview
    assessment_read_all = "assessment.read_all"
    assessment_import = "assessment.import"  # import answers or an archive into a draft
    assessment_assign = "assessment.assign"  # give sections or questions to colleagues
    report_read = "report.read"  # the result page, the report in HTML and PDF
    report_export = "report.export"  # a submission as open data: OSCAL, findings JSON and CSV
    documents_upload = "documents.upload"  # attach, remove and import evidence documents
    review_read = "review.read"  # the inbox and the review page
    review_decide = "review.decide"  # return or accept, save a review draft
    review_portfolio = "review.portfolio"
    board_read = "board.read"  # the board's list and summaries of accepted assessments
    actions_read = "actions.read"  # an assessment's action plan, and its exports
    actions_edit = "actions.edit"  # owner, target date, status and note of an action
    actions_comment = "actions.comment"  # the regulator's comment on an action
    admin_organisations = "admin.organisations"
    admin_accounts = "admin.accounts"  # accounts, and which roles need a second factor
    admin_questionnaires = "admin.questionnaires"  # versions offered, loading problems, upload
    questionnaire_review = "questionnaire.review"  # preview an uploaded draft, approve it
    admin_audit = "admin.audit"
    account_tokens = "account.tokens"  # personal API tokens
    public_prepare = "public.prepare"  # the agency prepares an accepted submission's public edition
    public_release = "public.release"  # the regulator releases, changes or withdraws it
    notices = "notices"  # the user's own notices and which of them come by e-mail


P = Permission
_EVERYONE = frozenset(
    {P.assessment_read, P.assessment_read_all, P.report_read, P.account_tokens, P.notices}
)

TABLE: MappingProxyType[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.officer: _EVERYONE
        | {
            P.assessment_start,
            P.assessment_edit,
            P.assessment_submit,
            P.assessment_import,
            P.assessment_assign,
            P.documents_upload,
            P.actions_read,
            P.actions_edit,
            P.report_export,
            P.public_prepare,
        },
        Role.contributor: frozenset(
            {P.assessment_read, P.assessment_edit, P.documents_upload, P.notices}
        ),
        Role.reviewer: _EVERYONE
        | {
            P.review_read,
            P.review_decide,
            P.review_portfolio,
            P.actions_read,
            P.actions_comment,
            P.report_export,
            P.questionnaire_review,
            P.public_release,
        },
        Role.board: _EVERYONE | {P.board_read, P.actions_read},
        Role.admin: _EVERYONE
        | {
            P.actions_read,
            P.review_read,
            P.review_portfolio,
            P.report_export,
            P.admin_organisations,
            P.admin_accounts,
            P.admin_questionnaires,
            P.questionnaire_review,
            P.admin_audit,
        },
    }
)


# Roles that reach only the parts of an assessment assigned to them (``Assignment``): an
# assessment with nothing assigned to them is hidden (404), a question not assigned refused.
ASSIGNED_ONLY: frozenset[Role] = frozenset({Role.contributor})


class Reach(StrEnum):
    """Whose records a role reaches (``service.auth.scope`` and the services apply it)."""

    own_agency = "own_agency"  # the user's agency
    board_agency = "board_agency"  # the agency the user's board oversees (accepted records)
    overseen_agencies = "overseen_agencies"  # those the user's regulator oversees (submitted)
    every_agency = "every_agency"


REACH: MappingProxyType[Role, Reach] = MappingProxyType(
    {
        Role.officer: Reach.own_agency,
        Role.contributor: Reach.own_agency,
        Role.reviewer: Reach.overseen_agencies,
        Role.board: Reach.board_agency,
        Role.admin: Reach.every_agency,
    }
)

# The kind of organisation an account of each role belongs to (None: any, or none).
ORGANISATION_KIND: MappingProxyType[Role, OrgKind | None] = MappingProxyType(
    {
        Role.officer: OrgKind.agency,
        Role.contributor: OrgKind.agency,
        Role.reviewer: OrgKind.regulator,
        Role.board: OrgKind.board,
        Role.admin: None,
    }
)


def _role(role: Role | str | None) -> Role | None:
    if role is None or isinstance(role, Role):
        return role
    try:
        return Role(role)
    except ValueError:
        return None


def permissions_of(role: Role | str | None) -> frozenset[Permission]:
    """Everything ``role`` may do (nothing for no role or an unknown one)."""
    known = _role(role)
    return TABLE.get(known, frozenset()) if known is not None else frozenset()


def allowed(role: Role | str | None, permission: Permission) -> bool:
    return permission in permissions_of(role)


def reach_of(role: Role | str) -> Reach | None:
    known = _role(role)
    return REACH.get(known) if known is not None else None


def assigned_only(role: Role | str | None) -> bool:
    """Whether ``role`` reads and changes only what is assigned to it."""
    return _role(role) in ASSIGNED_ONLY


def check(user: User | None, permission: Permission) -> None:
    """Forbidden (403) unless ``user``'s role holds ``permission``."""
    if user is None or not allowed(user.role, permission):
        raise Forbidden()
