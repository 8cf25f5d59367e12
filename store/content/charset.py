"""Bytes of a web page → text, decoded as a browser would.

Order (as the WHATWG encoding standard): a byte-order mark, then the charset of the HTTP header, then
the page's own <meta charset> / <meta http-equiv>, then a guess (charset-normalizer). Two browser
habits matter on Chinese sites: the labels gb2312, gbk, x-gbk… all mean GB18030's superset (a page
labelled gb2312 that holds one GBK-only byte still decodes, and —— stays ——), and a byte no charset
knows becomes U+FFFD instead of failing the page. One correction on top: bytes labelled as a legacy
Chinese charset that are valid UTF-8 holding non-ASCII text are UTF-8 (a page re-saved as UTF-8
keeps its old <meta>; real GBK text is almost never valid UTF-8).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""",
    re.I,
)
# Labels browsers decode with another, wider decoder (WHATWG "encodings" table).
_BROWSER = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312": "gb18030",
    "gb_2312-80": "gb18030", "csgb2312": "gb18030", "chinese": "gb18030", "iso-ir-58": "gb18030",
    "cp936": "gb18030", "ms936": "gb18030", "windows-936": "gb18030", "gb18030": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "x-x-big5": "big5hkscs", "cn-big5": "big5hkscs",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252",
    "unicode": "utf-8", "utf8": "utf-8", "utf-16": "utf-8",  # a <meta> saying utf-16 on bytes means utf-8
}  # fmt: skip
_LEGACY_CHINESE = {"gb18030", "big5hkscs"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _BROWSER.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff(body: bytes, http_charset: str | None = None) -> str:
    """The Python codec to decode `body` with (never fails: a guess at worst)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if body.startswith(bom):
            return name
    declared = _codec(http_charset)
    if declared is None:
        m = _META.search(body[:16384])
        declared = _codec(m.group(1).decode("ascii", "ignore")) if m else None
    if declared in _LEGACY_CHINESE and _is_utf8_text(body):
        return "utf-8"
    if declared:
        return declared
    if _is_utf8_text(body) or body.isascii():
        return "utf-8"
    best = from_bytes(body[:65536]).best()
    guess = _codec(best.encoding) if best is not None else None
    return guess or "gb18030"


def _is_utf8_text(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as e:
        # A file cut in the middle of a character is still UTF-8.
        return e.start >= len(body) - 3
    return True


def decode_html(body: bytes | str, http_charset: str | None = None) -> str:
    """The page's text; bytes no charset maps become U+FFFD, as in a browser."""
    if isinstance(body, str):
        return body
    name = sniff(body, http_charset)
    text = body.decode(name, errors="replace")
    return text.removeprefix("\ufeff")
