"""Regulator jurisdictions: which agencies' records a user may see. One place, used everywhere.

- A regulator oversees jurisdictions: ``federal`` (federal bodies) and/or province or territory
  codes (``ON``, ``QC``...: the non-federal bodies of that province). Without an explicit list, a
  regulator with no province is the federal commissioner and a provincial one oversees its province.
- An agency may name its regulator explicitly (``Organisation.regulator_id``); then that regulator
  and only that one oversees it, whatever the jurisdictions say.
- By the role's reach (``policy.REACH``): officers and contributors their own agency; board
  members the agency the board is attached to; reviewers the agencies their regulator oversees;
  admins every agency (``None`` = no restriction).

Issue 6 (inbox, review, portfolio, exports, API) calls ``visible_agency_ids`` /
``can_see_agency``; keep these signatures stable.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from service.auth import policy
from service.auth.policy import Reach
from service.models import BodyType, Organisation, OrgKind, User

FEDERAL = "federal"
PROVINCES = ("AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT")
JURISDICTIONS = (FEDERAL, *PROVINCES)


def jurisdiction_of(agency: Organisation) -> str | None:
    """``federal`` for a federal body, else its province or territory code (None if unknown)."""
    if agency.body_type == BodyType.federal.value:
        return FEDERAL
    return agency.province


def jurisdictions_of(regulator: Organisation) -> frozenset[str]:
    """The jurisdictions a regulator oversees (explicit list, else from its province)."""
    explicit = regulator.jurisdictions or []
    if explicit:
        return frozenset(explicit)
    return frozenset({regulator.province or FEDERAL})


def regulator_oversees(regulator: Organisation | None, agency: Organisation) -> bool:
    """Whether ``regulator`` receives ``agency``'s submissions (pure: no database access)."""
    if regulator is None or regulator.kind != OrgKind.regulator.value:
        return False
    if agency.kind != OrgKind.agency.value:
        return False
    if agency.regulator_id is not None:
        return agency.regulator_id == regulator.id
    where = jurisdiction_of(agency)
    return where is not None and where in jurisdictions_of(regulator)


def regulators_for(session: Session, agency: Organisation) -> list[Organisation]:
    """The regulators that receive this agency's submissions (shown to the officer)."""
    query = select(Organisation).where(Organisation.kind == OrgKind.regulator.value)
    return [r for r in session.exec(query) if regulator_oversees(r, agency)]


def visible_agency_ids(session: Session, user: User) -> set[uuid.UUID] | None:
    """The ids of the agencies whose records ``user`` may see; ``None`` means every agency.

    An inactive user or one without an organisation sees none. Reviewers see agencies their
    regulator oversees (whether the records are submitted is checked by the caller).
    """
    if not user.active:
        return set()
    reach = policy.reach_of(user.role)
    if reach is Reach.every_agency:
        return None
    if reach is None or user.organisation_id is None:
        return set()
    org = session.get(Organisation, user.organisation_id)
    if org is None:
        return set()
    if reach is Reach.own_agency:
        return {org.id} if org.kind == OrgKind.agency.value else set()
    if reach is Reach.board_agency:
        if org.kind == OrgKind.board.value and org.agency_id is not None:
            return {org.agency_id}
        return set()
    if org.kind != OrgKind.regulator.value:
        return set()
    agencies = session.exec(select(Organisation).where(Organisation.kind == OrgKind.agency.value))
    return {a.id for a in agencies if regulator_oversees(org, a)}


def can_see_agency(session: Session, user: User, agency_id: uuid.UUID) -> bool:
    """Whether ``user`` may see the records of the agency ``agency_id``."""
    visible = visible_agency_ids(session, user)
    return visible is None or agency_id in visible
