"""Request dependencies as ``Annotated`` aliases: database session, settings, registry, visitor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service import db
from service.config import Settings
from service.questionnaire.loader import Registry


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One database session per request; use cases commit through ``db.writing``.

    Trivial dependencies are ``async def`` so they do not each take a trip to the thread pool
    (about 0.2 ms each); those that touch the database stay ``def``. Opening a session does no
    I/O. Closing one ends its transaction: on SQLite that is a call of a few microseconds, done
    here; on a database server it is a round trip, done in the thread pool."""
    session = db.new_session(request.app.state.engine)
    try:
        yield session
    finally:
        if db.is_sqlite(session):
            session.close()
        else:
            await run_in_threadpool(session.close)


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SessionDep = Annotated[Session, Depends(get_db)]
