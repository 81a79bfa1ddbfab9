"""Browser tests: Debian's chromium driven by Playwright, against a real uvicorn server.

Browsers cannot be downloaded on our machines, so the plugin's launch arguments point at the
system chromium. Without chromium the tests skip, unless POLICYGAP_REQUIRE_E2E=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service import db
from tests.builders import World, make_world, server

SCREENSHOTS = Path(__file__).parent / "screenshots"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _chromium() is not None:
        return
    if os.environ.get("POLICYGAP_REQUIRE_E2E") == "1":
        return  # the launch fixture fails loudly instead
    skip = pytest.mark.skip(reason="chromium is not installed (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = _chromium()
    if executable is None:
        pytest.fail("chromium is required (POLICYGAP_REQUIRE_E2E=1) but not installed")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """A server on a fresh SQLite database with one user per role."""
    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite3"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    engine = db.make_engine(url)
    world = make_world(engine)
    engine.dispose()
    SCREENSHOTS.mkdir(exist_ok=True)
    with server(url) as (base, _proc):
        yield base, world


@pytest.fixture(scope="session")
def base_url(live: tuple[str, World]) -> str:
    """Replaces pytest-base-url's fixture (deprecated form under pytest 9)."""
    return live[0]
