"""Exchange Online's ``Get-MessageTrace`` and ``Get-MessageTraceDetail``."""

from __future__ import annotations

from hybridtls.evidence.kinds.base import (
    BuildContext,
    RecordKind,
    _date,
    _date_of,
    _int_of,
    _keys,
    _kind,
    _text,
    _text_of,
)
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import (
    DeliveryError,
    Source,
    TraceEntry,
    TraceStatus,
)

_TRACE_STATUSES = {status.value.casefold(): status for status in TraceStatus}


_TRACE_FIELDS = (("Status",), ("MessageTraceId",), ("MessageId",), ("Received", "Date"), ("SenderAddress",),
                 ("RecipientAddress",), ("Subject",), ("FromIP",), ("ToIP",), ("Size",))


def build_trace_entry(record: RawRecord, ctx: BuildContext) -> TraceEntry:
    # looked up together (the one record kind that comes by the hundred thousand); read in the order they always were
    status_raw, trace_id, message_id, received, sender, recipient, subject, from_ip, to_ip, size = record.get_each(
        _TRACE_FIELDS)
    status_text = _text_of(status_raw, ctx, trusted=False)
    status = None
    if status_text:
        status = _TRACE_STATUSES.get(status_text.casefold())
        if status is None:
            ctx.note(status_raw.line if status_raw else None, f"message trace Status {status_text!r} is not a known status")
    return TraceEntry(
        source=record.source,
        field_lines=record.lines,
        message_trace_id=_text_of(trace_id, ctx),
        message_id=_text_of(message_id, ctx, trusted=False),
        received=_date_of(received, ctx),
        sender_address=_text_of(sender, ctx),
        recipient_address=_text_of(recipient, ctx),
        subject=_text_of(subject, ctx, trusted=False),
        status=status,
        status_text=status_text,
        from_ip=_text_of(from_ip, ctx),
        to_ip=_text_of(to_ip, ctx),
        size=_int_of(size, ctx),
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
