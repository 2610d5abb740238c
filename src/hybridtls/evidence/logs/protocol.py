"""SMTP send and receive protocol logs, read as a stream into sessions and per-connector summaries.

Rows are parsed by the csv module a piece of the text at a time; each row updates its open session (found by
session id), and a session is finished when its ``-`` (disconnect) row arrives. Memory is bounded: at most
``MAX_OPEN`` sessions are open at once (the oldest is finished early, marked incomplete, when another opens) and
at most ``MAX_ROWS`` rows of a session are read for TLS facts (the rest are counted). A finished session is counted
in the summary of its connector and remote address; it is yielded whole only when it failed TLS (the first
``KEEP_FAILURES`` per connector, remote address and error) or is the first of the file to show its certificates
and protocol, so that a month of logs yields a few thousand records. However hostile the file, at most
``MAX_KEPT`` sessions and ``MAX_TALLIES`` summaries come of it (past that, new connectors and addresses are
summarised together, as None).

TLS rows, both styles Exchange 2013 to SE write:
- one attribute per row: ``*,,Sending certificate`` (or ``Received certificate`` / ``Remote certificate``) then
  ``*,<value>,Certificate subject`` / ``Certificate issuer name`` / ``Certificate serial number`` /
  ``Certificate thumbprint`` / ``Certificate alternate names``;
- one row: the values space-separated in ``data``, their names in ``context``
  (``Sending certificate Subject Issuer name Serial number Thumbprint Not before Not after Subject alternate names``);
- ``TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk encryption algorithm ...``;
- ``TLS negotiation failed with error UnknownCredentials`` (or NoCredentials, SocketError, InvalidToken...).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from hybridtls.errors import EvidenceError
from hybridtls.evidence.interface import EvidenceFile, Record
from hybridtls.evidence.logs.common import PROTOCOL_FIELDS, log_rows, log_time, malformed
from hybridtls.model import LoggedCertificate, SmtpLogSummary, SmtpLogType, SmtpSession, Source, TlsOutcome
from hybridtls.model.logs import endpoint_address

MAX_OPEN = 10_000
MAX_ROWS = 400
KEEP_FAILURES = 20
MAX_KEPT = 5_000  # sessions kept whole per file, whatever else: a hostile file of all-different sessions stays bounded
MAX_TALLIES = 20_000  # summaries per file; past it, new connectors and addresses are counted together (None)

_SUCCESS = re.compile(r"TLS protocol SP_PROT_(\w+?)_(?:SERVER|CLIENT) negotiation succeeded using bulk encryption "
                      r"algorithm (\w+) with strength \d+ bits, MAC hash algorithm (\w+) with strength \d+ bits and "
                      r"key exchange algorithm (\w+)")
_FAILURE = re.compile(r"TLS negotiation failed with error (\w+)")
_MARKERS = {"sending certificate": "sent", "received certificate": "received", "remote certificate": "received"}
_ATTRIBUTES = {"certificate subject": "subject", "certificate issuer name": "issuer",
               "certificate serial number": "serial_number", "certificate thumbprint": "thumbprint"}
_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")
_SERIAL_THEN_THUMBPRINT = re.compile(r"(?:^|\s)([0-9A-Fa-f]{2,64})\s+([0-9A-Fa-f]{40})(?=\s|$)")
_NEXT_NAME = re.compile(r"(?<!,) (?=(?:CN|OU|O|L|S|ST|C|DC|E|SERIALNUMBER)=)")
_MIN_COLUMNS = 7
_KEEP_CHARS = 2048  # of a value kept from a row (a failure's text, a certificate's subject): a hostile row stays small


@dataclass(slots=True)
class _Open:
    """A session being read."""

    line: int
    connector: str
    local: str
    remote: str
    first: str
    last: str = ""
    rows: int = 0
    remote_name: str | None = None
    tls: TlsOutcome = TlsOutcome.NOT_TRIED
    protocol: str | None = None
    cipher: str | None = None
    error: str | None = None
    failure: str | None = None
    failure_line: int | None = None
    target: str = "sent"
    sent: dict[str, str] = field(default_factory=dict)
    received: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    line: int
    first: str
    last: str
    sessions: int = 0
    succeeded: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    not_kept: int = 0
    cut: int = 0
    unfinished: int = 0


def read_protocol_log(file: EvidenceFile, log_type: str | None, fields: tuple[str, ...] | None) -> Iterator[Record]:
    return _ProtocolLog(file, log_type, fields).read()


class _ProtocolLog:
    def __init__(self, file: EvidenceFile, log_type: str | None, fields: tuple[str, ...] | None) -> None:
        self.path = file.display
        self.file = file
        if log_type is not None and fields is None:
            raise EvidenceError("the log's header has no #Fields line", path=self.path)
        self.kind = _log_type(log_type, file.display)
        self.folder_server = file.server.name if file.server else None
        self.open: dict[str, _Open] = {}
        self.tallies: dict[tuple[str, str | None], _Tally] = {}
        self.failures_kept: dict[tuple[str, str | None, str], int] = {}
        self.shapes_seen: set[tuple[object, ...]] = set()
        self.kept = 0

    def read(self) -> Iterator[Record]:
        reader = log_rows(self.file.text)
        try:
            yield from self._rows(reader)
        except csv.Error as exc:
            raise malformed(exc, self.path, reader.line_num) from None
        open_ = self.open
        for session_id in list(open_):
            yield from self._finish(session_id, open_.pop(session_id), complete=False)
        yield from self._summaries()

    def _rows(self, reader: Any) -> Iterator[Record]:
        """The hot loop: one dictionary lookup per row, the row's line asked only when it is kept."""
        rows = 0
        open_, path, get = self.open, self.path, self.open.get
        for row in reader:
            if len(row) < _MIN_COLUMNS or row[0][:1] == "#":
                if not row or row[0][:1] == "#" or not "".join(row).strip():
                    continue
                raise EvidenceError(f"a protocol-log row of {len(row)} fields, expected 9 "
                                    f"({','.join(PROTOCOL_FIELDS)})", path=path, line=reader.line_num)
            rows += 1
            session_id = row[2]
            session = get(session_id)
            if session is None:
                if row[0] == "date-time":  # the field names as a plain CSV header
                    continue
                if self.kind is None:
                    self.kind = SmtpLogType.RECEIVE if "\\" in row[1] else SmtpLogType.SEND
                session = open_[session_id] = _Open(reader.line_num, row[1], row[4], row[5], row[0])
                if len(open_) > MAX_OPEN:
                    oldest = next(iter(open_))
                    yield from self._finish(oldest, open_.pop(oldest), complete=False, capped=True)
            session.rows += 1
            session.last = row[0]
            if not session.local and row[4]:  # a send session's first row ("attempting to connect") has none
                session.local = row[4]
            event = row[6]
            if event == "-":
                yield from self._finish(session_id, open_.pop(session_id), complete=True)
            elif session.rows > MAX_ROWS:
                continue
            elif event == "*":
                _information(session, row[7], row[8] if len(row) > 8 else "", reader)
            elif event == "<" and session.remote_name is None:
                _remote_name(session, row[7], self.kind)
        if not rows:
            raise EvidenceError("an Exchange protocol log with no rows", path=path)

    def _finish(self, session_id: str, open_: _Open, *, complete: bool, capped: bool = False) -> Iterator[Record]:
        kind = self.kind or SmtpLogType.RECEIVE
        server, _, connector = open_.connector.rpartition("\\")
        remote = endpoint_address(open_.remote)
        key: tuple[str, str | None] = (open_.connector, remote)
        tally = self.tallies.get(key)
        if tally is None:
            if len(self.tallies) >= MAX_TALLIES:  # past the cap, every new connector and address counted together
                key = ("", None)
            tally = self.tallies.get(key)
            if tally is None:
                tally = self.tallies[key] = _Tally(open_.line, open_.first, open_.last)
        tally.sessions += 1
        tally.last = max(tally.last, open_.last)
        tally.first = min(tally.first, open_.first)
        if capped or open_.rows > MAX_ROWS:
            tally.cut += 1
        elif not complete:
            tally.unfinished += 1
        if open_.tls is TlsOutcome.SUCCEEDED:
            tally.succeeded += 1
        elif open_.tls is TlsOutcome.FAILED and open_.error:
            tally.failed[open_.error] = tally.failed.get(open_.error, 0) + 1
        if not self._keep(open_, remote):
            tally.not_kept += 1
            return
        self.kept += 1
        yield SmtpSession(
            source=Source(path=self.path, line=open_.line), log_type=kind, session_id=session_id,
            server=server or self.folder_server, connector=connector or None, local_endpoint=open_.local or None,
            remote_endpoint=open_.remote or None, remote_name=open_.remote_name,
            first_seen=log_time(open_.first, self.path, open_.line), last_seen=log_time(open_.last, self.path, open_.line),
            tls=open_.tls, tls_protocol=open_.protocol, tls_cipher=open_.cipher, tls_error=open_.error,
            failure=open_.failure, failure_line=open_.failure_line,
            certificate_sent=_certificate(open_.sent), certificate_received=_certificate(open_.received),
            rows=open_.rows, rows_cut=max(0, open_.rows - MAX_ROWS), complete=complete)

    def _keep(self, open_: _Open, remote: str | None) -> bool:
        if self.kept >= MAX_KEPT:
            return False
        if open_.tls is TlsOutcome.FAILED:
            key = (open_.connector, remote, open_.error or "")
            kept = self.failures_kept.get(key, 0)
            self.failures_kept[key] = kept + 1
            return kept < KEEP_FAILURES
        if open_.tls is TlsOutcome.NOT_TRIED and not open_.sent and not open_.received:
            return False
        shape = (open_.connector, open_.tls, open_.protocol, open_.cipher, tuple(sorted(open_.sent.items())),
                 tuple(sorted(open_.received.items())))
        if shape in self.shapes_seen:
            return False
        self.shapes_seen.add(shape)
        return True

    def _summaries(self) -> Iterator[Record]:
        kind = self.kind or SmtpLogType.RECEIVE
        for (connector_id, remote), tally in self.tallies.items():
            server, _, connector = connector_id.rpartition("\\")
            yield SmtpLogSummary(
                source=Source(path=self.path, line=tally.line), log_type=kind, server=server or self.folder_server,
                connector=connector or None, remote_address=remote, first_seen=log_time(tally.first, self.path, tally.line),
                last_seen=log_time(tally.last, self.path, tally.line), sessions=tally.sessions,
                tls_succeeded=tally.succeeded,
                tls_failed=tuple(sorted(tally.failed.items(), key=lambda item: (-item[1], item[0]))),
                sessions_not_kept=tally.not_kept, sessions_cut=tally.cut,
                sessions_unfinished=tally.unfinished)


