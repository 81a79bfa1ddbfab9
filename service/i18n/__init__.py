"""The vocabulary: the gettext catalogue, one label function per concept, Babel formats.

Below the report and the web layer, above the core: everything a person reads in English or
French comes from here (pages, PDF, CLI, API, audit log). Questionnaire text comes from the YAML.
"""

from service.i18n.catalogue import (
    LANGUAGES,
    N_,
    NP_,
    Translator,
    catalogue,
    gettext,
    pgettext,
)
from service.i18n.formats import (
    format_date,
    format_datetime,
    format_decimal,
    format_integer,
    format_number,
    format_percent,
    format_size,
    punctuate,
)
from service.i18n.labels import (
    action_label,
    body_type_label,
    carry_status_label,
    change_why_label,
    inherent_risk_label,
    org_kind_label,
    province_label,
    rating_label,
    rating_meaning,
    role_label,
    section_status_label,
    severity_label,
    status_label,
    verdict_label,
    verification_label,
)

__all__ = [
    "LANGUAGES",
    "NP_",
    "N_",
    "Translator",
    "action_label",
    "body_type_label",
    "carry_status_label",
    "catalogue",
    "change_why_label",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_integer",
    "format_number",
    "format_percent",
    "format_size",
    "gettext",
    "inherent_risk_label",
    "org_kind_label",
    "pgettext",
    "province_label",
    "punctuate",
    "rating_label",
    "rating_meaning",
    "role_label",
    "section_status_label",
    "severity_label",
    "status_label",
    "verdict_label",
    "verification_label",
]
