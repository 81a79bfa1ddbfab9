"""The field-by-field judgement of a change made on an earlier version (issue 21), as a table."""

from __future__ import annotations

from typing import Any

import pytest

from service.assessments.models import Assessment
from service.assessments.service import FieldConflict, field_conflicts, fingerprint, read_marks


def _draft(**answers: Any) -> Assessment:
    """Version 3: ``searches`` changed at 2, ``pia_done``'s note at 3, ``body_type`` at 1."""
    return Assessment(
        organisation_id=None,  # type: ignore[arg-type]
        questionnaire_id="q",
        questionnaire_version="1",
        program="P",
        answers={"body_type": "federal", "searches": 10, **answers},
        evidence={"pia_done": "B's binder"},
        version=3,
        changed_in={"body_type": 1, "searches": 2, "evidence-pia_done": 3},
    )


def test_the_current_version_is_never_a_conflict() -> None:
    assert field_conflicts(_draft(), read_version=3, values={"searches": 1}, evidence={}) == set()


@pytest.mark.parametrize(
    ("read_version", "values", "evidence", "conflicts"),
    [
        (2, {"searches": 5}, {}, []),  # searches changed at 2: the reader saw it
        (1, {"searches": 5}, {}, ["searches"]),  # changed since: conflict
        (1, {"body_type": "municipal"}, {}, []),  # another field: no conflict
        (1, {"owner": "x"}, {"pia_done": "mine"}, ["evidence-pia_done"]),
        (2, {}, {"pia_done": None}, ["evidence-pia_done"]),  # clearing it is a change too
        (1, {"searches": 10}, {}, ["searches"]),  # named = set, even to the same value
    ],
)
def test_without_a_form_every_field_named_is_judged_by_its_version(
    read_version: int,
    values: dict[str, Any],
    evidence: dict[str, Any],
    conflicts: list[str],
) -> None:
    draft = _draft()
    if not conflicts:
        field_conflicts(draft, read_version=read_version, values=values, evidence=evidence)
        return
    with pytest.raises(FieldConflict) as raised:
        field_conflicts(draft, read_version=read_version, values=values, evidence=evidence)
    assert raised.value.detail["fields"] == conflicts
    assert raised.value.detail["current_version"] == 3


def test_a_form_sends_back_what_it_read_and_only_its_changes_count() -> None:
    """The section form read ``searches`` blank; someone set it to 10 since. The form sends it
    back blank (the reader did not touch it): kept as saved, no conflict. Had the reader typed
    a number there, it would be a conflict."""
    read = {"searches": fingerprint(None), "body_type": fingerprint("federal")}
    draft = _draft()
    kept = field_conflicts(
        draft,
        read_version=1,
        values={"searches": None, "body_type": "municipal"},
        evidence={},
        read=read,
    )
    assert kept == {"searches"}
    with pytest.raises(FieldConflict) as raised:
        field_conflicts(draft, read_version=1, values={"searches": 7}, evidence={}, read=read)
    assert raised.value.detail["fields"] == ["searches"]
    # a field that could not be read from the form was typed in, so it was changed
    with pytest.raises(FieldConflict):
        field_conflicts(
            draft, read_version=1, values={}, evidence={}, read=read, unparsed=["searches"]
        )


def test_a_version_later_than_the_assessment_is_refused() -> None:
    with pytest.raises(FieldConflict):
        field_conflicts(_draft(), read_version=4, values={"owner": "x"}, evidence={})


def test_fingerprints_ignore_how_a_value_is_written() -> None:
    assert fingerprint(None) == fingerprint("") == fingerprint([]) == fingerprint("  ")
    assert fingerprint(12) == fingerprint(12.0)
    assert fingerprint(["b", "a"]) == fingerprint(["a", "b"])
    assert fingerprint(" text ") == fingerprint("text")
    assert fingerprint("federal") != fingerprint("municipal")
    marks = read_marks(_draft(), ["searches", "pia_done"])
    assert marks.split() == [
        f"searches={fingerprint(10)}",
        f"evidence-searches={fingerprint(None)}",
        f"pia_done={fingerprint(None)}",
        f"evidence-pia_done={fingerprint('B' + chr(39) + 's binder')}",
    ]