def _log_type(declared: str | None, display: str) -> SmtpLogType | None:
    """Send or receive: from ``#Log-type``, else the file name (``RECV…``/``SEND…``); None: decided by the rows."""
    text = (declared or "").casefold()
    if "smtp receive" in text:
        return SmtpLogType.RECEIVE
    if "smtp send" in text:
        return SmtpLogType.SEND
    if declared:
        raise EvidenceError(f"an Exchange log of type {declared!r}, not read yet; hybridtls reads SMTP protocol logs "
                            "and message-tracking logs", path=display)
    name = PurePath(display.replace("\\", "/")).name.upper()
    if name.startswith("RECV"):
        return SmtpLogType.RECEIVE
    if name.startswith("SEND"):
        return SmtpLogType.SEND
    return None


def _information(session: _Open, data: str, context: str, reader: Any) -> None:
    """A ``*`` row: TLS outcome, certificates."""
    if context.startswith("TLS ") or data.startswith("TLS "):
        text = context if context.startswith("TLS ") else data
        success = _SUCCESS.match(text)
        if success:
            session.tls, session.protocol = TlsOutcome.SUCCEEDED, success[1]
            session.cipher = " ".join(success.group(2, 3, 4))
            return
        failure = _FAILURE.match(text)
        if failure:
            session.tls, session.error, session.failure, session.failure_line = (
                TlsOutcome.FAILED, failure[1][:_KEEP_CHARS], text[:_KEEP_CHARS], reader.line_num)
        return
    if not context.startswith(("Sending", "Received", "Remote", "Certificate")):
        return
    lowered = context.casefold()
    attribute = _ATTRIBUTES.get(lowered)
    if attribute is not None:
        if data:
            (session.sent if session.target == "sent" else session.received)[attribute] = data[:_KEEP_CHARS]
        return
    for marker, target in _MARKERS.items():
        if lowered == marker:
            session.target = target
            if data:  # a marker row that carries the certificate itself: its thumbprint, or its subject
                key = "thumbprint" if _THUMBPRINT.fullmatch(data) else "subject"
                (session.sent if target == "sent" else session.received)[key] = data[:_KEEP_CHARS]
            return
        if lowered.startswith(marker + " ") and data:
            session.target = target
            (session.sent if target == "sent" else session.received).update(_single_row(data[:_KEEP_CHARS * 4]))
            return


