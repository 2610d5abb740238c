"""Records as a reader found them, before anyone knows what kind of object they describe."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hybridtls.model import Source

_TYPE_NAME = re.compile(r"^(?:Deserialized\.)?(?:System|Microsoft)\.[\w.`]+(?:\[[^\]]*\])*$")
_HASHTABLE = re.compile(r"^@\{.*\}$", re.S)


def canonical_key(label: str) -> str:
    """``Message Trace ID``, ``MessageTraceId`` and ``message_trace_id`` are the same property."""
    return re.sub(r"[\s_\-.]", "", label).casefold()


@dataclass(frozen=True, slots=True)
class RawValue:
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
    if value.startswith("{") and value.endswith("}"):
        inner = value[1:-1].strip()
        truncated = inner.endswith("...") or inner.endswith("\u2026")
        inner = inner.rstrip(".\u2026").rstrip() if truncated else inner
        items = tuple(part.strip() for part in inner.split(",") if part.strip())
        return RawValue(value, items=items, truncated=truncated)
    truncated = value.endswith("...") or value.endswith("\u2026")
    shallow = bool(_TYPE_NAME.match(value) and value.endswith("[]")) or bool(_HASHTABLE.match(value))
    return RawValue(value, truncated=truncated, shallow=shallow)


@dataclass(frozen=True, slots=True)
class RawField:
    label: str
    value: RawValue
    line: int

    @property
    def key(self) -> str:
        return canonical_key(self.label)


@dataclass(frozen=True, slots=True)
class RawRecord:
    source: Source
    fields: tuple[RawField, ...]
    type_hint: str | None = None
    command: str | None = None

    def get(self, *keys: str) -> RawField | None:
        """The first field present under any of the canonical keys given."""
        wanted = [canonical_key(k) for k in keys]
        for key in wanted:
            for raw_field in self.fields:
                if raw_field.key == key:
                    return raw_field
        return None

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields)
