"""The questionnaire format: Pydantic models for one YAML file.

Every model forbids unknown fields. Human-readable strings are `LocalizedText`: a plain string
or a map of language code to text. Conditions are strings in the language of `expr.py`; the
loader parses them and checks every name they use.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictStr,
    ValidationInfo,
    model_validator,
)

from service.questionnaire.versions import version_key

SNAKE_ID = r"^[a-z][a-z0-9_]*$"
CRITERION_ID = r"^[A-Z]{3}-\d{2}$"
SOURCE_KEY = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

# Limits of the format (questionnaires/README.md, "Limits"). The shipped questionnaire stays
# well inside them: its longest title is 238 characters, its longest other text 465, its
# longest condition 121, its deepest condition 2 levels.
MAX_ID = 64  # ids, option values, source keys
MAX_SHORT_TEXT = 500  # titles, labels, issuers: per language
MAX_LONG_TEXT = 5_000  # every other text (text, guidance, requirement, ...): per language
MAX_PLAIN = 1_000
MAX_CONDITION = 2_000  # characters of one condition (its depth: expr.MAX_DEPTH)  # other plain strings: a reference's section, a source's url or date
MAX_WEIGHT = 1_000.0
MAX_NUMBER = 1e15  # min and max of a number question, either sign
MAX_TEXT_ANSWER = 100_000  # max_length of a text question

Weight = Annotated[
    float,
    Field(strict=True, gt=0, le=MAX_WEIGHT, allow_inf_nan=False),
]
Bound = Annotated[
    float,
    Field(strict=True, ge=-MAX_NUMBER, le=MAX_NUMBER, allow_inf_nan=False),
]
Snake = Annotated[StrictStr, Field(pattern=SNAKE_ID, max_length=MAX_ID)]

Language = Literal["en", "fr"]
LocalizedText = StrictStr | dict[StrictStr, StrictStr]
Condition = Annotated[
    StrictStr,
    Field(description='A condition, e.g. `body_type == "municipal" and live_use == "yes"`'),
]


def localize(value: LocalizedText | None, lang: str, fallback: str = "en") -> str:
    """The text of `value` in `lang`, else in the fallback language, else any language."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get(fallback) or next(iter(value.values()), "")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Verification(StrEnum):
    verified = "verified"
    secondary = "secondary"
    unverified = "unverified"


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"

    @property
    def rank(self) -> int:
        """0 for critical, 1 high, 2 medium, 3 low: sorting by rank puts the most severe first."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}
DEFAULT_WEIGHTS = {
    Severity.critical: 8.0,
    Severity.high: 4.0,
    Severity.medium: 2.0,
    Severity.low: 1.0,
}


class Verdict(StrEnum):
    met = "met"
    partial = "partial"
    not_met = "not_met"
    dont_know = "dont_know"
    unanswered = "unanswered"
    not_applicable = "not_applicable"
    # Due only at a later stage (e.g. before launch: a public report, an audit): shown with its
    # reason and listed in the report's before-launch checklist, but not scored (like not
    # applicable it leaves the score), never a gap, and no gate fires on it.
    not_yet_due = "not_yet_due"

    @property
    def is_gap(self) -> bool:
        """A gap: partial, not met, don't know or unanswered; met, not applicable and not yet
        due are not."""
        return self in _GAPS

    @property
    def is_scored(self) -> bool:
        """Counts in the score: every verdict but not applicable and not yet due."""
        return self not in _UNSCORED


_GAPS = frozenset({Verdict.partial, Verdict.not_met, Verdict.dont_know, Verdict.unanswered})
_UNSCORED = frozenset({Verdict.not_applicable, Verdict.not_yet_due})


class Rating(StrEnum):
    red = "red"
    amber = "amber"
    green = "green"

    @property
    def rank(self) -> int:
        """0 for red, 1 amber, 2 green: a gate caps a rating to the lower rank."""
        return _RATING_RANK[self]


_RATING_RANK = {r: i for i, r in enumerate(Rating)}


class QuestionType(StrEnum):
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    yes_no = "yes_no"
    text = "text"
    long_text = "long_text"
    number = "number"
    date = "date"


CHOICE_TYPES = {QuestionType.single_choice, QuestionType.multiple_choice, QuestionType.yes_no}


class Source(Model):
    """A guideline document or statute that questions and criteria cite by key."""

    key: Annotated[StrictStr, Field(pattern=SOURCE_KEY, max_length=MAX_ID)]
    title: LocalizedText
    issuer: LocalizedText | None = None
    date: LocalizedText | None = Field(
        default=None, description="Publication or in-force date, free form (text or {en:, fr:})"
    )
    url: StrictStr | None = None
    verification: Verification = Verification.unverified
    note: LocalizedText | None = None


class Reference(Model):
    """A citation: a source key, the section within it, and how far it has been checked."""

    source: StrictStr
    section: StrictStr | None = None
    verification: Verification | None = Field(
        default=None, description="Defaults to the source's own verification tag"
    )
    note: LocalizedText | None = Field(
        default=None, description='A qualifier such as "via the CAI page" or what the source says'
    )
    in_force: date | None = Field(
        default=None,
        description="The date the cited provision took effect (the version of the law a finding "
        'rests on; the report prints "FIPPA s. 38(3), in force 2025-07-01")',
    )
    until: date | None = Field(
        default=None, description="The last day the cited provision was in force (repealed after)"
    )


class Option(Model):
    value: Snake
    label: LocalizedText
    hint: LocalizedText | None = None
    dont_know: StrictBool = Field(default=False, description="This option means 'I do not know'")


YES_NO_OPTIONS: tuple[Option, ...] = (
    Option(value="yes", label={"en": "Yes", "fr": "Oui"}),
    Option(value="partly", label={"en": "Partly", "fr": "En partie"}),
    Option(value="no", label={"en": "No", "fr": "Non"}),
    Option(
        value="dont_know", label={"en": "I do not know", "fr": "Je ne sais pas"}, dont_know=True
    ),
)


class Publication(StrEnum):
    """Whether a question's free text starts as proposed for the public edition or withheld."""

    publish = "publish"
    withhold = "withhold"


