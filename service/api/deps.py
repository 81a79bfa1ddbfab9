"""What every API route takes: the viewer (the owner of the personal API token, with their
organisation) and the optimistic-locking header."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Header

from service.auth import policy
from service.auth.deps import ApiUser
from service.auth.policy import Permission
from service.auth.principal import Viewer
from service.deps import SessionDep
from service.errors import PreconditionFailed, PreconditionRequired
from service.models import Organisation, User


def get_viewer(user: ApiUser, session: SessionDep) -> Viewer:
    organisation = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    return Viewer(user=user, organisation=organisation)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def require(permission: Permission) -> Any:
    """A dependency of an API route: the token's user must hold ``permission`` (403 if not).

    ``dependencies=[require(Permission.X)]``; the token is looked up once per request however
    many dependencies ask for it, and the route's ``permission`` is there for the access tests.
    """

    def holds(user: ApiUser) -> User:
        policy.check(user, permission)
        return user

    holds.permission = permission  # type: ignore[attr-defined]
    return Depends(holds)


IfMatch = Annotated[str | None, Header(description='The version you read, as its ETag: "3"')]


class Versioned(Protocol):
    version: int


def required_version(if_match: str | None, record: Versioned) -> int:
    """The version named by ``If-Match`` (428 without one, 412 when it is not the record's)."""
    if not if_match:
        raise PreconditionRequired()
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or int(text) != record.version:
        raise PreconditionFailed(current_version=record.version)
    return int(text)
