"""Text from evidence placed inside PowerShell the admin will paste: always as an inert single-quoted literal."""

from __future__ import annotations

# PowerShell treats these as single quotes too; inside a single-quoted string each one is doubled.
_SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def ps_literal(text: str) -> str:
    """``'text'`` with every quote doubled: no variable expansion, no way out of the string."""
    for quote in _SINGLE_QUOTES:
        text = text.replace(quote, quote * 2)
    return f"'{text}'"
