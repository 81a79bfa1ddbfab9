"""One cache key for every rendered report, and a small in-process cache of PDFs.

A submission never changes, so a rendering of it can be served again as long as nothing else
that is printed changed: the format, the language, the templates, the review state (status,
who accepted it, the comments), the paper size, the security marking and the result it is
compared with. `cache_key` is the one function over all of them; the database cache of the web
app and the in-process cache below use the same key.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

from service.questionnaire.scoring import Result
from service.report.inputs import TEMPLATE_VERSION, ReviewInfo

_CACHE_SIZE = 32
_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_lock = threading.Lock()


def review_state(status: str, review: ReviewInfo | None) -> str:
    """The review as it shows in a report: the status, and a digest of what a review adds
    (who decided, when, the comments, and the action plan as at the decision)."""
    if review is None:
        return status
    comments = sorted((k, list(v)) for k, v in review.comments.items())
    decided_at = review.decided_at.isoformat() if review.decided_at else None
    parts: list[object] = [review.decided_by, decided_at, review.general_comment, comments]
    if review.plan:  # the action plan as at the decision (a report without one keeps its key)
        parts.append(review.plan_as_at.isoformat() if review.plan_as_at else None)
        parts.append(
            [
                [
                    p.criterion_id,
                    p.owner,
                    p.target_date.isoformat() if p.target_date else None,
                    p.status,
                    p.risk_reason,
                    p.risk_accepted_by,
                ]
                for p in review.plan
            ]
        )
    text = json.dumps(parts)
    return f"{status}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def cache_key(
    *,
    sha256: str,
    format: str,
    lang: str,
    status: str,
    review: ReviewInfo | None = None,
    paper: str = "letter",
    marking: str | None = None,
    previous: Result | None = None,
    signer: str = "",
) -> str:
    """64 hex digits over (submission hash, format, language, template version, review state,
    paper, marking, previous result, signer's certificate fingerprint): the same inputs always
    give the same key."""
    parts = [
        sha256,
        format,
        lang,
        TEMPLATE_VERSION,
        review_state(status, review),
        paper,
        (marking or "").strip(),
        "" if previous is None else previous.model_dump_json(),
        signer,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def get(key: str) -> bytes | None:
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        return hit


def put(key: str, data: bytes) -> None:
    with _cache_lock:
        _cache[key] = data
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def clear() -> None:
    with _cache_lock:
        _cache.clear()
