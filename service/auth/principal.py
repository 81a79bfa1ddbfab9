"""Who is asking: a signed-in user with their organisation (access depends on both)."""

from __future__ import annotations

from dataclasses import dataclass

from service.models import Organisation, User


@dataclass(frozen=True)
class Viewer:
    """The user asking, with their organisation (access depends on both)."""

    user: User
    organisation: Organisation | None
