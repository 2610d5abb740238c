"""Records as a reader found them, before anyone knows what kind of object they describe."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, KeysView, Mapping
from functools import lru_cache
from itertools import repeat
from operator import itemgetter, sub
from typing import Any, NamedTuple

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
        return _new(RawValue, (value, None, False, None, False))  # the common case: no regex, no keywords
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
    return _new(RawField, (label, value, line, canonical_key(label)))


_new = tuple.__new__  # RawValue and RawField without their generated __new__: readers make one per property


class _Layout:
    """What records with the same properties in the same order share: where each key first appears."""

    __slots__ = ("keys", "positions", "key_set", "_wanted", "found", "found_each")

    def __init__(self, keys: tuple[str, ...]) -> None:
        positions: dict[str, int] = {}
        for index, key in enumerate(keys):
            positions.setdefault(key, index)
        self.keys = keys
        self.positions = positions
        self.key_set = frozenset(positions)
        self._wanted: dict[frozenset[str], tuple[int, ...]] = {}
        self.found: dict[tuple[str, ...], int] = {}  # RawRecord.get's answers: labels asked -> index or -1
        self.found_each: dict[tuple[tuple[str, ...], ...], tuple[int, ...]] = {}

    def find_each(self, wanted: tuple[tuple[str, ...], ...]) -> tuple[int, ...]:
        found = self.found_each.get(wanted)
        if found is None:
            found = self.found_each[wanted] = tuple(self.find(labels) for labels in wanted)
        return found

    def find(self, labels: tuple[str, ...]) -> int:
        """The index of the first field under the first of the labels present, or -1."""
        found = self.found.get(labels)
        if found is None:
            positions = self.positions
            indexes = [positions.get(canonical_key(label)) for label in labels]
            found = self.found[labels] = next((i for i in indexes if i is not None), -1)
        return found

    def positions_of(self, wanted: frozenset[str]) -> tuple[int, ...]:
        found = self._wanted.get(wanted)
        if found is None:
            found = self._wanted[wanted] = tuple(i for i, key in enumerate(self.keys) if key in wanted)
        return found


_LAYOUTS: dict[tuple[str, ...], _Layout] = {}
_OFFSETS: dict[tuple[int, ...], tuple[int, ...]] = {}
_KEY = itemgetter(3)
_LINE = itemgetter(2)
_SHARED_LIMIT = 4096  # distinct property sets and line shapes remembered (fuzzed input makes many)


def _shared(cache: dict[Any, Any], key: Any, make: Callable[[Any], Any]) -> Any:
    found = cache.get(key)
    if found is None:
        if len(cache) >= _SHARED_LIMIT:
            cache.clear()
        found = cache[key] = make(key)
    return found


def shape_of(keys: tuple[str, ...]) -> _Layout:
    """The layout shared by every record with these canonical keys in this order."""
    layout = _LAYOUTS.get(keys)
    return layout if layout is not None else _shared(_LAYOUTS, keys, _Layout)


class FieldLines(Mapping[str, int]):
    """Canonical key -> the line of the property: a record's first line plus offsets that records of one shape
    share, so that 100,000 message-trace rows do not carry 100,000 dictionaries. Reads like the dictionary."""

    __slots__ = ("_positions", "_base", "_offsets")

    def __init__(self, positions: dict[str, int], base: int, offsets: tuple[int, ...]) -> None:
        self._positions = positions
        self._base = base
        self._offsets = offsets

    def __getitem__(self, key: str) -> int:
        return self._base + self._offsets[self._positions[key]]

    def get(self, key: str, default: Any = None) -> Any:
        index = self._positions.get(key)
        return default if index is None else self._base + self._offsets[index]

    def __contains__(self, key: object) -> bool:
        return key in self._positions

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def __repr__(self) -> str:
        return repr(dict(self))


class RawRecord:
    """One object as a reader found it: its properties in file order. Treat as immutable.

    A plain class with slots rather than a frozen dataclass because readers make one per object of files with
    100,000 objects: the key lookup is shared by every record with the same properties (``_Layout``).
    """

    __slots__ = ("source", "fields", "type_hint", "command", "_layout")

    def __init__(self, source: Source, fields: tuple[RawField, ...], type_hint: str | None = None,
                 command: str | None = None, *, keys: tuple[str, ...] | None = None) -> None:
        self.source = source
        self.fields = fields
        self.type_hint = type_hint
        self.command = command
        self._layout: _Layout = shape_of(tuple(map(_KEY, fields)) if keys is None else keys)

    def get(self, *keys: str) -> RawField | None:
        """The first field present under any of the keys given (labels or canonical keys)."""
        layout = self._layout
        index = layout.found.get(keys)  # asked of every record of a shape: answered once per shape
        if index is None:
            index = layout.find(keys)
        return self.fields[index] if index >= 0 else None

    def get_each(self, wanted: tuple[tuple[str, ...], ...]) -> list[RawField | None]:
        """``get(*labels)`` for each tuple of labels, at once."""
        fields = self.fields
        return [fields[index] if index >= 0 else None for index in self._layout.find_each(wanted)]

    @property
    def keys(self) -> KeysView[str]:
        """The canonical property keys (a live view: set operations without copying)."""
        return self._layout.positions.keys()

    def positions_of(self, keys: frozenset[str]) -> tuple[int, ...]:
        """Where the fields with any of these keys are (every one, not only the first of a key)."""
        return self._layout.positions_of(keys)

    @property
    def key_set(self) -> frozenset[str]:
        """The canonical property keys, shared by every record with the same properties."""
        return self._layout.key_set

    @property
    def lines(self) -> FieldLines:
        """Canonical key -> the line of its first field."""
        fields = self.fields
        base = fields[0].line if fields else 0
        offsets = tuple(map(sub, map(_LINE, fields), repeat(base)))
        shared = _OFFSETS.get(offsets)
        return FieldLines(self._layout.positions, base, shared if shared is not None else _shared(_OFFSETS, offsets, tuple))

    def _compared(self) -> tuple[Source, tuple[RawField, ...], str | None, str | None]:
        return self.source, self.fields, self.type_hint, self.command

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        return (f"RawRecord(source={self.source!r}, fields={self.fields!r}, type_hint={self.type_hint!r}, "
                f"command={self.command!r})")
