"""The error tree.

    HybridTlsError
    ├── UsageError        bad command line (exit 2)
    │   └── NothingUsable nothing usable was read (exit 2); carries the problems that explain why
    └── EvidenceError     a file that cannot be read as evidence (named file, optional line, hint)

Only ``cli`` prints errors; everything else raises these.
"""

from __future__ import annotations


class HybridTlsError(Exception):
    """Base of every error hybridtls reports to a person."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(HybridTlsError):
    """The command line asks for something that cannot be done."""


class NothingUsable(UsageError):
    """Nothing a command could work with was read. ``problems`` are (``where: what``, hint) lines."""

    def __init__(self, message: str, *, hint: str | None = None,
                 problems: tuple[tuple[str, str | None], ...] = ()) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


class EvidenceError(HybridTlsError):
    """A file could not be read as evidence. ``where`` is ``file`` or ``file:line``."""

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.line = line

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"
