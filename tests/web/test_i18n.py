"""Every message marked for translation in the web edge has a Chinese translation, and the
English catalogue lists it (so translators see it)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "src" / "baoxian" / "web"
DYNAMIC = {"in_force", "cancelled", "lapsed", "expired"}  # policy statuses, looked up by value


def marked() -> set[str]:
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {
        "templates/**.html": {
            "extensions": "jinja2.ext.i18n",
            "trim_blocks": "true",
            "lstrip_blocks": "true",
        }
    }
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map=options
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalogue(locale: str) -> dict[str, str]:
    with (WEB / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def test_every_marked_message_is_translated_into_chinese() -> None:
    zh = catalogue("zh_CN")
    messages = marked() | DYNAMIC
    assert len(messages) > 40
    missing = sorted(m for m in messages if not zh.get(m))
    assert missing == []


def test_the_english_catalogue_lists_every_message() -> None:
    en = catalogue("en")
    assert sorted(m for m in marked() if m not in en) == []
