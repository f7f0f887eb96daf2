"""Just enough PDF reading to check a certificate's text: the PDFs Typst writes use Type0
fonts with a ToUnicode map, content streams compressed with Flate and glyph codes in literal
or hex strings.  No PDF library is needed for that."""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
FONT_REF = re.compile(rb"/(\w+) (\d+) 0 R")
OCTAL = frozenset(b"01234567")
ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def pdf_text(pdf: bytes) -> str:
    """The text of every page, glyph by glyph, in content-stream order."""
    bodies = {int(m.group(1)): m.group(2) for m in OBJECT.finditer(pdf)}
    to_unicode = {
        number: _cmap(_stream(bodies[int(ref.group(1))]))
        for number, body in bodies.items()
        if (ref := re.search(rb"/ToUnicode (\d+) 0 R", body))
    }
    fonts: dict[bytes, dict[int, str]] = {}
    for body in bodies.values():
        for names in re.findall(rb"/Font<<(.*?)>>", body):
            for name, number in FONT_REF.findall(names):
                if int(number) in to_unicode:
                    fonts[name] = to_unicode[int(number)]
    pages = [int(n) for body in bodies.values() for n in re.findall(rb"/Contents (\d+) 0 R", body)]
    return "".join(_show(_stream(bodies[number]), fonts) for number in pages)


def _stream(body: bytes) -> bytes:
    found = STREAM.search(body)
    if found is None:
        return b""
    try:
        return zlib.decompress(found.group(1))
    except zlib.error:
        return found.group(1)


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int.from_bytes(bytes.fromhex(start.decode()), "big")
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(first + offset)
    return mapping


def _show(content: bytes, fonts: dict[bytes, dict[int, str]]) -> str:
    """Decode the strings shown by Tj/TJ with the font set by the last Tf."""
    out: list[str] = []
    font: dict[int, str] = {}
    i = 0
    while i < len(content):
        byte = content[i]
        if byte == ord("/"):
            name = re.match(rb"/(\w+)\s+[\d.]+\s+Tf", content[i:])
            if name:
                font = fonts.get(name.group(1), {})
                i += name.end()
                continue
        if byte == ord("("):
            raw, i = _literal(content, i + 1)
            out.append(_decode(raw, font))
            continue
        if content[i : i + 2] in (b"<<", b">>"):
            i += 2
            continue
        if byte == ord("<"):
            end = content.index(b">", i)
            out.append(_decode(bytes.fromhex(content[i + 1 : end].decode()), font))
            i = end + 1
            continue
        i += 1
    return "".join(out)


def _literal(content: bytes, i: int) -> tuple[bytes, int]:
    raw = bytearray()
    depth = 1
    while True:
        byte = content[i]
        if byte == ord("\\"):
            nxt = content[i + 1]
            if nxt in OCTAL:
                digits = re.match(rb"[0-7]{1,3}", content[i + 1 : i + 4])
                assert digits
                raw.append(int(digits.group(0), 8) & 0xFF)
                i += 1 + len(digits.group(0))
                continue
            raw.append(ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if byte == ord("("):
            depth += 1
        elif byte == ord(")"):
            depth -= 1
            if depth == 0:
                return bytes(raw), i + 1
        raw.append(byte)
        i += 1


def _decode(raw: bytes, font: dict[int, str]) -> str:
    codes = (int.from_bytes(raw[j : j + 2], "big") for j in range(0, len(raw) - 1, 2))
    return "".join(font.get(code, "") for code in codes)
