"""On-premises ``Get-Queue``: a queue's last error, as a delivery error."""

from __future__ import annotations

from hybridtls.evidence.kinds.base import BuildContext, _date, _kind, _server, _text
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import (
    DeliveryError,
    Source,
)


def build_queue(record: RawRecord, ctx: BuildContext) -> DeliveryError | None:
    error = _text(record, ctx, "LastError", trusted=False)
    if not error:
        return None
    identity = _text(record, ctx, "Identity", trusted=False) or "?"
    server = _server(record, ctx)
    raw = record.get("LastError")
    return DeliveryError(source=Source(path=record.source.path, line=raw.line if raw else record.source.line),
                         origin=f"queue {identity} (next hop {_text(record, ctx, 'NextHopDomain', trusted=False) or '?'})",
                         text=error, server=server.name if server else None,
                         when=_date(record, ctx, "LastRetryTime"))


QUEUE = _kind(
    "Queue", (("NextHopDomain",), ("DeliveryType", "MessageCount", "LastError")),
    ("LastError", "RetryCount", "NextHopConnector", "LastRetryTime", "TlsDomain"), build_queue,
    ("ExtensibleQueueInfo", "Queue"), ("LastRetryTime",))
