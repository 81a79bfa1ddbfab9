"""The board's summary in French: "Cote : ...", "Écarts : 1", "GOV-01 : ..." with a no-break
space before each colon (it wrote "Cote: ..." in both languages)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.builders import World, csrf_from, login
from tests.review.helpers import GOOD, decide, submitted

NBSP = "\u00a0"


def test_board_summary_in_french_puts_a_no_break_space_before_colons(
    client: TestClient, world: World, app: object
) -> None:
    engine = app.state.engine  # type: ignore[attr-defined]
    aid = submitted(engine, world.officer_a, {**GOOD, "pia_done": "no"}, program="FR program")
    decide(engine, world.reviewer_on, aid, "accept", {"GOV-01": "Needs a PIA"})
    login(client, world.board_a.email)
    english = client.get(f"/board/{aid}").text
    assert "Gaps: <strong>1</strong>" in english
    client.post(
        "/language",
        data={"csrf_token": csrf_from(client.get("/board/").text), "lang": "fr", "next": "/"},
    )
    page = client.get(f"/board/{aid}")
    assert page.status_code == 200
    card = page.text.split('<div class="summary-card">', 1)[1].split("</div>", 1)[0]
    assert f"Cote{NBSP}:" in card
    assert f"Écarts{NBSP}: <strong>1</strong>" in card
    assert f"<li>GOV-01{NBSP}: " in page.text  # a critical gap
    assert f"<strong>GOV-01</strong>{NBSP}: Needs a PIA" in page.text  # a comment
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    text = re.sub(r"<[^>]+>", "", main)
    assert re.findall(rf"[^{NBSP}\s/]:\s", text) == []  # no "mot: valeur" left
