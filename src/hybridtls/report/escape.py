"""Evidence text is untrusted: one rule makes it inert in every format (terminal, Markdown, HTML, fixes).

Control characters (C0, DEL, C1), every line and paragraph separator, the bidirectional controls that reorder
what is shown, and the invisible format characters that hide text are shown as escapes (``\\x1b``, ``\\u202e``)
instead of acting. A value shown on one line (``single_line``) also shows ``\\n`` and ``\\r``, so it can never
start a line of its own, such as a forged verdict.
"""

from __future__ import annotations

import re

# C0 (but newline and tab), DEL, C1 (NEL among them), the Unicode line and paragraph separators, the bidi marks,
# embeddings, overrides and isolates, and zero-width characters that can hide or join text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
                     "\u2066-\u206f\ufeff\ufff9-\ufffb]")
_UNSAFE_ONE_LINE = re.compile(_UNSAFE.pattern[:-1] + "\n]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "\\n"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


MAX_SHOWN = 4000  # characters of one value or message shown; the JSON report keeps every one


def _clipped(text: str) -> str:
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[:MAX_SHOWN]}... ({len(text) - MAX_SHOWN:,} more characters not shown)"


def inert(text: str, *, single_line: bool = False) -> str:
    """``text`` with nothing in it that a terminal, a browser or a Markdown viewer would act on or hide.

    ``single_line``: also newlines as ``\\n`` and tabs as spaces, and at most MAX_SHOWN characters (a 500 KB
    value from a damaged file is shown as its start and a count). Without it, newlines stay (for the fix blocks,
    whose lines are ours and whose evidence values are literals already) and every other separator is escaped.
    """
    if single_line:
        return _UNSAFE_ONE_LINE.sub(_shown, _clipped(text)).replace("\t", " ")
    return _UNSAFE.sub(_shown, text)


def inert_lines(text: str) -> list[str]:
    """Multi-line text (a fix, a plan step) as lines, each inert and each on one line."""
    return [inert(line, single_line=True) for line in text.split("\n")]
