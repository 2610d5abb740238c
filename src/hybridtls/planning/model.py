"""The plan's nouns."""

from __future__ import annotations

from dataclasses import dataclass

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
class ChangePlan:
    new_certificate: CertificateFile
    chain: ChainAnalysis
    servers: tuple[str, ...]
    current_names: tuple[str, ...]  # TlsCertificateName values in use now
    vendor_change: bool
    references: tuple[Reference, ...]
    steps: tuple[Step, ...]
    risks: tuple[Risk, ...]
