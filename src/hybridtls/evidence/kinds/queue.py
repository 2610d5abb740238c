"""On-premises ``Get-Queue``: every queue, held or not, and its LastError as a delivery error."""

from __future__ import annotations

from hybridtls.evidence.kinds.base import BuildContext, _date, _int, _kind, _server, _text
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import DeliveryError, MailQueue, Source


def build_queue(record: RawRecord, ctx: BuildContext) -> MailQueue | tuple[MailQueue, DeliveryError]:
    """The queue; with a LastError, also that error, for the error catalogue."""
    identity = _text(record, ctx, "Identity", trusted=False)
    server_ref = _server(record, ctx)
    server = server_ref.name if server_ref else None
    next_hop = _text(record, ctx, "NextHopDomain", trusted=False)
    error = _text(record, ctx, "LastError", trusted=False)
    last_retry = _date(record, ctx, "LastRetryTime")
    queue = MailQueue(source=record.source, identity=identity, server=server,
                      delivery_type=_text(record, ctx, "DeliveryType", trusted=False),
                      status=_text(record, ctx, "Status", trusted=False),
                      message_count=_int(record, ctx, "MessageCount"),
                      next_hop_domain=next_hop, last_error=error, last_retry_time=last_retry)
    if not error:
        return queue
    raw = record.get("LastError")
    return queue, DeliveryError(source=Source(path=record.source.path, line=raw.line if raw else record.source.line),
                                origin=f"queue {identity or '?'} (next hop {next_hop or '?'})",
                                text=error, server=server, when=last_retry)


QUEUE = _kind(
    "Queue", (("NextHopDomain", "DeliveryType"), ("DeliveryType", "MessageCount", "LastError")),
    ("LastError", "RetryCount", "NextHopConnector", "LastRetryTime", "TlsDomain"), build_queue,
    ("ExtensibleQueueInfo", "Queue"), ("LastRetryTime",))