class Question(Model):
    id: Snake
    type: QuestionType
    text: LocalizedText
    hint: LocalizedText | None = None
    guidance: LocalizedText | None = Field(
        default=None, description="What the guidance expects and what counts as evidence"
    )
    references: list[Reference] = Field(default_factory=list, description="The law behind it")
    options: list[Option] = Field(default_factory=list)
    partly: StrictBool = Field(default=True, description="yes_no only: offer 'Partly'")
    required: StrictBool = True
    visible_if: Condition | None = None
    evidence: StrictBool = Field(default=True, description="Offer an evidence note")
    context_only: StrictBool = Field(
        default=False, description="Asked for context; no criterion or fact needs to read it"
    )
    min: Bound | None = Field(default=None, description="number only: the smallest answer")
    max: Bound | None = Field(default=None, description="number only: the largest answer")
    max_length: Annotated[int, Field(strict=True, gt=0, le=MAX_TEXT_ANSWER)] | None = Field(
        default=None, description="text and long_text only: the longest answer"
    )
    publication: Publication | None = Field(
        default=None,
        description="The public edition's starting proposal for this question's free text (a "
        "text answer, its evidence note and its documents): publish or withhold. Absent: "
        "withhold. The agency's officer can change it for each item; verdicts and choice "
        "answers are always public",
    )

    def choices(self) -> tuple[Option, ...]:
        if self.type is QuestionType.yes_no:
            if self.partly:
                return YES_NO_OPTIONS
            return tuple(o for o in YES_NO_OPTIONS if o.value != "partly")
        return tuple(self.options)

    def option_values(self) -> set[str]:
        return {o.value for o in self.choices()}

    def dont_know_values(self) -> set[str]:
        return {o.value for o in self.choices() if o.dont_know}

    @property
    def text_limit(self) -> int:
        if self.max_length is not None:
            return self.max_length
        return 10_000 if self.type is QuestionType.long_text else 1_000


class Section(Model):
    id: Snake
    title: LocalizedText
    description: LocalizedText | None = None
    questions: list[Question] = Field(min_length=1)


FactValue = StrictStr | StrictBool

# The date a dated rule is judged by: the assessment's date, or the answer to a date question.
AS_OF = "as_of"


