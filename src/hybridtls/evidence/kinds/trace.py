"""Exchange Online's ``Get-MessageTrace`` and ``Get-MessageTraceDetail``."""

from __future__ import annotations

from hybridtls.evidence.kinds.base import BuildContext, RecordKind, _date, _int, _keys, _kind, _text
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import (
    DeliveryError,
    Source,
    TraceEntry,
    TraceStatus,
)

_TRACE_STATUSES = {status.value.casefold(): status for status in TraceStatus}


def build_trace_entry(record: RawRecord, ctx: BuildContext) -> TraceEntry:
    status_text = _text(record, ctx, "Status", trusted=False)
    status = None
    if status_text:
        status = _TRACE_STATUSES.get(status_text.casefold())
        if status is None:
            raw = record.get("Status")
            ctx.note(raw.line if raw else None, f"message trace Status {status_text!r} is not a known status")
    return TraceEntry(
        source=record.source,
        field_lines=record.lines,
        message_trace_id=_text(record, ctx, "MessageTraceId"),
        message_id=_text(record, ctx, "MessageId", trusted=False),
        received=_date(record, ctx, "Received", "Date"),
        sender_address=_text(record, ctx, "SenderAddress"),
        recipient_address=_text(record, ctx, "RecipientAddress"),
        subject=_text(record, ctx, "Subject", trusted=False),
        status=status,
        status_text=status_text,
        from_ip=_text(record, ctx, "FromIP"),
        to_ip=_text(record, ctx, "ToIP"),
        size=_int(record, ctx, "Size"),
    )


MESSAGE_TRACE = RecordKind(
    name="MessageTrace",
    required=(_keys("Status"), _keys("RecipientAddress", "SenderAddress"), _keys("Received", "MessageTraceId")),
    indicative=_keys("MessageTraceId", "MessageId", "Received", "SenderAddress", "RecipientAddress", "FromIP",
                     "ToIP", "Subject", "Size"),
    date_fields=_keys("Received"),
    type_names=("MessageTrace", "MessageTraceV2"),
    build=build_trace_entry,
)


def build_trace_detail(record: RawRecord, ctx: BuildContext) -> DeliveryError | None:
    event = (_text(record, ctx, "Event", trusted=False) or "").casefold()
    detail = " ".join(t for t in (_text(record, ctx, "Detail", trusted=False), _text(record, ctx, "Data", trusted=False))
                      if t)
    if event not in ("defer", "fail", "drop") or not detail:
        return None
    raw = record.get("Detail", "Data")
    return DeliveryError(source=Source(path=record.source.path, line=raw.line if raw else record.source.line),
                         origin=f"message trace detail ({event.capitalize()})", text=detail,
                         when=_date(record, ctx, "Date"))


MESSAGE_TRACE_DETAIL = _kind(
    "MessageTraceDetail", (("Event",), ("Detail", "Data"), ("MessageTraceId", "Date", "Action")),
    ("MessageTraceId", "Date", "Event", "Action", "Detail", "Data", "RecipientAddress"), build_trace_detail,
    ("MessageTraceDetail",), ("Date",))
