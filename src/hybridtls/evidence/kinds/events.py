"""Windows events exported as objects: ``Get-WinEvent`` (EventLogRecord) and ``Get-EventLog`` (EventLogEntry) through
``ConvertTo-Json`` or ``Export-Csv`` (and their Format-List text where the event text reader did not take the file)."""

from __future__ import annotations

from datetime import timezone

from hybridtls.evidence.events import level_of
from hybridtls.evidence.kinds.base import BuildContext, _date_of, _int_of, _kind, _text
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import EventLayout, EventLevel, WindowsEvent

# EventLogEntryType as numbers (ConvertTo-Json writes enums as numbers)
_ENTRY_TYPES = {1: EventLevel.ERROR, 2: EventLevel.WARNING, 4: EventLevel.INFORMATION, 8: EventLevel.AUDIT_SUCCESS,
                16: EventLevel.AUDIT_FAILURE}


def _utc(text: str) -> bool:
    """``/Date(ms)/`` (ConvertTo-Json) and ISO values with Z or an offset are instants; console dates are local."""
    value = text.strip()
    return value.startswith(("/Date(", "\\/Date(")) or (
        "T" in value and (value.endswith("Z") or value[-6:-5] in "+-" and value[-3:-2] == ":"))


def build_event(record: RawRecord, ctx: BuildContext) -> WindowsEvent | None:
    message = _text(record, ctx, "Message", trusted=False)
    if message is None:
        return None
    event_log = record.get("EntryType", "TimeGenerated", "InstanceId") is not None
    event_id_raw = record.get("Id", "EventID")
    event_id = _int_of(event_id_raw, ctx)
    if event_id is None:
        instance = _int_of(record.get("InstanceId"), ctx)
        event_id = instance & 0xFFFF if instance is not None else None  # the id is InstanceId's low 16 bits
    time_raw = record.get("TimeCreated", "TimeGenerated")
    moment = _date_of(time_raw, ctx)
    if moment is not None and time_raw is not None and _utc(time_raw.value.text):
        moment = moment.replace(tzinfo=timezone.utc)
    level_raw = record.get("LevelDisplayName", "EntryType", "Level")
    level = None
    if level_raw is not None and not level_raw.value.empty:
        number = level_raw.value.number
        level = (_ENTRY_TYPES.get(number) if event_log and number is not None else level_of(level_raw.value.text)
                 or level_of(str(number) if number is not None else None))
    return WindowsEvent(
        source=record.source, field_lines=record.lines,
        layout=EventLayout.GET_EVENTLOG if event_log else EventLayout.GET_WINEVENT,
        log_name=_text(record, ctx, "LogName", "LogDisplayName"), provider=_text(record, ctx, "ProviderName", "Source"),
        event_id=event_id, level=level, time=moment,
        computer=_text(record, ctx, "MachineName", "PSComputerName"),
        task_category=_text(record, ctx, "TaskDisplayName", "Category", trusted=False),
        description=" ".join(message.split()),
        insertion_strings=_strings(record),
    )


def _strings(record: RawRecord) -> tuple[str, ...]:
    """ReplacementStrings as a list. From ConvertTo-Json it is exact; from text ("{a, b}") a value holding a comma
    (a TlsCertificateName) comes apart: the checks only use these values to recognise names and connectors."""
    raw = record.get("ReplacementStrings")
    if raw is None or raw.value.items is None or raw.value.truncated or raw.value.shallow:
        return ()
    return tuple(item.strip() for item in raw.value.items)


WIN_EVENT = _kind(
    "EventLogRecord", (("ProviderName",), ("Id",), ("Message",)),
    ("TimeCreated", "LevelDisplayName", "MachineName", "LogName", "TaskDisplayName", "RecordId", "Level"), build_event,
    ("EventLogRecord", "EventRecord"), ("TimeCreated",))
EVENT_LOG_ENTRY = _kind(
    "EventLogEntry", (("Source",), ("EventID", "InstanceId"), ("Message",)),
    ("EntryType", "TimeGenerated", "TimeWritten", "Index", "Category", "CategoryNumber", "ReplacementStrings",
     "MachineName"), build_event, ("EventLogEntry",), ("TimeGenerated", "TimeWritten"))

