"""A deny-by-default URL fetcher for WeasyPrint.

Rendering fetches nothing from the network or from arbitrary files. Two kinds of URL are
allowed: `data:` URLs, and our own assets under `reports/`, addressed below a base URL on the
reserved `.invalid` domain (hierarchical, so relative links such as `fonts/x.ttf` join to it).
Everything else (http, https elsewhere, file, ftp, ...) is refused. Redirects are never
followed. A missing asset of our own is fatal, so a broken report fails loudly.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from service.report.assets import ASSET_HOST, REPORTS_DIR

_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".css": "text/css", ".svg": "image/svg+xml"}


class BlockedURLError(ValueError):
    """A URL the report may not fetch (WeasyPrint logs it and renders without it)."""


class MissingAssetError(FatalURLFetchingError):  # type: ignore[misc]
    """One of our own assets under reports/ is missing: the report cannot be rendered."""


class SafeURLFetcher(URLFetcher):  # type: ignore[misc]
    """Allows `data:` URLs and files under `reports/` (via BASE_URL) and nothing else."""

    def __init__(self, root: Path = REPORTS_DIR) -> None:
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "https" and parts.hostname == ASSET_HOST and not parts.port:
            return self._asset(url, unquote(parts.path))
        raise BlockedURLError(f"the report may not fetch {url[:200]!r}")

    def _asset(self, url: str, path: str) -> URLFetcherResponse:
        relative = path.lstrip("/")
        target = (self.root / relative).resolve()
        if not relative or not target.is_relative_to(self.root):
            raise BlockedURLError(f"the report may not fetch {url[:200]!r}")
        try:
            body = target.read_bytes()
        except OSError as error:
            raise MissingAssetError(f"report asset missing: {relative}") from error
        kind = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
        return URLFetcherResponse(
            url, body, {"Content-Type": kind or "application/octet-stream"}, 200
        )
