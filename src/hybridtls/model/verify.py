"""What Windows itself said about trust on a server: ``certutil -verify -urlfetch <file>`` chain dumps, and the state
of the AuthRoot certificate trust list (``certutil -verifyctl AuthRoot``, the ``AuthRoot`` registry keys).

A chain dump shows the chain Windows built for one certificate, each element with its ``CERT_TRUST_*`` error and
info bits (Microsoft Learn, ``CERT_TRUST_STATUS``), and certutil's verdict line. The AuthRoot state says when the
server last refreshed its third-party roots from Windows Update, and whether automatic root update is turned off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hybridtls.model.source import Cited, ServerRef, Source

UNTRUSTED_ROOT = "CERT_TRUST_IS_UNTRUSTED_ROOT"
PARTIAL_CHAIN = "CERT_TRUST_IS_PARTIAL_CHAIN"
NOT_TIME_VALID = "CERT_TRUST_IS_NOT_TIME_VALID"
REVOKED = "CERT_TRUST_IS_REVOKED"
REVOCATION_UNKNOWN = "CERT_TRUST_REVOCATION_STATUS_UNKNOWN"
OFFLINE_REVOCATION = "CERT_TRUST_IS_OFFLINE_REVOCATION"
SELF_SIGNED = "CERT_TRUST_IS_SELF_SIGNED"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainElement:
    """One certificate of the chain certutil built (``CertContext[0][n]``): 0 is the certificate verified."""

    index: int
    line: int  # of its CertContext line
    subject: str | None = None
    issuer: str | None = None
    serial_number: str | None = None
    thumbprint: str | None = None  # uppercase hex SHA-1 (certutil's "Cert:" line)
    not_after: str | None = None  # as printed (console local time, order unknown): for messages only
    errors: tuple[str, ...] = ()  # CERT_TRUST_* error bits, by name
    infos: tuple[str, ...] = ()  # CERT_TRUST_* info bits, by name

    @property
    def is_self_signed(self) -> bool:
        return SELF_SIGNED in self.infos


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainVerification(Cited):
    """One ``certutil -verify [-urlfetch] <file>`` run on one server."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    server: ServerRef | None = None
    command: str | None = None  # the certutil command line, where the file holds it
    elements: tuple[ChainElement, ...] = ()  # the first simple chain, leaf first
    chain_errors: tuple[str, ...] = ()  # ChainContext/SimpleChain dwErrorStatus bits, by name
    chain_infos: tuple[str, ...] = ()
    revocation_passed: bool | None = None  # "Leaf certificate revocation check passed"
    verdict: str | None = None  # certutil's last line: "-verify command completed successfully." / "FAILED: ..."
    failed: bool | None = None  # None when the verdict line was not saved
    error_code: str | None = None  # "0x800b010a"
    error_name: str | None = None  # "CERT_E_CHAINING"

    @property
    def leaf(self) -> ChainElement | None:
        return self.elements[0] if self.elements else None

    @property
    def root(self) -> ChainElement | None:
        """The last element when it is self-signed (a partial chain ends below its root)."""
        return self.elements[-1] if self.elements and self.elements[-1].is_self_signed else None

    @property
    def errors(self) -> tuple[str, ...]:
        """Every error bit, of the chain and of its elements, once, in the order first seen."""
        seen = dict.fromkeys(self.chain_errors)
        for element in self.elements:
            seen.update(dict.fromkeys(element.errors))
        return tuple(seen)


@dataclass(frozen=True, slots=True, kw_only=True)
class RootUpdateState(Cited):
    """What one file says of a server's AuthRoot certificate trust list and of automatic root update."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    server: ServerRef | None = None
    last_sync: datetime | None = None  # LastSyncTime: UTC from the registry, console time from certutil
    sequence_number: str | None = None  # of the AuthRoot CTL, hex as printed
    auto_update_disabled: bool | None = None  # DisableRootAutoUpdate (Policies\...\AuthRoot): 1 True, 0 False
