"""The gap report: one set of Jinja2 templates (reports/templates) for the HTML page and the PDF.

`render_html` and `render_pdf` are module-level functions of picklable inputs, so the web app
can call them in a `ProcessPoolExecutor`. Everything shown is computed here from the Result;
templates only lay it out, with autoescape on and StrictUndefined, so free text (answers,
evidence notes, program names, comments) is always escaped.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import metadata
from typing import Any

import jinja2
from markupsafe import Markup

from service.questionnaire.answers import Answers, AnswersFile
from service.questionnaire.engine import resolve
from service.questionnaire.schema import (
    DEFAULT_WEIGHTS,
    Question,
    Questionnaire,
    QuestionType,
    Reference,
    Severity,
    Verdict,
    Verification,
    localize,
)
from service.questionnaire.scoring import Result, score
from service.questionnaire.submission import (
    SubmissionRecord,
    build_submission,
    canonical_json,
    parse_submission,
    sha256_hex,
)
from service.report import i18n
from service.report.fetcher import BASE_URL, REPORTS_DIR, SafeURLFetcher

TEMPLATE_VERSION = "1"
STATUSES = ("draft", "submitted", "returned", "accepted")
PAPERS = {"letter": "letter", "a4": "A4"}
ATTACHMENT_NAME = "submission.json"
RESULT_PREFIX = "policygap-result:"
MAX_MARKING = 80

TEMPLATES_DIR = REPORTS_DIR / "templates"
CSS_DIR = REPORTS_DIR / "css"


@dataclass(frozen=True)
class ReviewInfo:
    """What a review adds to the report: who accepted it, and the reviewer's comments."""

    accepted_by: str | None = None
    accepted_at: datetime | None = None
    general_comment: str | None = None
    comments: dict[str, list[str]] = field(default_factory=dict)  # criterion id -> comments


@dataclass(frozen=True)
class ReportInput:
    """Everything a report is made from. Picklable, so it can cross to a render process."""

    questionnaire: Questionnaire
    record: SubmissionRecord
    result: Result
    status: str = "submitted"  # draft | submitted | returned | accepted
    review: ReviewInfo | None = None
    previous: Result | None = None

    @property
    def canonical(self) -> bytes:
        return canonical_json(self.record)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.canonical)


def tool_version() -> str:
    try:
        return metadata.version("policygap")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def build_report_input(
    questionnaire: Questionnaire,
    answers: AnswersFile | SubmissionRecord,
    *,
    status: str = "submitted",
    as_of: date | None = None,
    number: int = 1,
    submitted_at: datetime | None = None,
    review: ReviewInfo | None = None,
    previous: Result | None = None,
) -> ReportInput:
    """A ReportInput from an answers file (as the CLI reads it) or a frozen submission record."""
    if isinstance(answers, SubmissionRecord):
        record = answers
    else:
        when = as_of or answers.as_of
        if when is None:
            raise ValueError("the answers need an as_of date (the date they speak for)")
        record = build_submission(
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            questionnaire_sha256=questionnaire.sha256,
            as_of=when,
            agency=answers.agency,
            program=answers.program,
            answers=answers.to_answers(),
            number=number,
            submitted_at=submitted_at,
        )
    result = score(questionnaire, record.to_answers(), as_of=record.as_of)
    return ReportInput(
        questionnaire=questionnaire,
        record=record,
        result=result,
        status=status,
        review=review,
        previous=previous,
    )


# ---------------------------------------------------------------------------------------------
# Templates


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return env


@lru_cache(maxsize=8)
def _css(name: str) -> str:
    return (CSS_DIR / name).read_text(encoding="utf-8")


def _page_css(lang: str, paper: str) -> str:
    """The @page rules: fixed words from i18n and a whitelisted paper size, never user input."""
    t = i18n.TEXT[lang]
    size = PAPERS[paper]
    return (
        f"@page {{ size: {size};"
        f' @bottom-right {{ content: "{t["page"]} " counter(page) " {t["of"]} " counter(pages); }} }}'
    )


