"""Where the report's templates, styles and fonts are, and the address they are fetched under.

Apart from the fetcher (which imports WeasyPrint) so that the web process can render the public
edition's HTML pages without loading WeasyPrint (tests/ops/test_startup.py).
"""

from __future__ import annotations

import os
from pathlib import Path

# `reports/` beside `service/`, or where POLICYGAP_REPORTS_DIR says.
REPORTS_DIR = Path(
    os.environ.get("POLICYGAP_REPORTS_DIR") or Path(__file__).resolve().parents[2] / "reports"
).resolve()
ASSET_HOST = "policygap-report.invalid"
BASE_URL = f"https://{ASSET_HOST}/"
