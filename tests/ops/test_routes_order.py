"""The app's routers are ordered for speed (the busiest pages first: routes are matched one
after another); the order must never let one route hide another. For every route, a path made
from its own pattern reaches that route."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match

from service.main import create_app
from tests.conftest import make_settings

SAMPLE_ID = "0b7e1c2e-0000-4000-8000-000000000001"


def _in_order(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes as the app tries them: an included router's routes where it was included."""
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is not None:
            yield from _in_order(inner)
        else:
            yield route


def _sample(path: str) -> str:
    return re.sub(
        r"\{(\w+)(:\w+)?\}",
        lambda m: SAMPLE_ID if m.group(1).endswith("id") else "sample-value",
        path,
    )


def _first_match(routes: list[BaseRoute], method: str, path: str) -> BaseRoute | None:
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    return next((r for r in routes if r.matches(scope)[0] == Match.FULL), None)


def test_every_route_is_reached_by_a_path_of_its_own_pattern(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    routes = list(_in_order(app.router.routes))
    api_routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(api_routes) > 100  # the walk sees into the included routers
    hidden = [
        f"{method} {route.path} -> {getattr(found, 'path', found)}"
        for route in api_routes
        for method in sorted(route.methods - {"HEAD"})
        if (found := _first_match(routes, method, _sample(route.path))) is not route
    ]
    assert hidden == []


@pytest.mark.parametrize("busy", ["show_section", "save_section"])
def test_the_section_page_and_its_save_are_in_the_first_router(sqlite_url: str, busy: str) -> None:
    app = create_app(make_settings(sqlite_url))
    first = next(r for r in app.router.routes if hasattr(r, "original_router"))
    names = {getattr(r, "name", None) for r in first.original_router.routes}  # type: ignore[attr-defined]
    assert busy in names
