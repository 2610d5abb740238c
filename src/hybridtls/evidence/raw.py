"""Records as a reader found them, before anyone knows what kind of object they describe."""

from __future__ import annotations

import re
from collections.abc import KeysView
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from hybridtls.model import Source

_TYPE_NAME = re.compile(r"^(?:Deserialized\.)?(?:System|Microsoft)\.[\w.`]+(?:\[[^\]]*\])*$")
_HASHTABLE = re.compile(r"^@\{.*\}$", re.S)


_LABEL_NOISE = re.compile(r"[\s_\-.]")


@lru_cache(maxsize=4096)
def canonical_key(label: str) -> str:
    """``Message Trace ID``, ``MessageTraceId`` and ``message_trace_id`` are the same property."""
    return _LABEL_NOISE.sub("", label).casefold()


class RawValue(NamedTuple):
    """Immutable; a NamedTuple because readers make one per property line and it must be cheap."""

    text: str
    items: tuple[str, ...] | None = None
    truncated: bool = False
    number: int | None = None
    shallow: bool = False

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.items


def text_value(text: str) -> RawValue:
    """A value as PowerShell formats it for the console: ``{a, b}`` collections, ``...`` truncation."""
    value = text.strip()
    if not value or (value[0] not in "{@" and value[-1] not in "}.]\u2026"):
        return RawValue(value)  # the common case, without a regex
    if value.startswith("{") and value.endswith("}"):
        inner = value[1:-1].strip()
        truncated = inner.endswith("...") or inner.endswith("\u2026")
        inner = inner.rstrip(".\u2026").rstrip() if truncated else inner
        items = tuple(part.strip() for part in inner.split(",") if part.strip())
        return RawValue(value, items=items, truncated=truncated)
    truncated = value.endswith("...") or value.endswith("\u2026")
    shallow = bool(_TYPE_NAME.match(value) and value.endswith("[]")) or bool(_HASHTABLE.match(value))
    return RawValue(value, truncated=truncated, shallow=shallow)


class RawField(NamedTuple):
    label: str
    value: RawValue
    line: int
    key: str  # canonical_key(label), computed once: make fields with ``raw_field``


def raw_field(label: str, value: RawValue, line: int) -> RawField:
    return RawField(label, value, line, canonical_key(label))


@dataclass(frozen=True, slots=True)
class RawRecord:
    source: Source
    fields: tuple[RawField, ...]
    type_hint: str | None = None
    command: str | None = None
    _by_key: dict[str, RawField] = field(init=False, repr=False, compare=False)
    lines: dict[str, int] = field(init=False, repr=False, compare=False)  # canonical key -> line; do not mutate

    def __post_init__(self) -> None:
        by_key: dict[str, RawField] = {}
        lines: dict[str, int] = {}
        for item in self.fields:
            if item.key not in by_key:
                by_key[item.key] = item
                lines[item.key] = item.line
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "lines", lines)

    def get(self, *keys: str) -> RawField | None:
        """The first field present under any of the canonical keys given."""
        for key in keys:
            found = self._by_key.get(canonical_key(key))
            if found is not None:
                return found
        return None

    @property
    def keys(self) -> KeysView[str]:
        """The canonical property keys (a live view: set operations without copying)."""
        return self._by_key.keys()
