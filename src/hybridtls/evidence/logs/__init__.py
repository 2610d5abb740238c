"""Exchange's own logs: the W3C-style header they share, and one reader that hands each log type to its module.

Every Exchange log opens with ``#Software``, ``#Version``, ``#Log-type``, ``#Date`` and ``#Fields`` lines, then CSV
rows. SMTP protocol logs (send and receive) are read by ``protocol``, message-tracking logs by ``tracking``; rows
pasted without their header (as they reach a forum) are recognised by their shape.
"""

from __future__ import annotations

from collections.abc import Iterator

from hybridtls.errors import EvidenceError
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record
from hybridtls.evidence.logs import protocol, tracking
from hybridtls.evidence.logs.common import HEADERLESS, PROTOCOL_FIELDS


class ExchangeLogReader(EvidenceReader):
    """SMTP send/receive protocol logs and message-tracking logs, with their header or pasted without it."""

    name = "Exchange log"

    def recognises(self, file: EvidenceFile) -> bool:
        first = file.first_line()
        return (first.startswith(("#Software: Microsoft Exchange", "#Fields: date-time,", "date-time,connector-id,",
                                  "date-time,client-ip,"))
                or HEADERLESS.match(first) is not None)

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        log_type, fields = _header(file)
        if fields is None and file.first_line().startswith("#"):
            raise EvidenceError(f"an Exchange log ({log_type or 'no #Log-type'}) whose header has no #Fields line; "
                                "give the log file as Exchange wrote it", path=file.display)
        if fields is None or fields[:len(PROTOCOL_FIELDS) - 2] == PROTOCOL_FIELDS[:-2]:
            return protocol.read_protocol_log(file, log_type, fields)
        if "event-id" in fields and "recipient-status" in fields:
            return tracking.read_tracking_log(file, fields)
        raise EvidenceError(f"an Exchange log of type {log_type or 'unknown'!r}, not read yet; hybridtls reads SMTP "
                            "protocol logs and message-tracking logs", path=file.display)


def _header(file: EvidenceFile) -> tuple[str | None, tuple[str, ...] | None]:
    """The ``#Log-type`` and ``#Fields`` of the header (None, None for rows pasted without one)."""
    log_type = fields = None
    for line in file.head(8192).splitlines():
        line = line.strip()
        if line.startswith("date-time,"):  # the field names as a plain CSV header (a log saved again by a tool)
            return log_type, tuple(f.strip().casefold() for f in line.split(","))
        if not line.startswith("#"):
            break
        name, _, value = line[1:].partition(":")
        if name.strip().casefold() == "log-type":
            log_type = value.strip()
        elif name.strip().casefold() == "fields":
            fields = tuple(f.strip().casefold() for f in value.split(","))
    return log_type, fields
