"""Translations (Babel message catalogues) and the user's language.

Templates and routes mark text with ``_("…")`` in English; ``locales/zh_CN`` translates it.
Chinese is the default.  Catalogues are read from the ``.po`` files at start-up and compiled
in memory, so no build step is needed.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
_DIR = Path(__file__).parent / "locales"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of a locale (English needs none: the messages are English)."""
    path = _DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale not in LOCALES or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def pick_locale(cookie: str | None, accept_language: str | None) -> str:
    """The chosen language: the user's switch (cookie) first, else Chinese.  The browser's
    Accept-Language is not followed: most customers' phones say English when they read
    Chinese."""
    del accept_language
    return cookie if cookie in LOCALES else DEFAULT_LOCALE


__all__ = ["DEFAULT_LOCALE", "HTML_LANG", "LOCALES", "pick_locale", "translations"]
