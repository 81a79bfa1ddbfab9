"""Request dependencies as ``Annotated`` aliases: database session, settings, registry, visitor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
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


@asynccontextmanager
async def request_session(request: Request) -> AsyncIterator[Session]:
    """One database session for a request; use cases commit through ``db.writing``.

    Opening a session does no I/O. Closing one that still has a transaction open is a database
    call, made in the thread pool; pages end theirs as soon as they are rendered
    (``templating.render``), so for them the close is plain Python, done on the event loop."""
    session = db.new_session(request.app.state.engine)
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):  # a cancelled request still returns its connection
                await run_in_threadpool(session.close)
        else:
            session.close()


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's database session (``request_session``).

    Trivial dependencies are ``async def`` so they do not each take a trip to the thread pool
    (about 0.2 ms each); those that touch the database stay ``def``."""
    async with request_session(request) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SessionDep = Annotated[Session, Depends(get_db)]