def _single_row(data: str) -> dict[str, str]:
    """The newer style's values, space-separated: subject and issuer (distinguished names with spaces of their
    own), serial number, thumbprint, then dates and names (not kept)."""
    found = _SERIAL_THEN_THUMBPRINT.search(data)
    if found is None:
        return {"subject": data}
    names = data[:found.start()].strip()
    values = {"serial_number": found[1], "thumbprint": found[2]}
    split = _NEXT_NAME.search(names)
    if split is None:
        values["subject"] = names
    else:
        values["subject"], values["issuer"] = names[:split.start()].strip(), names[split.end():].strip()
    return {k: v for k, v in values.items() if v}


def _remote_name(session: _Open, data: str, kind: SmtpLogType | None) -> None:
    """The name the other end gives: its EHLO (receive side) or its banner (send side)."""
    word, _, rest = data.partition(" ")
    if word.upper() in ("EHLO", "HELO") or (kind is SmtpLogType.SEND and word == "220"):
        session.remote_name = rest.split(" ", 1)[0][:_KEEP_CHARS] or None


def _certificate(values: dict[str, str]) -> LoggedCertificate | None:
    if not values:
        return None
    return LoggedCertificate(subject=values.get("subject"), issuer=values.get("issuer"),
                             thumbprint=values.get("thumbprint"), serial_number=values.get("serial_number"))
