"""Section pages live under /assessments/{id}/sections/{slug}; their old addresses redirect."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.builders import World, csrf_from, login, start_assessment, version_from

OLD_TO_NEW = [
    ("/scope", "/sections/scope"),
    ("/scope/check", "/sections/scope/check"),
    ("/governance/documents", "/sections/governance/documents"),
    ("/governance/visibility", "/sections/governance/visibility"),
]


@pytest.mark.parametrize(("old", "new"), OLD_TO_NEW)
def test_old_section_urls_redirect_keeping_the_query(
    client: TestClient, world: World, old: str, new: str
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    got = client.get(base + old + "?return=all", follow_redirects=False)
    assert got.status_code == 301
    assert got.headers["location"] == base + new + "?return=all"
    posted = client.post(base + old, data={"x": "1"}, follow_redirects=False)
    assert posted.status_code == 308  # the browser sends the form again, to the new address
    assert posted.headers["location"] == base + new


def test_a_form_posted_to_an_old_section_url_is_saved(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    page = client.get(base + "/sections/scope")
    form = {"csrf_token": csrf_from(page.text), "version": version_from(page.text)}
    form |= {"body_type": "federal", "uses": "live", "searches": "3", "action": "continue"}
    r = client.post(base + "/scope", data=form)  # 308, the form again, then 303 to the check
    assert r.status_code == 200
    assert str(r.url).endswith(base + "/sections/scope/check")
    assert "Federal police" in r.text


def test_pages_of_an_assessment_are_not_section_redirects(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    assert client.get(base + "/history", follow_redirects=False).status_code == 200
    assert client.get(base + "/scope/nonsense", follow_redirects=False).status_code == 404
    assert client.get(base + "/sections/nonsense", follow_redirects=False).status_code == 404
