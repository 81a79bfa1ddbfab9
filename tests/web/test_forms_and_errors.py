"""Validation errors follow the public-sector pattern: 422, summary, message, input kept."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import World, csrf_from, login, parse, post_form, start_assessment


def test_section_errors_rerender_with_summary_and_kept_input(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = post_form(
        client,
        base + "/sections/scope",
        base + "/sections/scope",
        {
            "body_type": "municipal",
            "uses": ["live", "nonsense"],
            "searches": "lots",
            "description": "<b>kept</b>",
            "action": "continue",
        },
    )
    assert r.status_code == 422
    page = parse(r.text)
    assert page.title.startswith("Error: ")
    assert page.summary_links == ["uses", "searches"]  # page order
    assert all(link in page.ids for link in page.summary_links)
    assert "Select only the options shown" in r.text
    assert "Enter a number, like 150" in r.text
    assert 'id="searches-error"' in r.text
    checked = [i for i in page.inputs["body_type"] if "checked" in i]
    assert checked
    assert checked[0]["value"] == "municipal"
    assert [i["value"] for i in page.inputs["searches"]] == ["lots"]
    assert page.textareas["description"] == "<b>kept</b>"
    assert "<b>kept</b>" not in r.text  # escaped


def test_number_range_and_date_messages(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = post_form(
        client,
        base + "/sections/scope",
        base + "/sections/scope",
        {"searches": "-3", "action": "continue"},
    )
    assert r.status_code == 422
    assert "Enter a number between 0 and 1000000" in r.text
    r = post_form(
        client,
        base + "/sections/governance",
        base + "/sections/governance",
        {"pia_done": "yes", "pia_date": "2024-02-30", "action": "continue"},
    )
    assert r.status_code == 422
    assert "Enter a real date in the format YYYY-MM-DD" in r.text


def test_hidden_question_input_is_not_an_error(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = post_form(
        client,
        base + "/sections/governance",
        base + "/sections/governance",
        {"pia_done": "no", "pia_date": "garbage", "action": "continue"},
    )
    assert r.status_code == 303


def test_blank_answers_save_in_progress(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = post_form(client, base + "/sections/scope", base + "/sections/scope", {"action": "later"})
    assert r.status_code == 303
    assert r.headers["location"] == base + "/?notice=saved"
    tasks = client.get(r.headers["location"])
    assert "Your answers have been saved" in tasks.text
    assert "In progress" in tasks.text


def test_completed_needs_required_answers(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = post_form(
        client, base + "/sections/scope/check", base + "/sections/scope/check", {"completed": "yes"}
    )
    assert r.status_code == 422
    assert "Answer every required question before you mark this section as completed" in r.text
    r = post_form(client, base + "/sections/scope/check", base + "/sections/scope/check", {})
    assert r.status_code == 422
    assert "Select whether you have completed this section" in r.text
    assert parse(r.text).summary_links == ["completed"]


def test_overall_check_redirects_until_all_completed(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    r = client.get(base + "/check-your-answers", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == base + "/"
    r = post_form(client, base + "/", base + "/check-your-answers", {})
    assert r.status_code == 303
    assert r.headers["location"] == base + "/"


def test_start_requires_program_and_questionnaire(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    page = client.get("/assessments/new")
    r = client.post("/assessments/", data={"csrf_token": csrf_from(page.text), "program": " "})
    assert r.status_code == 422
    parsed = parse(r.text)
    assert parsed.title.startswith("Error: ")
    assert parsed.summary_links == ["questionnaire", "program"]


def test_change_link_returns_to_overall_check(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    post_form(
        client,
        base + "/sections/scope",
        base + "/sections/scope",
        {"body_type": "federal", "uses": "live", "searches": "3", "action": "continue"},
    )
    post_form(
        client, base + "/sections/scope/check", base + "/sections/scope/check", {"completed": "yes"}
    )
    post_form(
        client,
        base + "/sections/governance",
        base + "/sections/governance",
        {"pia_done": "no", "action": "continue"},
    )
    post_form(
        client,
        base + "/sections/governance/check",
        base + "/sections/governance/check",
        {"completed": "yes"},
    )
    overall = client.get(base + "/check-your-answers")
    assert f'href="{base}/sections/scope?return=all#searches"' in overall.text
    r = post_form(
        client,
        base + "/sections/scope?return=all",
        base + "/sections/scope?return=all",
        {"body_type": "federal", "uses": "live", "searches": "4", "action": "continue"},
    )
    assert r.headers["location"] == base + "/check-your-answers"
    assert "Completed" in client.get(base + "/").text


def test_visibility_endpoint_answers_for_the_script(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = start_assessment(client)
    token = csrf_from(client.get(base + "/sections/governance").text)
    shown = client.post(
        base + "/sections/governance/visibility", data={"csrf_token": token, "pia_done": "yes"}
    )
    assert shown.json() == {"visible": ["owner", "pia_date", "pia_done"]}
    hidden = client.post(
        base + "/sections/governance/visibility", data={"csrf_token": token, "pia_done": "no"}
    )
    assert hidden.json() == {"visible": ["owner", "pia_done"]}
    assert (
        client.post(base + "/sections/governance/visibility", data={"pia_done": "yes"}).status_code
        == 403
    )
