"""Text cleaning: normalise whitespace/control characters and drop web boilerplate lines."""

from __future__ import annotations

import re
import unicodedata

# Short lines that are page furniture rather than article text ("Read more", share buttons, ...).
_BOILERPLATE = re.compile(
    r"^\s*(read more|related( articles| stories)?|advertisement|sponsored( content)?|"
    r"subscribe( now| to .*)?|sign up( for .*)?|share (this|on) .*|click here.*|"
    r"watch( now|:.*)?|listen( now)?|skip to (main )?content|cookie settings|accept cookies|"
    r"follow us( on .*)?|getty images|image source:.*|photo:.*|more from .*)\s*[.:!]?\s*$",
    re.IGNORECASE,
)
_MAX_BOILERPLATE_LEN = 80
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


def _drop_control_chars(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def is_boilerplate(line: str) -> bool:
    return len(line) <= _MAX_BOILERPLATE_LEN and bool(_BOILERPLATE.match(line))


def clean_text(text: str) -> str:
    """Return the text that is stored and cited: offsets of chunks refer to this cleaned text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFC", _drop_control_chars(text)).replace("\t", " ")
    lines = [re.sub(r"[ \u00a0]+", " ", line).strip() for line in text.split("\n")]
    kept = [line for line in lines if not is_boilerplate(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
