"""Kept for the page code that imports it: the vocabulary lives in ``service/i18n``."""

from service.i18n.catalogue import LANGUAGES, Translator, catalogue, gettext

__all__ = ["LANGUAGES", "Translator", "catalogue", "gettext"]
