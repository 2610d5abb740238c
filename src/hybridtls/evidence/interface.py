"""What an evidence reader is, and the file it is shown.

A reader says whether it recognises a file (from its name, its first bytes or its first text: cheap) and reads it
into records, as an iterator so that a large file is never held as records all at once. Records are either
``RawRecord`` (PowerShell output: the loader classifies and builds each one, see ``kinds``) or finished model
records (``CertificateFile``, ``ProbeResult``). The readers, in the order they are asked, are listed in
``registry.READERS``; adding one is a module with a ``EvidenceReader`` subclass and one line there.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import Union

from hybridtls.errors import EvidenceError
from hybridtls.evidence.attribution import folder_server
from hybridtls.evidence.decoding import decode_evidence
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import (
    AnchorRecord,
    CertificateFile,
    ChainVerification,
    DeliveryError,
    DnsAnswerStatus,
    HybridConfiguration,
    MtaStsResult,
    Notice,
    OnlineConnector,
    ProbeResult,
    ReceiveConnector,
    RootUpdateState,
    SendConnector,
    ServerRef,
    SmtpLogSummary,
    SmtpSession,
    TlsaRecord,
    TrackingSummary,
    WindowsEvent,
)

# A runtime alias, Python 3.10 compatible. A Notice is what a reader says about the file as it reads it (lines it
# passed over); the loader keeps it.
Record = Union[RawRecord, CertificateFile, ProbeResult, MtaStsResult, AnchorRecord, SendConnector, ReceiveConnector,  # noqa: UP007
               HybridConfiguration, OnlineConnector, DeliveryError, WindowsEvent, SmtpSession, SmtpLogSummary,
               TrackingSummary, ChainVerification, RootUpdateState, TlsaRecord, DnsAnswerStatus, Notice]
EXPECTED = "expected PowerShell output: Format-List text, a table, CSV (Export-Csv) or JSON (ConvertTo-Json)"
_LEADING_SPACE = re.compile(r"\s*")  # what str.lstrip() strips


class EvidenceFile:
    """One file being read: its name as given, its bytes, and its text (decoded once, when a reader first asks;
    the bytes are let go then, so a large file is in memory once, as text)."""

    __slots__ = ("display", "suffix", "_data", "_text", "warning", "_start", "passwords", "server")

    def __init__(self, display: str, data: bytes, passwords: Callable[[str], bytes | None] | None = None,
                 server: ServerRef | None = None) -> None:
        self.display = display
        self.passwords = passwords  # for a PFX among the evidence: asked with the file's name
        # the server of records that do not name theirs: given with --server, or else the folder's, if it can be one
        self.server = server or folder_server(display)
        self.suffix = PurePath(display).suffix.casefold()
        self._data: bytes | None = data
        self._text: str | None = None
        self._start = 0
        self.warning: str | None = None  # what decoding noticed (a UTF-16 file cut mid-character)

    @property
    def data(self) -> bytes:
        """The bytes; only before the text is decoded (readers of binary formats come first)."""
        if self._data is None:
            raise RuntimeError("the bytes of a file are let go once its text is decoded")
        return self._data

    @property
    def text(self) -> str:
        if self._text is None:
            decoded = decode_evidence(self.data, self.display)
            self._text, self.warning, self._data = decoded.text, decoded.warning, None
            self._start = _LEADING_SPACE.match(self._text).end()  # type: ignore[union-attr]  # matches anywhere
        return self._text

    @property
    def decoded(self) -> bool:
        return self._text is not None

    def head(self, size: int = 4096) -> str:
        """The start of the text, leading white space left out (without copying the whole text)."""
        text = self.text
        return text[self._start:self._start + size]

    def first_line(self) -> str:
        """The first line that is not blank, stripped."""
        text = self.text
        end = text.find("\n", self._start)
        return text[self._start:end if end >= 0 else len(text)].strip()


class EvidenceReader(ABC):
    """One kind of evidence file."""

    name: str  # what it reads, for messages and tests

    @abstractmethod
    def recognises(self, file: EvidenceFile) -> bool:
        """Whether this reader reads the file; from its name, first bytes or first text, never a full parse
        unless the format can only be told that way."""

    @abstractmethod
    def read(self, file: EvidenceFile) -> Iterator[Record]:
        """The records of the file, in file order, as they are read. Raises EvidenceError (with the file, and
        the line where there is one) for a file it cannot read."""


def pieces(text: str, start: int = 0, size: int = 1 << 20) -> Iterator[str]:
    """The text from ``start`` in pieces of about ``size`` characters, each ending just after a ``\\n`` (a line
    end however lines are split), so that a reader can split lines a piece at a time rather than hold a list of
    every line of a large file."""
    while start < len(text):
        cut = text.find("\n", start + size) + 1 or len(text)
        yield text[start:cut]
        start = cut


def at_least_one(records: Iterator[Record], path: str) -> Iterator[Record]:
    """The records, or an EvidenceError when there are none (text that holds no PowerShell output)."""
    empty = True
    for record in records:
        empty = False
        yield record
    if empty:
        raise EvidenceError("no PowerShell output found; " + EXPECTED, path=path)