class Dated(Model):
    """The date window of a dated rule (a fact row, an escalation, a case or a whole criterion):
    the rule holds only while the date it is judged by falls in [in_force, until]."""

    in_force: date | None = Field(
        default=None,
        description="The first day the rule holds (the day the law it rests on took effect); "
        "needs judged_by",
    )
    until: date | None = Field(
        default=None,
        description="The last day the rule holds (the law was repealed or replaced after it); "
        "needs judged_by",
    )
    judged_by: StrictStr | None = Field(
        default=None,
        max_length=MAX_ID,
        description='Which date decides whether the rule is in force: "as_of" (the assessment '
        "date: ongoing duties and the regime itself) or the id of a date question (e.g. the "
        "first-use date: duties that bind before collection or launch). A hidden date question "
        "(the event has not happened yet) is judged on as_of; a shown but unanswered one leaves "
        "the date unknown and the rule does not hold. Needs in_force or until",
    )


class FactRow(Dated):
    when: Condition
    value: FactValue
    references: list[Reference] = Field(
        default_factory=list,
        description="The law this row rests on (with its in_force date): printed beside the "
        "fact's value in the report when this row decides it",
    )


class Fact(Model):
    """A value derived from answers by a decision table: the first row whose `when` holds."""

    id: Snake
    label: LocalizedText
    description: LocalizedText | None = None
    values: dict[StrictStr, LocalizedText] = Field(
        default_factory=dict,
        description="The values this fact can take, with their labels (checked in conditions)",
    )
    table: list[FactRow] = Field(min_length=1)
    default: FactValue
    show_in_report: StrictBool = True


class Escalation(Dated):
    when: Condition
    to: Severity
    reason: LocalizedText | None = None
    references: list[Reference] = Field(
        default_factory=list,
        description="The law the escalation rests on (with its in_force date): cited with the "
        "finding when the escalation applies",
    )


class Case(Dated):
    when: Condition
    verdict: Verdict
    reason: LocalizedText | None = Field(
        default=None, description="Why, for not_applicable and not_yet_due"
    )


class Rule(Model):
    """How a criterion is decided.

    Either `answer` (one question; yes/partly/no/don't know map to met/partial/not met/don't
    know, or the values given in `map`), or `cases` tried in order with `otherwise` last.
    """

    answer: StrictStr | None = None
    map: dict[StrictStr, Verdict] = Field(default_factory=dict)
    cases: list[Case] = Field(default_factory=list)
    otherwise: Verdict = Verdict.not_met


class Criterion(Dated):
    """A criterion. Its own in_force / until / judged_by make the whole criterion dated: while
    the date it is judged by is outside the window (and it applies), the verdict is not
    applicable, with `not_in_force_reason` (or a generated reason)."""

    id: Annotated[StrictStr, Field(pattern=CRITERION_ID)]
    section: StrictStr
    title: LocalizedText
    requirement: LocalizedText
    severity: Severity
    escalate: list[Escalation] = Field(default_factory=list)
    weight: Weight | None = Field(default=None, description="Defaults to the severity's weight")
    applies_if: Condition | None = None
    not_applicable_reason: LocalizedText | None = None
    not_yet_due_if: Condition | None = Field(
        default=None,
        description="When it holds (and the criterion applies), the verdict is not_yet_due: "
        "shown, not scored, listed in the before-launch checklist",
    )
    not_yet_due_reason: LocalizedText | None = None
    not_in_force_reason: LocalizedText | None = Field(
        default=None, description="Why it is not applicable while it is not in force"
    )
    rule: Rule
    evidence_required: StrictBool = False
    evidence_from: list[StrictStr] = Field(
        default_factory=list, description="Questions whose evidence counts; default: those read"
    )
    recommendation: LocalizedText | None = None
    references: list[Reference] = Field(default_factory=list)


class Band(Model):
    min_score: Annotated[float, Field(strict=True, ge=0, le=100, allow_inf_nan=False)]
    rating: Rating


class Gate(Model):
    """Caps the rating when a criterion of these severities has one of these verdicts."""

    id: Snake
    label: LocalizedText
    cap: Rating
    severities: list[Severity] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    incomplete: StrictBool = Field(default=False, description="Fires when answers are incomplete")


