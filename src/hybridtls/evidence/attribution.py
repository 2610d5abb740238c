"""Which server a file's records belong to when the records do not say: the folder the file was saved in, if its
name can be a server's, or the server the admin gave with ``--server``.

A folder name is a weak witness. ``corpus``, ``exchangecertificate`` or ``after-fix`` name no server, and a fix that
says ``-Server exchangecertificate`` misleads; so a folder names a server only when its name could be a Windows
computer name (a first label of at most 15 letters, digits and hyphens, NetBIOS's limit) and is not one of the words
people name evidence folders with. Even then the report marks the server as taken from a folder name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from hybridtls.errors import UsageError
from hybridtls.model import ServerBasis, ServerRef

# Folders of an Exchange installation that name no server (a server is the nearest folder above them).
EXCHANGE_FOLDERS = frozenset({
    "smtpreceive", "smtpsend", "protocollog", "frontend", "hub", "edge", "logs", "transportroles", "messagetracking",
    "mailbox", "v15", "exchange server", "microsoft", "program files",
})
# Words of folder names that say what a folder holds or when it was saved, not which server: a name holding one of
# them (``certs``, ``excas1-before``, ``Exchange Online``) is no server's.
GENERIC_WORDS = frozenset({
    "after", "backup", "backups", "before", "bin", "captures", "case", "cases", "cert", "certificate", "fixtures",
    "certificates", "certs", "cloud", "collected", "connector", "connectors", "corpus", "data", "desktop", "docs",
    "documents", "download", "downloads", "event", "eventlog", "events", "evidence", "exchangecertificate",
    "exchangecertificates", "exo", "export", "exports", "file", "files", "fix", "fixed", "home", "hybrid",
    "hybridtls", "incident", "input", "inputs", "log", "m365", "messagetrace", "new", "o365", "office365", "old",
    "online", "onprem", "out", "output", "outputs", "paste", "pasted", "pastes", "queue", "queues", "report",
    "reports", "result", "results", "root", "sample", "samples", "saved", "script", "scripts", "screenshots",
    "support", "table", "tables", "temp", "tenant", "test", "tests", "ticket", "tickets", "tmp", "trace", "traces",
    "transcript",
    "transcripts", "users", "work",
})
_COMPUTER_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?")
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_WORDS = re.compile(r"[A-Za-z0-9]+")
_TRANSCRIPT = re.compile(r"^\**\s*Windows PowerShell transcript start\s*$.*?^Machine: (?P<name>[A-Za-z0-9][\w.-]*)",
                         re.M | re.S)


def _computer_label(name: str) -> bool:
    """The first label of a name (the whole of a short one) can be a Windows computer name."""
    first = name.partition(".")[0]
    return _COMPUTER_LABEL.fullmatch(first) is not None and not first.isdigit()


def could_be_server(name: str) -> bool:
    """A Windows computer name, short or fully qualified, that is not a word for a kind of evidence folder."""
    if not _computer_label(name):
        return False
    rest = name.partition(".")[2]
    if rest and not all(_DNS_LABEL.fullmatch(label) for label in rest.split(".")):
        return False
    return not any(word.casefold() in GENERIC_WORDS for word in _WORDS.findall(name))


def server_from_path(display: str) -> str | None:
    """The server named by the nearest folder above the file that is not one of Exchange's own
    (``EXCAS1/SmtpReceive/RECV.LOG`` is EXCAS1's), when that folder's name can be a server's."""
    path = PureWindowsPath(display) if "\\" in display else PurePosixPath(display)
    for part in reversed(path.parent.parts):
        name = part.strip("\\/")
        if not name or name in (".", "..") or name.endswith(":") or name.casefold() in EXCHANGE_FOLDERS:
            continue
        return name if could_be_server(name) else None
    return None


def folder_server(display: str) -> ServerRef | None:
    name = server_from_path(display)
    return ServerRef(name=name, basis=ServerBasis.FOLDER) if name else None


@dataclass(frozen=True)
class ServerAssignments:
    """``--server``: the server of the records that do not name theirs, for every file (``NAME``) or for the files
    under one path given (``PATH=NAME``). Records that name their server keep it."""

    default: str | None = None
    by_path: tuple[tuple[str, str], ...] = ()

    def server_of(self, given: str, path: Path) -> ServerRef | None:
        for prefix, name in self.by_path:
            if given == prefix or _under(path, prefix):
                return ServerRef(name=name, basis=ServerBasis.GIVEN)
        if self.default:
            return ServerRef(name=self.default, basis=ServerBasis.GIVEN)
        return folder_server(os.path.abspath(path))


def _under(path: Path, prefix: str) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(prefix))
    except ValueError:
        return False
    return True


def server_assignments(values: Sequence[str]) -> ServerAssignments:
    """``--server`` values: ``NAME`` for every file, or ``PATH=NAME`` for the files under one path given."""
    default: str | None = None
    by_path: list[tuple[str, str]] = []
    for value in values:
        path, equals, name = value.rpartition("=")
        name = name.strip()
        if not _computer_label(name):
            raise UsageError(f"--server {value!r}: expected a server name (a computer name of at most 15 letters, "
                             "digits and hyphens, or its FQDN), or PATH=NAME")
        if equals:
            by_path.append((path, name))
        elif default is not None and default != name:
            raise UsageError(f"--server is given twice without a path ({default!r}, {name!r}): use PATH=NAME")
        else:
            default = name
    return ServerAssignments(default=default, by_path=tuple(by_path))


def transcript_machine(head: str) -> str | None:
    """The computer a ``Start-Transcript`` file was written on (``Machine: EXCAS1 (Microsoft Windows NT ...)`` in its
    header), when it can be a server's name. Records that name no server were most likely read there; a remote
    Exchange Management Shell session is the exception, which is why it counts for less than --server."""
    match = _TRANSCRIPT.search(head[:4096])
    if match is None:
        return None
    name = match["name"]
    return name if _computer_label(name) else None