# ---------------------------------------------------------------------------------------------
# The view: plain data for the templates


def _number(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "fr" else text


def _percent(value: float | None, lang: str) -> str:
    if value is None:
        return i18n.TEXT[lang]["na"]
    return i18n.TEXT[lang]["percent"].format(value=_number(value, lang))


def _answer_text(question: Question, value: object, lang: str) -> str:
    if value is None or value == "" or value == []:
        return ""
    if question.type in (
        QuestionType.single_choice,
        QuestionType.yes_no,
        QuestionType.multiple_choice,
    ):
        labels = {o.value: localize(o.label, lang) for o in question.choices()}
        values = value if isinstance(value, list) else [value]
        return "; ".join(labels.get(str(v), str(v)) for v in values)
    if question.type is QuestionType.number and isinstance(value, int | float):
        return f"{value:g}" if float(value).is_integer() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _ref_view(ref: Reference, questionnaire: Questionnaire, lang: str) -> dict[str, str]:
    source = questionnaire.source_index().get(ref.source)
    verification = ref.verification or (source.verification if source else Verification.unverified)
    text = ref.source + (f" {ref.section}" if ref.section else "")
    note = localize(ref.note, lang) if ref.note else ""
    return {
        "text": text,
        "title": localize(source.title, lang) if source else "",
        "verification": verification.value,
        "mark": ""
        if verification is Verification.verified
        else i18n.VERIFICATION[lang][verification.value],
        "note": note,
    }


def _short_list(ids: list[str], lang: str, limit: int = 6) -> str:
    if not ids:
        return "-"
    if len(ids) <= limit:
        return ", ".join(ids)
    more = i18n.TEXT[lang]["and_more"].format(count=len(ids) - limit)
    return ", ".join(ids[:limit]) + " " + more


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fact_value(questionnaire: Questionnaire, fact_id: str, value: object, lang: str) -> str:
    for fact in questionnaire.facts:
        if fact.id == fact_id and str(value) in fact.values:
            return localize(fact.values[str(value)], lang)
    return str(value)


BAND_FILL = {"red": "#b3261e", "amber": "#c77700", "green": "#2e7d32"}


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of the horizontal bar chart (inline SVG): one numbered bar per section.

    The numbers match the table beside the chart, which holds the section names."""
    row_h = 16
    bar_h = 11
    num_w = 16
    width = 190
    bar_w = 130
    bars = []
    for index, row in enumerate(rows):
        y = index * row_h + 2
        value = row["value"]
        length = 0.0 if value is None else max(0.0, min(100.0, value)) * bar_w / 100.0
        bars.append(
            {
                "number": index + 1,
                "num_x": num_w - 4,
                "label_y": y + bar_h - 2,
                "bar_y": y,
                "bar_h": bar_h,
                "x": num_w,
                "w": round(length, 1),
                "track_w": bar_w,
                "text_x": round(num_w + length + 4, 1),
                "text_y": y + bar_h - 2,
                "text": row["score"],
                "fill": BAND_FILL.get(row["band"], "#555555"),
            }
        )
    return {"width": width, "height": max(row_h * len(rows) + 4, row_h), "bars": bars}


def _band_of(score_value: float | None, questionnaire: Questionnaire) -> str:
    if score_value is None:
        return "none"
    return questionnaire.rating.band_of(score_value).value


def stated_line(result: Result) -> str:
    """The machine-checkable statement printed in the report and read back by `verify`."""
    score_text = "none" if result.score is None else f"{result.score:.1f}"
    gaps = " ".join(result.gaps) or "none"
    return f"{RESULT_PREFIX} rating={result.rating.value}; score={score_text}; gaps={gaps}"


def build_view(report: ReportInput, lang: str, *, marking: str | None = None) -> dict[str, Any]:
    """Everything the templates show, as plain data (strings, numbers, lists, dicts)."""
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {', '.join(i18n.LANGUAGES)}")
    if report.status not in STATUSES:
        raise ValueError(f"unknown status {report.status!r}")
    q = report.questionnaire
    rec = report.record
    res = report.result
    t = i18n.TEXT[lang]
    verdict_words = i18n.VERDICT[lang]
    severity_words = i18n.SEVERITY[lang]
    rating_words = i18n.RATING[lang]
    review = report.review or ReviewInfo()
    sha = report.sha256
    criteria = {c.id: c for c in q.criteria}
    questions = q.question_index()
    section_titles = {s.id: localize(s.title, lang) for s in q.sections}
    answers = rec.to_answers()
    resolved = resolve(q, Answers(values=answers.values, evidence=answers.evidence), rec.as_of)

    def crit_title(cid: str) -> str:
        return localize(criteria[cid].title, lang)

    def answer_of(qid: str) -> str:
        question = questions[qid]
        if qid not in resolved.visible:
            return t["not_asked"]
        text = _answer_text(question, rec.answers.get(qid), lang)
        return text or t["not_answered"]

    # --- summary
    why = [
        t["band_is"].format(
            score=_percent(res.score, lang), band=rating_words[res.band_rating.value]
        )
    ]
    for gate in res.gates_fired:
        why.append(
            t["gate_capped"].format(
                label=localize(gate.label, lang),
                ids=_short_list(gate.criteria, lang),
                cap=rating_words[gate.cap.value],
            )
        )
    if not res.gates_fired:
        why.append(t["no_gate"])
    section_rows = []
    for s in res.sections:
        gaps_in = sum(1 for c in res.criteria if c.section == s.id and c.is_gap)
        section_rows.append(
            {
                "id": s.id,
                "title": section_titles.get(s.id, s.id),
                "value": s.score,
                "score": _percent(s.score, lang)
                if s.score is not None
                else t["not_applicable_section"],
                "gaps": gaps_in,
                "band": _band_of(s.score, q),
            }
        )
    critical = [
        {
            "id": c.id,
            "title": crit_title(c.id),
            "verdict": verdict_words[c.verdict.value],
        }
        for c in (res.criterion(cid) for cid in res.gaps)
        if c.severity is Severity.critical
    ]
    facts = [
        {"label": localize(f.label, lang), "value": _fact_value(q, f.id, res.facts[f.id], lang)}
        for f in q.facts
        if f.show_in_report and f.id in res.facts and f.id != q.inherent_risk
    ]
    inherent = None
    if res.inherent_risk is not None:
        risk_word = _fact_value(q, q.inherent_risk or "", res.inherent_risk, lang)
        inherent = {
            "word": risk_word,
            "key": res.inherent_risk,
            "beside": _sentence(
                t["inherent_beside"].format(
                    risk=risk_word, rating=rating_words[res.rating.value].lower()
                )
            ),
        }
    change = None
    if report.previous is not None:
        prev = report.previous
        change = {
            "prev_rating": rating_words[prev.rating.value],
            "prev_score": _percent(prev.score, lang),
            "closed": [g for g in prev.gaps if g not in res.gaps],
            "new": [g for g in res.gaps if g not in prev.gaps],
        }

    # --- action plan
    def refs_of(cid: str) -> str:
        """The references as one line of text (fewer inline boxes: cheaper to lay out)."""
        parts = []
        for ref in (_ref_view(r, q, lang) for r in criteria[cid].references):
            text = ref["text"]
            if ref["mark"]:
                text += f" [{ref['mark']}]"
            if ref["note"]:
                text += f" ({ref['note']})"
            parts.append(text)
        return "; ".join(parts)

    gaps = []
    for cid in res.gaps:
        c = res.criterion(cid)
        gaps.append(
            {
                "id": cid,
                "title": crit_title(cid),
                "verdict": verdict_words[c.verdict.value],
                "verdict_key": c.verdict.value,
                "severity": severity_words[c.severity.value],
                "severity_key": c.severity.value,
                "escalated_from": t["escalated_from"].format(
                    base=severity_words[c.base_severity.value].lower()
                )
                if c.escalated
                else "",
                "escalation_reason": localize(c.escalation_reason, lang)
                if c.escalation_reason
                else "",
                "recommendation": localize(criteria[cid].recommendation, lang),
                "refs": refs_of(cid),
            }
        )

    # --- section by section
    detail = []
    for section in q.sections:
        results = [c for c in res.criteria if c.section == section.id]
        if not results:
            continue
        score_row = next((s for s in res.sections if s.id == section.id), None)
        items = []
        for c in results:
            reads = []
            for qid in c.trace.reads:
                question = questions.get(qid)
                if question is None:
                    continue
                reads.append(
                    {
                        "id": qid,
                        "text": localize(question.text, lang),
                        "answer": answer_of(qid),
                        "evidence": rec.evidence.get(qid, ""),
                        "documents": rec.documents.get(qid, []),
                        "asks_evidence": question.evidence,
                    }
                )
            items.append(
                {
                    "id": c.id,
                    "title": crit_title(c.id),
                    "requirement": localize(criteria[c.id].requirement, lang),
                    "verdict": verdict_words[c.verdict.value],
                    "verdict_key": c.verdict.value,
                    "severity": severity_words[c.severity.value],
                    "escalated_from": t["escalated_from"].format(
                        base=severity_words[c.base_severity.value].lower()
                    )
                    if c.escalated
                    else "",
                    "na_reason": localize(c.na_reason, lang) if c.na_reason else "",
                    "reads": reads,
                    "evidence_rule": c.trace.evidence or "",
                    "comments": list(review.comments.get(c.id, [])),
                }
            )
        detail.append(
            {
                "id": section.id,
                "title": section_titles[section.id],
                "score": _percent(score_row.score, lang)
                if score_row and score_row.score is not None
                else t["not_applicable_section"],
                "criteria": items,
            }
        )

    # --- method and trace
    used_severities = sorted({c.severity for c in res.criteria}, key=lambda s: s.rank)
    weights = [
        {"severity": severity_words[s.value], "weight": f"{DEFAULT_WEIGHTS[s]:g}"}
        for s in used_severities
    ]
    bands = [
        {"rating": rating_words[b.rating.value], "min": f"{b.min_score:g}"}
        for b in q.rating.bands_from_top()
    ]
    fired = {g.id: g for g in res.gates_fired}
    gates = [
        {
            "label": localize(g.label, lang),
            "cap": rating_words[g.cap.value],
            "fired": t["yes"] if g.id in fired else t["no"],
            "criteria": ", ".join(fired[g.id].criteria) if g.id in fired else "",
        }
        for g in q.rating.gates
    ]
    all_refs: list[Reference] = [r for c in q.criteria for r in c.references] + [
        r for qq in q.questions() for r in qq.references
    ]
    ref_views = [_ref_view(r, q, lang) for r in all_refs]
    citations = t["citations"].format(
        total=len(ref_views),
        secondary=sum(1 for r in ref_views if r["verification"] == "secondary"),
        unverified=sum(1 for r in ref_views if r["verification"] == "unverified"),
    )
    rules = [
        {
            "id": c.id,
            "verdict": verdict_words[c.verdict.value],
            "rule": c.trace.rule,
            "escalation": c.trace.escalation or "",
            # the evidence rule is shown where it counted: no evidence noted
            "evidence": (c.trace.evidence or "") if c.documented is False else "",
            "weight": f"{c.weight:g}",
            "credit": "-" if c.credit is None else f"{c.credit:g}",
        }
        for c in res.criteria
    ]

    # --- appendix
    appendix = []
    for section in q.sections:
        appendix.append(
            {
                "title": section_titles[section.id],
                "questions": [
                    {
                        "id": qq.id,
                        "text": localize(qq.text, lang),
                        "answer": answer_of(qq.id),
                        "evidence": rec.evidence.get(qq.id, ""),
                        "documents": rec.documents.get(qq.id, []),
                    }
                    for qq in section.questions
                ],
            }
        )
    cited_keys = {r.source for r in all_refs}
    sources = [
        {
            "key": s.key,
            "title": localize(s.title, lang),
            "issuer": localize(s.issuer, lang) if s.issuer else "",
            "date": s.date or "",
            "url": s.url or "",
            "verification": s.verification.value,
            "mark": i18n.VERIFICATION[lang][s.verification.value],
            "note": localize(s.note, lang) if s.note else "",
        }
        for s in q.sources
        if s.key in cited_keys
    ]

    na_count = sum(1 for c in res.criteria if c.verdict is Verdict.not_applicable)
    return {
        "lang": lang,
        "t": t,
        "doc": {
            "title": f"{t['doc_title']}: {rec.agency}" if rec.agency else t["doc_title"],
            "agency": rec.agency,
            "program": rec.program,
            "questionnaire": localize(q.title, lang),
            "questionnaire_id": q.id,
            "version": q.version,
            "as_of": rec.as_of.isoformat(),
            "submitted_at": rec.submitted_at.strftime("%Y-%m-%d %H:%M UTC")
            if rec.submitted_at
            else "",
            "number": rec.number,
            "status": i18n.STATUS[lang][report.status],
            "accepted_by": review.accepted_by or "",
            "accepted_at": review.accepted_at.strftime("%Y-%m-%d") if review.accepted_at else "",
            "general_comment": review.general_comment or "",
            "rating": res.rating.value,
            "rating_word": rating_words[res.rating.value],
            "rating_meaning": i18n.RATING_MEANING[lang][res.rating.value],
            "score": _percent(res.score, lang),
            "doc_id": sha[:12],
            "sha256": sha,
            "questionnaire_sha256": rec.questionnaire_sha256,
            "tool_version": tool_version(),
            "template_version": TEMPLATE_VERSION,
            "advisory": res.advisory,
            "advisory_note": localize(q.advisory_note, lang) if q.advisory_note else "",
            "complete": res.complete,
            "marking": (marking or "").strip()[:MAX_MARKING],
            "keywords": t["keywords"],
            "created": (rec.submitted_at.date() if rec.submitted_at else rec.as_of).isoformat(),
            "na_count": t["na_count"].format(count=na_count) if na_count else "",
            "stated": stated_line(res),
        },
        "why": why,
        "sections": section_rows,
        "chart": _chart(section_rows),
        "critical": critical,
        "facts": facts,
        "inherent": inherent,
        "change": change,
        "gaps": gaps,
        "detail": detail,
        "weights": weights,
        "bands": bands,
        "gates": gates,
        "citations": citations,
        "rules": rules,
        "appendix": appendix,
        "sources": sources,
    }


# ---------------------------------------------------------------------------------------------
# Rendering


def _render(
    report: ReportInput,
    lang: str,
    *,
    fragment: bool,
    pdf: bool,
    paper: str = "letter",
    marking: str | None = None,
) -> str:
    view = build_view(report, lang, marking=marking)
    css = _css("report.css")
    if pdf:
        css = _css("fonts.css") + css + _css("print.css") + _page_css(lang, paper)
    template = _environment().get_template("report.html")
    # Review point: the only Markup in the report. It wraps our own style sheets, read from
    # reports/css/ (never user input), so the <style> element is not HTML-escaped.
    style = Markup(css.replace("</", "<\\/"))  # noqa: S704
    return template.render(css=style, fragment=fragment, pdf=pdf, **view)


def screen_css() -> str:
    """The report's screen style sheet, for a web page that embeds `render_html(fragment=True)`."""
    return _css("report.css")


def render_html(report: ReportInput, *, lang: str = "en", fragment: bool = False) -> str:
    """The report as an HTML page, or (fragment=True) its body for embedding in a page."""
    return _render(report, lang, fragment=fragment, pdf=False)


def _as_datetime(report: ReportInput) -> datetime:
    rec = report.record
    if rec.submitted_at is not None:
        when = rec.submitted_at
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime.combine(rec.as_of, time(0, 0), tzinfo=UTC)


def render_pdf(
    report: ReportInput,
    *,
    lang: str = "en",
    paper: str = "letter",
    marking: str | None = None,
) -> bytes:
    """The report as a tagged PDF (PDF/UA-1) with the canonical submission attached."""
    from weasyprint import HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    if paper not in PAPERS:
        raise ValueError(f"unsupported paper {paper!r}; use letter or a4")
    html = _render(report, lang, fragment=False, pdf=True, paper=paper, marking=marking)
    fetcher = SafeURLFetcher()
    fonts = FontConfiguration()
    when = _as_datetime(report)
    attachment = Attachment(
        string=report.canonical,
        name=ATTACHMENT_NAME,
        description="PolicyGap canonical submission (SHA-256 printed in the report)",
        created=when,
        modified=when,
        url_fetcher=fetcher,
        relationship="Source",
    )
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    identifier = hashlib.sha256(
        f"{report.sha256}:{lang}:{paper}:{TEMPLATE_VERSION}".encode()
    ).hexdigest()[:32]
    data: bytes = document.write_pdf(
        font_config=fonts,
        pdf_variant="pdf/ua-1",
        attachments=[attachment],
        pdf_identifier=identifier.encode("ascii"),
        presentational_hints=False,
        uncompressed_pdf=False,
    )
    return data


# ---------------------------------------------------------------------------------------------
# Cache: a submission never changes, so its rendering can be served again.

_CACHE_SIZE = 32
_cache: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
_cache_lock = threading.Lock()


def cache_key(
    report: ReportInput, *, lang: str, paper: str = "letter", marking: str | None = None
) -> tuple[str, ...]:
    """(submission hash, language, template version, review state, paper, marking)."""
    review = report.review
    state = report.status
    if review is not None:
        comments = sorted((k, tuple(v)) for k, v in review.comments.items())
        digest = hashlib.sha256(
            repr(
                (review.accepted_by, review.accepted_at, review.general_comment, comments)
            ).encode()
        ).hexdigest()[:16]
        state = f"{state}:{digest}"
    previous = "" if report.previous is None else report.previous.model_dump_json()
    prev_digest = hashlib.sha256(previous.encode()).hexdigest()[:16] if previous else ""
    return (
        report.sha256,
        lang,
        TEMPLATE_VERSION,
        state,
        paper,
        (marking or "").strip(),
        prev_digest,
    )


def render_pdf_cached(
    report: ReportInput,
    *,
    lang: str = "en",
    paper: str = "letter",
    marking: str | None = None,
) -> bytes:
    """`render_pdf`, served from a small in-process cache on a repeated request."""
    key = cache_key(report, lang=lang, paper=paper, marking=marking)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    data = render_pdf(report, lang=lang, paper=paper, marking=marking)
    with _cache_lock:
        _cache[key] = data
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return data


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def render_submission(
    *,
    questionnaire: Questionnaire,
    canonical: bytes,
    status: str = "submitted",
    lang: str = "en",
    kind: str = "pdf",
    review: ReviewInfo | None = None,
    previous: Result | None = None,
    paper: str = "letter",
    marking: str | None = None,
) -> bytes:
    """For the web app's render process: canonical submission bytes in, PDF or HTML out.

    `kind` is "pdf" (the tagged PDF) or "html" (the report body for embedding, UTF-8).
    """
    record = parse_submission(canonical)
    report = build_report_input(
        questionnaire, record, status=status, review=review, previous=previous
    )
    if kind == "pdf":
        return render_pdf_cached(report, lang=lang, paper=paper, marking=marking)
    if kind == "html":
        return render_html(report, lang=lang, fragment=True).encode("utf-8")
    raise ValueError(f"unknown kind {kind!r}; use pdf or html")