# The verdicts that fire the default gates: the gaps, except partial (a partly met critical
# criterion lowers the score but does not cap the rating on its own). Not yet due is no gap:
# no gate fires on it (the loader refuses a gate that lists it).
GATE_VERDICTS = [v for v in Verdict if v.is_gap and v is not Verdict.partial]


def default_bands() -> list[Band]:
    return [
        Band(min_score=80, rating=Rating.green),
        Band(min_score=50, rating=Rating.amber),
        Band(min_score=0, rating=Rating.red),
    ]


def default_gates() -> list[Gate]:
    return [
        Gate(
            id="critical_gap",
            label={
                "en": "A critical criterion is not met, unknown or unanswered",
                "fr": "Un critère critique n'est pas respecté, est inconnu ou sans réponse",
            },
            cap=Rating.red,
            severities=[Severity.critical],
            verdicts=GATE_VERDICTS,
        ),
        Gate(
            id="high_gap",
            label={
                "en": "A high-severity criterion is not met, unknown or unanswered",
                "fr": "Un critère de gravité élevée n'est pas respecté, est inconnu ou sans réponse",
            },
            cap=Rating.amber,
            severities=[Severity.high],
            verdicts=GATE_VERDICTS,
        ),
        Gate(
            id="incomplete",
            label={
                "en": "The assessment is incomplete",
                "fr": "L'évaluation est incomplète",
            },
            cap=Rating.amber,
            incomplete=True,
        ),
    ]


class RatingScheme(Model):
    bands: list[Band] = Field(default_factory=default_bands, min_length=1)
    gates: list[Gate] = Field(default_factory=default_gates)

    def bands_from_top(self) -> list[Band]:
        """The bands, highest `min_score` first."""
        return sorted(self.bands, key=lambda b: b.min_score, reverse=True)

    def band_of(self, score: float) -> Rating:
        """The rating of the band a score falls in: the band with the highest `min_score` not
        above it (below every band: the lowest band)."""
        bands = self.bands_from_top()
        return next((b.rating for b in bands if score >= b.min_score), bands[-1].rating)


_T = TypeVar("_T")


class ReportWords(Model):
    """The report's words that depend on what the questionnaire assesses (each optional: the
    report's general words are used without it)."""

    keywords: LocalizedText | None = Field(
        default=None,
        description="The PDF's keywords, e.g. 'privacy, facial recognition, gap report'",
    )
    advisory_banner: LocalizedText | None = Field(
        default=None, description="The banner on every page of an advisory result (see advisory_if)"
    )
    facts_heading: LocalizedText | None = Field(
        default=None,
        description="The heading of the derived facts ('Applicable law and derived facts')",
    )
    summary_intro: LocalizedText | None = Field(
        default=None, description="The first paragraph of the summary for the board"
    )


OptionTarget = StrictStr | list[StrictStr]


class WithholdingReason(Model):
    """A statutory reason to withhold an item from the public edition, e.g. a law-enforcement
    exemption of an access-to-information act, for the regimes it belongs to."""

    key: Annotated[StrictStr, Field(pattern=SOURCE_KEY, max_length=MAX_ID)]
    label: LocalizedText = Field(
        description='What the public edition prints: "Withheld: <label>", e.g. '
        '"FIPPA s. 14(1)(c), law enforcement (investigative techniques)"'
    )
    regimes: list[StrictStr] = Field(
        default_factory=list,
        description="The values of the public edition's regime fact this reason is offered for "
        "(empty: every regime)",
    )
    reference: Reference | None = Field(
        default=None, description="The provision, with how far its text has been checked"
    )


class PublicEditionWords(Model):
    """What the public edition needs from the questionnaire (questionnaires/README.md,
    "The public edition")."""

    regime_fact: Snake | None = Field(
        default=None,
        description="The fact whose value names the privacy regime; it chooses which withholding "
        "reasons are offered (all when absent or not derived)",
    )
    reasons: list[WithholdingReason] = Field(
        default_factory=list, description="The statutory reasons an item can be withheld for"
    )
    summary_questions: list[Snake] = Field(
        default_factory=list,
        description="Questions whose answers the first page shows: what the program is, what it "
        "may and may not be used for",
    )
    detail_questions: list[Snake] = Field(
        default_factory=list,
        description="Questions the detail shows as answered under their own heading: named "
        "recipients, retention, human review of matches, accuracy and bias testing",
    )


