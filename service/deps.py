"""Request dependencies as ``Annotated`` aliases: database session, settings, registry, visitor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from service import db
from service.config import Settings
from service.questionnaire.loader import Registry


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_db(request: Request) -> Iterator[Session]:
    """One database session per request; use cases commit through ``db.writing``.

    Trivial dependencies are ``async def`` so they do not each take a trip to the thread pool;
    those that touch the database stay ``def``."""
    with db.new_session(request.app.state.engine) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SessionDep = Annotated[Session, Depends(get_db)]
