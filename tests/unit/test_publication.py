"""The public edition's redaction rule (core): what can be withheld, where each item starts,
which reasons are offered, and that a redacted copy scores as the full record does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from service.questionnaire import publication
from service.questionnaire.answers import Answers, AnswersFile
from service.questionnaire.loader import load_directory
from service.questionnaire.schema import Questionnaire
from service.questionnaire.scoring import score
from service.questionnaire.submission import DocumentRef, build_submission, seal

ROOT = Path(__file__).parent.parent.parent
SALT = bytes(range(16))


@pytest.fixture(scope="module")
def frt() -> Questionnaire:
    q = load_directory(ROOT / "questionnaires").get("frt-police-canada", "1.1.0")
    assert q is not None
    return q


def _sealed(q: Questionnaire) -> object:
    record = build_submission(
        questionnaire_id=q.id,
        questionnaire_version=q.version,
        questionnaire_sha256=q.sha256,
        as_of=date(2026, 11, 1),
        agency="Northvale Police Service",
        program="Mugshot search",
        answers=Answers(
            values={
                "operator_type": "police_agency",
                "body_type": "municipal_regional",
                "province": "on",
                "constituting_statute": "Community Safety and Policing Act, 2019",
                "probe_rules": "full",
                "policy_published": "full",
            },
            evidence={
                "probe_rules": "Probe thresholds 0.92",
                "policy_published": "Policy on the website",
            },
        ),
        documents={
            "probe_rules": [
                DocumentRef(
                    name="probe.pdf", size=10, sha256="b" * 64, media_type="application/pdf"
                )
            ]
        },
    )
    return seal(record, salt=lambda _p: SALT)


def test_only_free_text_is_withholdable(frt: Questionnaire) -> None:
    assert publication.withholdable(frt, "answers/constituting_statute")  # a text question
    assert publication.withholdable(frt, "evidence/probe_rules")
    assert publication.withholdable(frt, "documents/probe_rules/1")
    assert not publication.withholdable(frt, "answers/probe_rules")  # a choice: verdicts read it
    assert not publication.withholdable(frt, "agency")
    sealed = _sealed(frt)
    with pytest.raises(ValueError, match="only free text"):
        publication.redact(frt, sealed, {"answers/probe_rules": "mfippa-8-1-c"})  # type: ignore[arg-type]


def test_items_start_as_the_question_says_and_withheld_when_it_says_nothing(
    frt: Questionnaire,
) -> None:
    items = {i.path: i for i in publication.items(frt, _sealed(frt))}  # type: ignore[arg-type]
    assert items["evidence/policy_published"].default_publish  # publication: publish
    assert items["answers/constituting_statute"].default_publish
    assert not items["evidence/probe_rules"].default_publish  # no publication key: withheld
    assert not items["documents/probe_rules/1"].default_publish
    assert "answers/policy_published" not in items


def test_reasons_offered_follow_the_regime_fact(frt: Questionnaire) -> None:
    keys = {r.key for r in publication.reasons_for(frt, "on_mfippa")}
    assert "mfippa-8-1-c" in keys
    assert "fippa-14-1-c" not in keys
    assert "atia-16-2" not in keys
    assert {r.key for r in publication.reasons_for(frt, "federal_pa")} >= {"atia-16-2"}
    assert len(publication.reasons_for(frt, None)) == len(frt.public_edition.reasons)
    assert publication.regime_of(frt, {"regime": "on_mfippa"}) == "on_mfippa"


def test_every_shipped_reason_says_how_far_its_number_was_checked(frt: Questionnaire) -> None:
    for reason in frt.public_edition.reasons:
        assert reason.reference is not None, reason.key
        assert reason.reference.verification is not None, reason.key
        assert reason.reference.note, reason.key


def test_a_redacted_copy_keeps_the_root_and_scores_as_the_full_record(frt: Questionnaire) -> None:
    sealed = _sealed(frt)
    redacted = publication.redact(
        frt,
        sealed,  # type: ignore[arg-type]
        {
            "evidence/probe_rules": "mfippa-8-1-c",
            "documents/probe_rules/1": "mfippa-8-1-c",
            "answers/constituting_statute": "mfippa-14-1",
        },
    )
    assert redacted.root() == sealed.root()  # type: ignore[attr-defined]
    assert "Probe thresholds" not in redacted.canonical().decode()


def test_northvale_with_every_note_withheld_scores_as_submitted(frt: Questionnaire) -> None:
    """Criteria that need evidence read the notes for their presence only: a copy with every
    note withheld scores as the full record (the placeholder), and would not without it."""
    data = AnswersFile.model_validate(
        yaml.safe_load((ROOT / "questionnaires/examples/ta6-northvale.yaml").read_text())
    )
    record = build_submission(
        questionnaire_id=frt.id,
        questionnaire_version=frt.version,
        questionnaire_sha256=frt.sha256,
        as_of=data.as_of or date(2026, 11, 1),
        agency=data.agency,
        program=data.program or "",
        answers=data.to_answers(),
    )
    sealed = seal(record, salt=lambda _p: SALT)
    withheld = {p: "mfippa-8-1-c" for p in sealed.fields if p.startswith("evidence/")}
    assert len(withheld) > 20
    redacted = publication.redact(frt, sealed, withheld)
    assert redacted.root() == sealed.root()
    before = score(frt, record.to_answers(), as_of=record.as_of)
    after = score(frt, publication.scoring_record(redacted).to_answers(), as_of=record.as_of)
    assert (after.rating, after.score, after.gaps) == (before.rating, before.score, before.gaps)
    bare = score(frt, redacted.record().to_answers(), as_of=record.as_of)
    assert (bare.score, bare.gaps) != (before.score, before.gaps)
