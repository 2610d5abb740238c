"""How a long run says how far it has got: events a front-end may show (a progress bar) or ignore.

The application never prints; it calls the ``Progress`` callback it was given, if any, from the thread that runs
it. A probe reports each address as it starts and finishes; ``check`` reports each file.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class ProgressKind(str, enum.Enum):
    TOTAL = "total"  # how many items the run will work through (``count``)
    STARTED = "started"  # ``item`` is now in flight
    FINISHED = "finished"  # ``item`` is done, whatever its outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressEvent:
    kind: ProgressKind
    unit: str  # "addresses" or "files"
    item: str = ""  # the address (``host [address]:port``) or the file, for STARTED and FINISHED
    count: int = 0  # for TOTAL


Progress = Callable[[ProgressEvent], None]


def report_total(progress: Progress | None, unit: str, count: int) -> None:
    if progress is not None:
        progress(ProgressEvent(kind=ProgressKind.TOTAL, unit=unit, count=count))


def report_item(progress: Progress | None, kind: ProgressKind, unit: str, item: str) -> None:
    if progress is not None:
        progress(ProgressEvent(kind=kind, unit=unit, item=item))
