"""On-premises ``Get-MessageTrackingLog | Format-List``: a DEFER or FAIL event's recipient status, as a delivery
error (the console reader already starts a record at each repeating ``RunspaceId``). Other events build nothing:
a raw ``MSGTRK*.log`` gives their counts (``evidence.logs.tracking``)."""

from __future__ import annotations

from hybridtls.evidence.kinds.base import BuildContext, _date, _kind, _server, _text
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import DeliveryError, Source

_ERROR_EVENTS = frozenset({"DEFER", "FAIL"})


def build_tracking_event(record: RawRecord, ctx: BuildContext) -> DeliveryError | None:
    event = (_text(record, ctx, "EventId", trusted=False) or "").upper()
    if event not in _ERROR_EVENTS:
        return None
    status = _text(record, ctx, "RecipientStatus", trusted=False) or _text(record, ctx, "SourceContext", trusted=False)
    if status and status.startswith("{") and status.endswith("}"):
        status = status[1:-1].strip()
    if not status:
        return None
    server_ref = _server(record, ctx)
    server = (server_ref.name if server_ref else None) or _text(record, ctx, "ServerHostname", trusted=False)
    raw = record.get("RecipientStatus")
    return DeliveryError(source=Source(path=record.source.path, line=raw.line if raw else record.source.line),
                         origin=f"message tracking log {server or '?'}", text=status, server=server,
                         when=_date(record, ctx, "Timestamp"))


MESSAGE_TRACKING_EVENT = _kind(
    "MessageTrackingEvent", (("EventId",), ("RecipientStatus",), ("InternalMessageId", "Timestamp")),
    ("EventId", "RecipientStatus", "InternalMessageId", "ServerHostname", "ConnectorId", "Source", "MessageId",
     "Recipients", "TotalBytes", "MessageSubject", "Sender", "SchemaVersion"), build_tracking_event,
    ("MessageTrackingEvent",), ("Timestamp",))
