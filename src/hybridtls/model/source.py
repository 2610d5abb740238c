"""Where a record came from (file and line) and which server it speaks of."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A place in an evidence file. ``line`` is 1-based; None for whole-file facts."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


class Cited:
    """A record read from evidence, whose properties each have a line to cite."""

    __slots__ = ()
    source: Source
    field_lines: Mapping[str, int]

    def cite(self, prop: str) -> Source:
        """The source line of one property (a canonical key, e.g. "rootcatype"), or the record's first line."""
        line = self.field_lines.get(prop)
        return Source(path=self.source.path, line=line if line is not None else self.source.line)


class ServerBasis(str, enum.Enum):
    """How a record was attributed to a server, strongest first."""

    IDENTITY = "Identity property"
    PS_COMPUTER_NAME = "PSComputerName property"
    SERVER_PROPERTY = "Server property"
    COMMAND_LINE = "-Server on the command line in the file"
    GIVEN = "--server given to hybridtls"
    TRANSCRIPT = "Machine: in the Start-Transcript header"
    FOLDER = "folder name"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerRef:
    name: str
    basis: ServerBasis

    @property
    def key(self) -> str:
        """Servers are compared by short host name, case-insensitively (EXCAS1 == excas1.contoso.com)."""
        return self.name.split(".", 1)[0].casefold()


def certificate_identity_keys(thumbprint: str | None, issuer: str | None, serial: str | None) -> tuple[str, ...]:
    """One certificate, however it was seen: by thumbprint, or by issuer and serial number."""
    keys = []
    if thumbprint:
        keys.append("thumbprint:" + thumbprint.upper())
    if issuer and serial:
        keys.append("issuer+serial:" + " ".join(issuer.split()).casefold() + "|" + serial.upper())
    return tuple(keys)
