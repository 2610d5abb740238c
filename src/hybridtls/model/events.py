"""Windows events as admins paste them: Event Viewer's "Copy details as text", Get-WinEvent, Get-EventLog."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hybridtls.model.source import Cited, Source


class EventLevel(str, enum.Enum):
    """The level of an event, whatever language Event Viewer showed it in."""

    CRITICAL = "Critical"
    ERROR = "Error"
    WARNING = "Warning"
    INFORMATION = "Information"
    VERBOSE = "Verbose"
    AUDIT_SUCCESS = "Audit Success"
    AUDIT_FAILURE = "Audit Failure"


class EventLayout(str, enum.Enum):
    """How the event was written down."""

    EVENT_VIEWER = "Event Viewer copy"  # "Copy details as text": Log Name:, Source:, ... Description:
    FLATTENED = "Event Viewer copy on one line"  # the same, its line breaks lost in a paste
    GET_WINEVENT = "Get-WinEvent"  # Format-List text, ConvertTo-Json or Export-Csv
    GET_EVENTLOG = "Get-EventLog"
    SAVED = "Event Viewer saved as CSV or text"  # "Save All Events As...": a row per event
    WEVTUTIL = "wevtutil qe /f:text"  # "Event[0]:" and the copy's labels, indented
    DESCRIPTION = "description alone"  # only the text; the event id is read from its wording


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowsEvent(Cited):
    """One event of a Windows event log.

    ``time`` carries its offset where the evidence gives one (the Event Xml's UTC SystemTime); otherwise it is the
    local time as printed, without an offset. ``description`` is the message with its white space run together.
    ``event_id_from_wording`` says the id was not written down but recognised from the description's wording.
    """

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    layout: EventLayout
    language: str | None = None  # the labels' language ("en", "de", ...), where labels were read
    log_name: str | None = None
    provider: str | None = None  # Source / ProviderName
    event_id: int | None = None
    event_id_from_wording: bool = False
    level: EventLevel | None = None
    time: datetime | None = None
    computer: str | None = None
    task_category: str | None = None
    description: str = ""
    # The event's parameters where the evidence lists them (the Event Xml's <Data>, an exported ReplacementStrings,
    # the "following information" of a description Event Viewer could not format), in order.
    insertion_strings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``event 12014 (MSExchangeFrontEndTransport) on EXCAS1``, as far as the record tells."""
        words = f"event {self.event_id}" if self.event_id is not None else "event"
        if self.provider:
            words += f" ({self.provider})"
        if self.computer:
            words += f" on {self.computer}"
        return words
