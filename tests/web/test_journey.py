"""The officer's journey with the TestClient: start, sections, check answers, submit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import World, login, parse, post_form, start_assessment


def test_journey_start_to_submit(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    page = client.get(base + "/")
    assert page.status_code == 200
    assert "Not started" in page.text
    assert "Submissions go to: Ipc On" in page.text  # the Ontario regulator, not the federal one

    r = post_form(
        client,
        base + "/sections/scope",
        base + "/sections/scope",
        {
            "body_type": "municipal",
            "uses": ["live", "retrospective"],
            "searches": "1,200",
            "action": "continue",
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == base + "/sections/scope/check"
    check = client.get(base + "/sections/scope/check")
    assert "Municipal police" in check.text
    assert "1200" in check.text
    r = post_form(
        client, base + "/sections/scope/check", base + "/sections/scope/check", {"completed": "yes"}
    )
    assert r.status_code == 303, r.text

    # Answering "yes" reveals the date question: the page comes back to ask it first.
    r = post_form(
        client,
        base + "/sections/governance",
        base + "/sections/governance",
        {
            "pia_done": "yes",
            "evidence-pia_done": "PIA v2, 2021-03-01, records office",
            "action": "continue",
        },
    )
    assert r.status_code == 303
    assert r.headers["location"] == base + "/sections/governance#pia_date"
    r = post_form(
        client,
        base + "/sections/governance",
        base + "/sections/governance",
        {"pia_done": "yes", "pia_date": "2021-03-01", "action": "continue"},
    )
    assert r.headers["location"] == base + "/sections/governance/check"
    r = post_form(
        client,
        base + "/sections/governance/check",
        base + "/sections/governance/check",
        {"completed": "yes"},
    )
    assert r.status_code == 303

    overall = client.get(base + "/check-your-answers")
    assert overall.status_code == 200
    assert "Submit assessment" in overall.text
    # issue 14: the optional questions left unanswered are named, and must be confirmed
    assert "Questions left unanswered: 2" in overall.text
    r = post_form(client, base + "/check-your-answers", base + "/check-your-answers", {})
    assert r.status_code == 422
    assert "Confirm that you submit without answering these questions" in r.text
    r = post_form(
        client, base + "/check-your-answers", base + "/check-your-answers", {"confirm": "yes"}
    )
    assert r.status_code == 303
    assert r.headers["location"] == base + "/submitted"
    done = client.get(base + "/submitted")
    assert "Assessment submitted" in done.text
    assert parse(done.text).title.startswith("Assessment submitted")
