"""Every PowerShell line built from evidence: literals, selectors, placeholders.

The fixes hybridtls prints are pasted into an elevated shell, and the values in them come from files anyone could
have edited (a server named ``EXMBX1;Stop-Computer -Force``, a certificate subject with a line break). So a value
from evidence enters PowerShell only through this module:

- as a single-quoted literal (:func:`ps_literal`): nothing expands inside one, and the only way out is a single
  quote, which PowerShell also recognises in its curly forms (U+2018, U+2019, U+201A, U+201B); each is doubled;
- or, when the value cannot be shown on one line (a line break, a U+2028, any control or format character), as a
  placeholder such as ``<ServerName>``, with a ``#`` note at the top of the fix saying why (:class:`Script`);
- a thumbprint only when it is 40 hex digits (:func:`thumbprint`), else the certificate is selected by a quoted
  serial number;
- inside a ``#`` comment, with every unsafe character shown as ``?`` (:func:`comment_text`), so a line break
  cannot end the comment and start a command.

:func:`check_pasteable` is the last guard: a fix that still holds an unsafe character is refused.
"""

from __future__ import annotations

import re
import unicodedata

# PowerShell treats these as single quotes too; inside a single-quoted string each one is doubled.
SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")
_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")


def ps_literal(text: str) -> str:
    """``'text'`` with every quote doubled: no variable expansion, no way out of the string.

    It does not judge line breaks (a single-quoted string may span lines); values from evidence go through
    :meth:`Script.value`, which refuses them.
    """
    for quote in SINGLE_QUOTES:
        text = text.replace(quote, quote * 2)
    return f"'{text}'"


def _unsafe(char: str) -> bool:
    """Control, format, surrogate, private and unassigned characters, and the Unicode line and paragraph separators."""
    return unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp")


def is_single_line(text: str) -> bool:
    """Whether the text can be shown inside one line of PowerShell as it is."""
    return not any(_unsafe(c) for c in text)


def comment_text(text: str) -> str:
    """Text for inside a ``#`` comment: every character that could end the line, or hide what follows, as ``?``."""
    return "".join("?" if _unsafe(c) else c for c in text)


def thumbprint(text: str | None) -> str | None:
    """The thumbprint in upper case when it is exactly 40 hex digits; otherwise None."""
    return text.upper() if text and _THUMBPRINT.fullmatch(text) else None


def check_pasteable(script: str) -> str:
    """The script unchanged; ValueError when a line of it holds a character that must never reach the shell."""
    for number, line in enumerate(script.split("\n"), start=1):
        if not is_single_line(line):
            raise ValueError(f"line {number} of a PowerShell fix holds a control or line-separator character")
    return script


class Script:
    """A fix being written: values from evidence enter it only through the methods below.

    ``str(script)`` is the fix: a note for each placeholder that stands in for an unsafe value, then the lines.
    """

    def __init__(self, *lines: str) -> None:
        self._lines: list[str] = list(lines)
        self._notes: dict[str, str] = {}

    def value(self, text: str | None, placeholder: str, what: str = "") -> str:
        """``text`` as a single-quoted literal; the placeholder (noted) when it is absent or not one line."""
        if text and is_single_line(text):
            return ps_literal(text)
        if text:
            self._notes.setdefault(placeholder, f"# {placeholder}: the {what or 'value'} in the evidence holds a "
                                                "line break or control character, not safe to paste; type it in.")
        return placeholder

    def values(self, texts: tuple[str, ...] | list[str], placeholder: str, what: str = "") -> str:
        """``'a', 'b'``: a PowerShell list of literals."""
        return ", ".join(self.value(t, placeholder, what) for t in texts) or placeholder

    def thumbprint(self, text: str | None, placeholder: str = "<Thumbprint>") -> str:
        """A thumbprint of 40 hex digits as it is; anything else the placeholder."""
        return thumbprint(text) or placeholder

    def certificate_item(self, *, thumbprint_text: str | None, serial: str | None) -> str:
        """A PowerShell expression that selects the certificate in Cert:\\LocalMachine\\My."""
        exact = thumbprint(thumbprint_text)
        if exact:
            return f"Get-Item Cert:\\LocalMachine\\My\\{exact}"
        return ("Get-ChildItem Cert:\\LocalMachine\\My | Where-Object { $_.SerialNumber -eq "
                f"{self.value(serial, '<SerialNumber>', 'serial number')} }}")

    def exchange_certificate(self, *, server: str | None, thumbprint_text: str | None, serial: str | None) -> str:
        """``Get-ExchangeCertificate -Server 'X'`` selecting the certificate, by thumbprint or by serial number."""
        head = f"Get-ExchangeCertificate -Server {self.value(server, '<ServerName>', 'server name')}"
        exact = thumbprint(thumbprint_text)
        if exact:
            return f"{head} -Thumbprint {exact}"
        return f"{head} | Where-Object {{ $_.SerialNumber -eq {self.value(serial, '<SerialNumber>', 'serial number')} }}"

    def add(self, *lines: str) -> Script:
        self._lines.extend(lines)
        return self

    def comment(self, text: str) -> Script:
        """A ``#`` line; values in it are shown with unsafe characters as ``?``."""
        self._lines.append("# " + comment_text(text))
        return self

    def __str__(self) -> str:
        return check_pasteable("\n".join([*self._notes.values(), *self._lines]))


__all__ = ["SINGLE_QUOTES", "Script", "check_pasteable", "comment_text", "is_single_line", "ps_literal", "thumbprint"]
