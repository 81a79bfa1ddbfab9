"""Report fixtures: each case is rendered once per session (PDF and HTML) and shared.

A case is a questionnaire, an answers file and a language. The fixture questionnaire under
`tests/report/data/` is always there; the shipped questionnaire's sample agencies are rendered
under 1.0.0 (their 1.0.0 answer files, `tests/data/examples-1.0.0/`, so reports issued under
1.0.0 keep their golden coverage) and two of them under 1.1.0 (`questionnaires/examples/`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from service.questionnaire import loader
from service.questionnaire.schema import Questionnaire
from service.report import render

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"
REPORTS = ROOT / "reports"
QUESTIONNAIRES = ROOT / "questionnaires"
EXAMPLES = QUESTIONNAIRES / "examples"  # answers for 1.1.0
EXAMPLES_1_0 = ROOT / "tests" / "data" / "examples-1.0.0"
SUBMITTED_AT = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    name: str
    questionnaire: Path
    answers: Path
    lang: str
    marking: str | None = "Protected A"


FIXTURE_CASES = [
    Case("fixture-lakeshore-en", DATA / "medium.yaml", DATA / "lakeshore.yaml", "en"),
    Case("fixture-lakeshore-fr", DATA / "medium.yaml", DATA / "lakeshore.yaml", "fr"),
    Case("fixture-border-en", DATA / "medium.yaml", DATA / "border.yaml", "en", None),
    Case("fixture-border-fr", DATA / "medium.yaml", DATA / "border.yaml", "fr", None),
]


# Each sample agency once, both languages covered, the largest (TA-1, most gaps) in both:
# rendering a full report takes a second or more, and the suite must stay quick.
SAMPLES = [
    ("ta1-lakeshore", "en"),
    ("ta2-federal-force", "fr"),
    ("ta3-ville-est", "en"),
    ("ta6-northvale", "fr"),
    ("ta8-border", "en"),
]


# Under 1.1.0: the most gaps (dated citations, escalations) in English, Québec in French.
SAMPLES_1_1 = [("ta1-lakeshore", "en"), ("ta3-ville-est", "fr")]


def sample_cases() -> list[Case]:
    """The sample agencies of the shipped questionnaire (they must exist)."""
    shipped = QUESTIONNAIRES / "frt-police-canada.yaml"
    shipped_1_1 = QUESTIONNAIRES / "frt-police-canada-1.1.0.yaml"
    return [
        Case(f"sample-{stem}-{lang}", shipped, EXAMPLES_1_0 / f"{stem}.yaml", lang)
        for stem, lang in SAMPLES
    ] + [
        Case(f"sample-1.1.0-{stem}-{lang}", shipped_1_1, EXAMPLES / f"{stem}.yaml", lang)
        for stem, lang in SAMPLES_1_1
    ]


ALL_CASES = FIXTURE_CASES + sample_cases()


@dataclass
class Rendered:
    case: Case
    questionnaire: Questionnaire
    report: render.ReportInput
    pdf: bytes
    html: str
    warnings: list[str] = field(default_factory=list)

    _raw: list[str] | None = None

    @property
    def reader(self) -> PdfReader:
        return PdfReader(io.BytesIO(self.pdf))

    def raw_pages(self) -> list[str]:
        """The text of each page as pypdf extracts it (once)."""
        if self._raw is None:
            self._raw = [p.extract_text() or "" for p in self.reader.pages]
        return list(self._raw)

    def pages_text(self) -> list[str]:
        """Whitespace-normalised text of each page."""
        return [" ".join(p.split()) for p in self.raw_pages()]

    def text(self) -> str:
        return " ".join(self.pages_text())


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


@pytest.fixture
def weasyprint_warnings() -> Iterator[list[str]]:
    handler = Capture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


_questionnaires: dict[Path, Questionnaire] = {}


def load_questionnaire(path: Path) -> Questionnaire:
    if path not in _questionnaires:
        result = loader.load_file(path)
        assert result.questionnaire is not None, [p.format() for p in result.problems]
        _questionnaires[path] = result.questionnaire
    return _questionnaires[path]


def report_input(
    questionnaire_path: Path, answers_path: Path, **kwargs: object
) -> render.ReportInput:
    questionnaire = load_questionnaire(questionnaire_path)
    data, problems = loader.load_answers(answers_path.read_bytes(), str(answers_path))
    assert data is not None, [p.format() for p in problems]
    options: dict[str, object] = {"status": "submitted", "submitted_at": SUBMITTED_AT}
    options.update(kwargs)
    return render.build_report_input(questionnaire, data, **options)  # type: ignore[arg-type]


class RenderCache:
    def __init__(self) -> None:
        self.done: dict[str, Rendered] = {}

    def get(self, case: Case) -> Rendered:
        if case.name not in self.done:
            handler = Capture()
            logger = logging.getLogger("weasyprint")
            logger.addHandler(handler)
            try:
                report = report_input(case.questionnaire, case.answers)
                pdf = render.render_pdf(report, lang=case.lang, marking=case.marking)
                html = render.render_html(report, lang=case.lang)
            finally:
                logger.removeHandler(handler)
            self.done[case.name] = Rendered(
                case, report.questionnaire, report, pdf, html, handler.records
            )
        return self.done[case.name]


@pytest.fixture(scope="session")
def rendered_cache() -> RenderCache:
    return RenderCache()


@pytest.fixture(params=ALL_CASES, ids=lambda c: c.name)
def rendered(request: pytest.FixtureRequest, rendered_cache: RenderCache) -> Rendered:
    case: Case = request.param
    return rendered_cache.get(case)
