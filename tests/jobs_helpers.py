"""Render functions for the job tests: the render process imports them by name (spawned
children import this module), so a test can make a render slow or hang."""

from __future__ import annotations

import time

from service.report.formats import RenderJob
from service.report_delivery import service as web_reports


def slow_render(questionnaires_dir: str, job: RenderJob) -> bytes:
    """A render that takes 3 s longer (time to kill its process in the middle)."""
    time.sleep(3)
    return web_reports.render_in_child(questionnaires_dir, job)


def hang_in_english(questionnaires_dir: str, job: RenderJob) -> bytes:
    """The English render hangs; the French one renders."""
    if job.lang == "en":
        time.sleep(3600)
    return web_reports.render_in_child(questionnaires_dir, job)
