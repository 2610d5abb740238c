"""The plan's nouns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hybridtls.model import CertificateFile, ChainAnalysis, Severity, Source
from hybridtls.powershell import check_pasteable


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """An object that names the current certificate and must change with it."""

    what: str  # "Send connector", "Receive connector", "Hybrid configuration", "Exchange Online outbound connector"
    name: str
    setting: str  # TlsCertificateName, TlsDomain, TlsSenderCertificateName
    current: str
    after: str  # the value after the change ("unchanged" when it still fits)
    source: Source


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    title: str
    why: str
    commands: str  # PowerShell to paste: built through hybridtls.powershell, checked again here
    where: str  # "each of EXCAS1, EXMBX1", "Exchange Online PowerShell", ...

    def __post_init__(self) -> None:
        check_pasteable(self.commands)


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    severity: Severity
    title: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerChain:
    """What one server's store listings say of the new chain: its root in AuthRoot, its intermediates in CA."""

    server: str
    root_in_authroot: bool | None  # None: AuthRoot was not listed for this server
    root_elsewhere: tuple[str, ...]  # other stores that hold the root (Root: not enough for RootCAType ThirdParty)
    intermediates_missing: tuple[str, ...]  # subjects of intermediates not in CA; empty when all are there
    ca_listed: bool  # whether the CA store was listed for this server
    source: Source


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    """What the rotation era asks of this change: the EKU, the tenant's names, the next due date, the stores."""

    client_auth: bool  # the new certificate may be used for Client Authentication (no EKU extension: any use)
    eku: tuple[str, ...]  # its Extended Key Usage, by name; empty when it has no such extension
    lifetime_days: float  # NotAfter - NotBefore + 1 second, in days
    max_lifetime_days: int | None  # what a public CA may issue on its NotBefore (CA/B Forum SC-081)
    renew_by: datetime  # when the next certificate should be in place
    next_max_lifetime_days: int | None  # what a public CA may issue on that date
    accepted_domains: tuple[str, ...]  # compared with; empty when the evidence has no Get-AcceptedDomain
    names_outside: tuple[str, ...]  # the new certificate's names under none of them
    servers: tuple[ServerChain, ...]  # servers whose store listings are in the evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePlan:
    new_certificate: CertificateFile
    chain: ChainAnalysis
    servers: tuple[str, ...]
    current_names: tuple[str, ...]  # TlsCertificateName values in use now
    vendor_change: bool
    references: tuple[Reference, ...]
    steps: tuple[Step, ...]
    risks: tuple[Risk, ...]
    rotation: Rotation | None = None
