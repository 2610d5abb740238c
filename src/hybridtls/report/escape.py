"""Evidence text is untrusted: make it inert before it reaches a terminal."""

from __future__ import annotations

import re

# C0 and C1 controls (but newline and tab), DEL, and the bidirectional overrides that can reorder what is shown.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str, *, single_line: bool = False) -> str:
    """Show control characters as escapes (``\\x1b``) instead of letting the terminal act on them."""
    text = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                       text)
    return text.replace("\n", "\\n").replace("\t", " ") if single_line else text
