"""Numbers, dates and sizes as written in English and French Canada (Babel's en_CA and fr_CA).

French typography as practised in Canada: a decimal comma ("80,0 Mo"), a no-break space
(U+00A0) before ":" and after "«" / before "»", and no space before ";", "!" or "?" (the
Office québécois de la langue française and the federal Writing Tips; France's thin spaces
before ";!?" are not used).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel import dates, numbers

NBSP = "\u00a0"
LOCALES = {"en": "en_CA", "fr": "fr_CA"}
_SIZE_UNITS = {"en": ("B", "KB", "MB", "GB"), "fr": ("o", "Ko", "Mo", "Go")}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, "en_CA")


def format_integer(value: int, lang: str) -> str:
    """1234567 -> "1,234,567" / "1 234 567" (no-break spaces)."""
    return str(numbers.format_decimal(value, locale=locale_of(lang)))


def format_decimal(value: float, lang: str, *, digits: int = 1) -> str:
    """A number with ``digits`` decimals: 80.0 -> "80.0" / "80,0"."""
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return str(numbers.format_decimal(value, format=pattern, locale=locale_of(lang)))


def format_number(value: float, lang: str) -> str:
    """A number as answered, with as many decimals as it has (up to three): 12 -> "12",
    1.5 -> "1.5" / "1,5", 12000 -> "12,000" / "12 000"."""
    return str(numbers.format_decimal(value, locale=locale_of(lang)))


def format_percent(value: float, lang: str, *, digits: int = 1) -> str:
    """A score out of 100: 80 -> "80.0 %" / "80,0 %" (a no-break space before the sign)."""
    return f"{format_decimal(value, lang, digits=digits)}{NBSP}%"


def format_size(size: int, lang: str) -> str:
    """Bytes in the largest unit that keeps a number of at least 1: 83886080 -> "80.0 MB" / "80,0 Mo"."""
    units = _SIZE_UNITS["fr" if lang == "fr" else "en"]
    if size < 1024:
        return f"{format_integer(size, lang)}{NBSP}{units[0]}"
    value = float(size)
    index = 0
    while value >= 1024 and index < len(units) - 1:
        value /= 1024
        index += 1
    return f"{format_decimal(value, lang)}{NBSP}{units[index]}"


def format_date(value: date, lang: str, *, style: str = "long") -> str:
    """A date: "November 26, 2026" / "26 novembre 2026" (``style="short"``: ISO 2026-11-26)."""
    if style == "short":
        return value.isoformat()
    return str(dates.format_date(value, format=style, locale=locale_of(lang)))


def format_day(value: date | datetime, lang: str) -> str:
    """The day of a date or a moment (UTC), abbreviated: "Dec 5, 2026" / "5 déc. 2026"."""
    day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    return format_date(day, lang, style="medium")


def format_time(value: datetime, lang: str) -> str:
    """A time of day, UTC, as the locale writes it: "11:47:09 p.m." / "23 h 47 min 09 s"."""
    return str(dates.format_time(value, format="medium", tzinfo=UTC, locale=locale_of(lang)))


def format_datetime(value: datetime, lang: str) -> str:
    """A date and time, UTC, 24-hour in both languages: "2026-11-26 15:30 UTC"."""
    return f"{value:%Y-%m-%d %H:%M} UTC"


def punctuate(text: str, lang: str) -> str:
    """French spacing before ":" (no-break space); none before ";", "!" and "?" in either language."""
    if lang != "fr":
        return text
    out: list[str] = []
    for i, char in enumerate(text):
        if (
            char == ":"
            and i > 0
            and text[i - 1] not in (" ", NBSP, "/")
            and not _inside_token(text, i)
        ):
            out.append(NBSP)
        elif char in ";!?" and out and out[-1] in (" ", NBSP):
            out.pop()
        elif char == ":" and out and out[-1] == " ":
            out[-1] = NBSP
        out.append(char)
    return "".join(out)


def _inside_token(text: str, i: int) -> bool:
    # "https://", "10:30", "GOV-01:x": a colon between two non-space characters is no punctuation
    return i + 1 < len(text) and not text[i + 1].isspace()
