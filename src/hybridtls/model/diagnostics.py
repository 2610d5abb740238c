"""What the readers say about the input itself: records skipped, assumptions made, files not read."""

from __future__ import annotations

from dataclasses import dataclass

from hybridtls.model.source import Source


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedRecord:
    """A record that was read but is of a kind hybridtls does not use (yet)."""

    source: Source
    properties: tuple[str, ...]
    type_hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Something about the input a person should know: an assumption made, a value not trusted."""

    source: Source
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InputProblem:
    """A file that could not be used at all."""

    source: Source
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """How much of the evidence given was read and understood: what a verdict rests on."""

    files: int  # files hybridtls set out to read
    files_read: int  # of those, read without a problem
    files_skipped: int  # passed over in folders: not evidence, or not regular files
    records: int  # records read into the model
    records_not_understood: int  # records of kinds hybridtls does not read


@dataclass(frozen=True, slots=True, kw_only=True)
class Interruption:
    """A run stopped before it finished (Ctrl-C): its report covers ``done`` of ``total`` addresses or files."""

    reason: str  # "interrupted"
    done: int
    total: int
    unit: str  # "addresses" or "files"

    @property
    def words(self) -> str:
        """"partial: interrupted after 3 of 10 addresses", as every format says it beside the verdict."""
        return f"partial: {self.reason} after {self.done:,} of {self.total:,} {self.unit}"
