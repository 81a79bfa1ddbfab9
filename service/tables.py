"""Every table of the application on one metadata: Alembic's ``env.py`` and the tests import
this module (the app layer), so ``service/models.py`` need not import the features."""

from __future__ import annotations

from service import models
from service.actions import models as action_models
from service.admin import models as admin_models
from service.assessments import models as assessment_models
from service.documents import models as document_models
from service.jobs import models as job_models
from service.notices import models as notice_models
from service.publication import models as publication_models
from service.report_delivery import models as report_delivery_models
from service.review import models as review_models

metadata = models.metadata

__all__ = [
    "action_models",
    "admin_models",
    "assessment_models",
    "document_models",
    "job_models",
    "metadata",
    "notice_models",
    "publication_models",
    "report_delivery_models",
    "review_models",
]