class CarriedQuestion(Model):
    """How one question of this version takes its answer from the previous version."""

    id: Snake = Field(description="The question in this version")
    was: Snake | None = Field(
        default=None,
        description="The question of the previous version whose answer it takes (default: the "
        "same id, for options renamed or split)",
    )
    options: dict[StrictStr, OptionTarget] | None = Field(
        default=None,
        description="Old option value -> new option value (a list of values splits it, for a "
        "multiple_choice question); an old value not listed is not carried (the question needs "
        "an answer again). Without options, answers carry as they are when still valid",
    )


class AnswerMapping(Model):
    """How answers given under a previous version map to this one. A question of this version
    with the id of a previous-version question carries its answer unchanged by default."""

    version: StrictStr = Field(description="The previous version these answers were given under")
    questions: list[CarriedQuestion] = Field(
        default_factory=list,
        description="Questions renamed, or whose options were renamed or split",
    )
    removed: list[Snake] = Field(
        default_factory=list,
        description="Questions of the previous version whose answers carry to no question",
    )
    new: list[Snake] = Field(
        default_factory=list,
        description="Questions of this version that take no answer from the previous version "
        "(new, or with the same id but a new meaning)",
    )


class Questionnaire(Model):
    id: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    version: StrictStr
    title: LocalizedText
    description: LocalizedText | None = None
    languages: list[Language] = Field(default_factory=lambda: list[Language](["en"]), min_length=1)
    sources: list[Source] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)
    facts: list[Fact] = Field(default_factory=list)
    criteria: list[Criterion] = Field(min_length=1)
    rating: RatingScheme = Field(default_factory=RatingScheme)
    advisory_if: Condition | None = Field(
        default=None, description="When it holds, the result is advisory (body outside scope)"
    )
    advisory_note: LocalizedText | None = None
    report: ReportWords = Field(default_factory=ReportWords)
    inherent_risk: StrictStr | None = Field(
        default=None, description="The fact that holds the inherent-risk level of the deployment"
    )
    answers_from: list[AnswerMapping] = Field(
        default_factory=list,
        description="For previous versions: how their answers carry to this version "
        "(questionnaires/README.md, 'Carrying answers forward')",
    )
    public_edition: PublicEditionWords = Field(
        default_factory=PublicEditionWords,
        description="The withholding reasons and the questions the public edition shows first",
    )

    # The SHA-256 of the file's bytes, given to validation by the loader as
    # `model_validate(data, context={"sha256": ...})`; and what is derived from the model once
    # (the compiled program), kept with it by `derived`.
    _sha256: str = PrivateAttr(default="")
    _derived: dict[str, object] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _take_sha256(self, info: ValidationInfo) -> Questionnaire:
        context = info.context
        if isinstance(context, dict) and isinstance(context.get("sha256"), str):
            self._sha256 = context["sha256"]
        return self

    @property
    def sha256(self) -> str:
        """The SHA-256 of the file it was loaded from ("" when not loaded from a file).

        `registry.LoadedQuestionnaire.sha256` is the same value; this property stays so the
        many callers that hold only the model can read it."""
        return self._sha256

    def derived(self, name: str, build: Callable[[Questionnaire], _T]) -> _T:
        """`build(self)`, computed once per model and kept with it (the model is frozen)."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]  # type: ignore[return-value]

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question_index(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions()}

    def section_of(self) -> dict[str, str]:
        return {q.id: s.id for s in self.sections for q in s.questions}

    def source_index(self) -> dict[str, Source]:
        return {s.key: s for s in self.sources}

    def answers_from_version(self, version: str) -> AnswerMapping | None:
        """The declared mapping from a previous version (1.0 and 1.0.0 are the same version)."""
        key = version_key(version)
        return next((m for m in self.answers_from if version_key(m.version) == key), None)


def json_schema() -> dict[str, object]:
    """The JSON Schema of the questionnaire format (committed as questionnaires/schema.json)."""
    schema = Questionnaire.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "PolicyGap questionnaire"
    return schema
