"""The version-2 canonical record: per-field salted commitments, the root hash, redaction."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest

from service.questionnaire.answers import Answers
from service.questionnaire.submission import (
    FORMAT_V2,
    DocumentRef,
    build_submission,
    canonical_json,
    commitment,
    field_values,
    parse_sealed,
    record_version,
    root_of,
    seal,
)

ZERO = bytes(16)


def _record() -> object:
    return build_submission(
        questionnaire_id="web-mini",
        questionnaire_version="1.0",
        questionnaire_sha256="a" * 64,
        as_of=date(2026, 11, 26),
        agency="Agency A",
        program="Mugshot search",
        answers=Answers(
            values={"pia_done": "yes", "uses": ["live"], "searches": 10, "owner": ""},
            evidence={"pia_done": "PIA v2, 2026", "uses": "  "},
        ),
        number=2,
        submitted_at=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        documents={
            "pia_done": [
                DocumentRef(name="pia.pdf", size=10, sha256="b" * 64, media_type="application/pdf")
            ]
        },
    )


def _salts(path: str) -> bytes:
    return hashlib.sha256(path.encode()).digest()[:16]


def test_commitment_is_salt_path_nul_canonical_value() -> None:
    # computed by hand from the definition, not by the module
    expected = hashlib.sha256(ZERO + b"agency" + b"\x00" + b'"Agency A"').hexdigest()
    assert commitment(ZERO, "agency", "Agency A") == expected
    listed = hashlib.sha256(ZERO + b"answers/uses\x00" + b'["live"]').hexdigest()
    assert commitment(ZERO, "answers/uses", ["live"]) == listed
    # the salt and the path both change the commitment
    assert commitment(bytes([1]) + ZERO[1:], "agency", "Agency A") != expected
    assert commitment(ZERO, "program", "Agency A") != expected


def test_root_is_the_hash_of_the_sorted_commitments() -> None:
    commitments = {"b": "2" * 64, "a": "1" * 64}
    text = (
        '{"commitments":{"a":"'
        + "1" * 64
        + '","b":"'
        + "2" * 64
        + '"},"format":"'
        + FORMAT_V2
        + '"}'
    )
    assert root_of(commitments) == hashlib.sha256(text.encode()).hexdigest()


def test_fields_cover_identity_answers_notes_and_documents() -> None:
    paths = list(field_values(_record()))  # type: ignore[arg-type]
    assert paths == sorted(paths)
    assert set(paths) == {
        "agency",
        "answers/pia_done",
        "answers/searches",
        "answers/uses",
        "as_of",
        "documents/pia_done/1",
        "evidence/pia_done",
        "number",
        "program",
        "questionnaire_id",
        "questionnaire_sha256",
        "questionnaire_version",
        "submitted_at",
    }


def test_seal_round_trips_to_the_same_record() -> None:
    record = _record()
    sealed = seal(record, salt=_salts)  # type: ignore[arg-type]
    back = parse_sealed(sealed.canonical())
    assert back == sealed
    assert canonical_json(back.record()) == canonical_json(record)  # type: ignore[arg-type]
    assert record_version(sealed.canonical()) == 2
    assert record_version(canonical_json(record)) == 1  # type: ignore[arg-type]
    assert record_version(b"not json") == 0


def test_redacted_copy_has_the_same_root_and_hides_the_value() -> None:
    sealed = seal(_record(), salt=_salts)  # type: ignore[arg-type]
    public = sealed.withholding({"evidence/pia_done": "s. 14(1)(c) FIPPA, law enforcement"})
    assert public.root() == sealed.root()
    text = public.canonical().decode()
    assert "PIA v2, 2026" not in text
    assert _salts("evidence/pia_done").hex() not in text
    assert "s. 14(1)(c) FIPPA" in text
    assert "evidence/pia_done" not in public.record().evidence


def test_a_changed_clear_value_changes_the_root() -> None:
    sealed = seal(_record(), salt=_salts)  # type: ignore[arg-type]
    data = json.loads(sealed.canonical())
    data["fields"]["answers/pia_done"]["value"] = "no"
    forged = parse_sealed(json.dumps(data).encode())
    assert forged.root() != sealed.root()


def test_identity_fields_cannot_be_withheld_and_salts_are_16_bytes() -> None:
    sealed = seal(_record(), salt=_salts)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="identity fields"):
        sealed.withholding({"agency": "no reason"})
    with pytest.raises(ValueError, match="no such disclosed field"):
        sealed.withholding({"answers/nope": "x"})
    with pytest.raises(ValueError, match="16 bytes"):
        seal(_record(), salt=lambda _path: b"short")  # type: ignore[arg-type]
