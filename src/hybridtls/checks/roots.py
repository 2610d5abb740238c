"""RootCAType: where Windows found the root of each certificate's chain, server by server.

The founding incident: a public certificate whose new root was imported by hand into "Trusted Root
Certification Authorities" shows RootCAType Registry, and Exchange Online mail to that server pends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.estate import (
    CertificateGroup,
    about,
    certificate_selector,
    cite,
    get_certificate,
    group_certificates,
    server_name,
)
from hybridtls.checks.needs import ROOT_CA_TYPE
from hybridtls.checks.stores import proven_root_fix
from hybridtls.checks.storeview import StoreEvidence
from hybridtls.model import (
    CertificateStatus,
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    RootCAType,
    Severity,
)
from hybridtls.powershell import Script

_REFERENCES = (refs.ROOTCATYPE_PENDING, refs.GET_EXCHANGE_CERTIFICATE, refs.SYSTEM_STORE_LOCATIONS,
               refs.CERT_REQUIREMENTS)


def authroot_fix(cert: ExchangeCertificate) -> str:
    """PowerShell that copies the chain Windows builds for this certificate into AuthRoot and CA, then confirms."""
    script = Script()
    server = cert.server.name if cert.server else "<ServerName>"
    script.comment(f"On {server}, in an elevated Windows PowerShell (not the Exchange Management Shell):")
    script.add(
        f"$leaf  = {certificate_selector(script, cert)}",
        "$chain = New-Object System.Security.Cryptography.X509Certificates.X509Chain",
        "$null  = $chain.Build($leaf)",
        "$root  = $chain.ChainElements[$chain.ChainElements.Count - 1].Certificate",
        "$root | Format-List Subject, Thumbprint, NotAfter   # check this is the public root you expect",
        "$authRoot = New-Object System.Security.Cryptography.X509Certificates.X509Store('AuthRoot', 'LocalMachine')",
        "$authRoot.Open('ReadWrite'); $authRoot.Add($root); $authRoot.Close()",
        "$ca = New-Object System.Security.Cryptography.X509Certificates.X509Store('CA', 'LocalMachine')",
        "$ca.Open('ReadWrite')",
        "for ($i = 1; $i -lt $chain.ChainElements.Count - 1; $i++) { $ca.Add($chain.ChainElements[$i].Certificate) }",
        "$ca.Close()",
        f"# Or, from a file: {fixes.AUTHROOT_IMPORT}",
        "# Then in the Exchange Management Shell; RootCAType should read ThirdParty (no restart needed):",
        f"{get_certificate(script, cert)} | Format-List Subject, Issuer, RootCAType, Status, Services",
    )
    return str(script)


def _ca_issued_groups(evidence: EvidenceSet) -> list[CertificateGroup]:
    with_root = [c for c in evidence.certificates if c.root_ca_type is not None]
    return [g for g in group_certificates(with_root) if g.is_ca_issued]


@dataclass(frozen=True, slots=True)
class _Contrast:
    """How one certificate group reads, RootCAType by RootCAType, worked out once per group."""

    by_type: dict[RootCAType, list[ExchangeCertificate]]

    @classmethod
    def of(cls, group: CertificateGroup) -> _Contrast:
        by_type: dict[RootCAType, list[ExchangeCertificate]] = {}
        for cert in group.observations:
            if cert.root_ca_type is not None:
                by_type.setdefault(cert.root_ca_type, []).append(cert)
        return cls(by_type)

    def against(self, cert: ExchangeCertificate) -> tuple[str, list[Citation], int]:
        """The words, the first citations and the count of the rest, for the servers where it reads otherwise."""
        others = [c for kind, certs in self.by_type.items() if kind is not cert.root_ca_type for c in certs
                  if server_name(c).casefold() != server_name(cert).casefold()][:refs.MAX_CITATIONS + 1]
        if not others:
            return "", [], 0
        total = sum(len(certs) for kind, certs in self.by_type.items() if kind is not cert.root_ca_type)
        names = sorted({f"{server_name(c)} ({c.root_ca_type.value})" for c in others if c.root_ca_type})
        words = ", ".join(names[:refs.MAX_NAMES_IN_MESSAGE])
        if total > refs.MAX_NAMES_IN_MESSAGE:
            words += f" and {total - refs.MAX_NAMES_IN_MESSAGE} more"
        citations = [cite(c, "rootcatype", "RootCAType", c.root_ca_type.value if c.root_ca_type else "?")
                     for c in others[:refs.MAX_CITATIONS]]
        return f" The same certificate reads differently on {words}.", citations, max(0, total - len(citations))


_ELSEWHERE = "RootCAType of the same certificate on the other servers, in their Get-ExchangeCertificate output"


def _severity_for(cert: ExchangeCertificate, high: Severity) -> Severity:
    return Severity.WARNING if cert.has_smtp is False and high is Severity.ERROR else high


def _root_in_registry(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    stores = StoreEvidence(evidence)
    for group in _ca_issued_groups(evidence):
        contrasts = _Contrast.of(group)
        for cert in group.observations:
            if cert.root_ca_type is not RootCAType.REGISTRY:
                continue
            contrast, contrast_citations, omitted = contrasts.against(cert)
            proof = stores.root_of(cert)
            yield ROOT_IN_REGISTRY.finding(
                subject=f"{server_name(cert)}: {group.name}",
                server=server_name(cert), about=about(cert),
                severity=_severity_for(cert, Severity.ERROR),
                message=(
                    f"On {server_name(cert)} the certificate {group.name}, issued by {cert.issuer or 'a CA'}, has "
                    "RootCAType Registry: its "
                    "root CA is only in 'Trusted Root Certification Authorities', not in 'Third-Party Root "
                    "Certification Authorities' (AuthRoot)." + contrast +
                    (" It carries SMTP, so mail that Exchange Online delivers to this server is deferred "
                     "(message trace: Pending)." if cert.has_smtp else "") + " " + proof.words
                ),
                evidence=[cite(cert, "rootcatype", "RootCAType", "Registry"), *proof.citations,
                          cite(cert, "isselfsigned", "IsSelfSigned", cert.is_self_signed),
                          cite(cert, "services", "Services", ", ".join(sorted(cert.services or ())) or "None"),
                          *contrast_citations],
                evidence_omitted=omitted, evidence_omitted_where=_ELSEWHERE,
                remediation=proven_root_fix(cert, proof) or authroot_fix(cert),
            )


ROOT_IN_REGISTRY = Check(
    id="HT-ROOT-001",
    title="Public certificate's root is only in Trusted Root CAs (RootCAType Registry)",
    severity=Severity.ERROR,
    needs=needs(ROOT_CA_TYPE, also="IsSelfSigned and Issuer, to tell CA-issued certificates from self-signed ones"),
    explanation=(
        "Exchange reports in RootCAType which Windows store held the root of a certificate's chain. A public "
        "certificate normally reads ThirdParty: its root is in 'Third-Party Root Certification Authorities' "
        "(AuthRoot), which Windows fills from the Microsoft Trusted Root Program. Registry means the root was "
        "imported by hand into 'Trusted Root Certification Authorities' only. Exchange's own self-signed "
        "certificates read Registry too, which is normal; on a CA-issued certificate it is the fault behind "
        "Office 365 to on-premises mail sitting in Pending: the servers that receive mail from Exchange Online "
        "stop presenting the certificate the hybrid connectors expect. Importing the root into AuthRoot fixes "
        "it without a restart."
    ),
    remediation="Import the root CA certificate into Cert:\\LocalMachine\\AuthRoot (and intermediates into "
                "Cert:\\LocalMachine\\CA) on each named server, then confirm RootCAType ThirdParty.",
    command=fixes.AUTHROOT_IMPORT,
    references=_REFERENCES,
    run=_root_in_registry,
)


_OTHER_ROOT_WORDS = {
    RootCAType.GROUP_POLICY: (
        "its root comes from Group Policy (Public Key Policies > Trusted Root Certification Authorities), "
        "not from 'Third-Party Root Certification Authorities'. Hybrid guidance expects ThirdParty, and whether "
        "Exchange treats a Group Policy root like a third-party one for STARTTLS is not documented; the root "
        "also disappears if the policy stops applying"
    ),
    RootCAType.ENTERPRISE: (
        "its root is published in Active Directory (an enterprise CA, typically AD CS). Exchange Online trusts "
        "only public CAs: a certificate from an internal CA cannot secure hybrid mail"
    ),
    RootCAType.NONE: "Exchange found no trusted root for it at all: the chain could not be built on this server",
    RootCAType.UNKNOWN: "Exchange could not evaluate its root",
}


def _root_elsewhere(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    stores = StoreEvidence(evidence)
    for group in _ca_issued_groups(evidence):
        contrasts = _Contrast.of(group)
        for cert in group.observations:
            if cert.root_ca_type not in _OTHER_ROOT_WORDS or cert.status is CertificateStatus.PENDING_REQUEST:
                continue
            assert cert.root_ca_type is not None
            contrast, contrast_citations, omitted = contrasts.against(cert)
            proof = stores.root_of(cert)
            fix = authroot_fix(cert)
            if cert.root_ca_type is RootCAType.ENTERPRISE:
                script = Script("# If this certificate is meant for hybrid mail, replace it with one from a public CA and",
                                "# bind SMTP to it; if it is an internal certificate, keep SMTP off it.")
                fix = str(script.add(f"{get_certificate(script, cert)} | Format-List Subject, Issuer, RootCAType, Services"))
            yield ROOT_ELSEWHERE.finding(
                subject=f"{server_name(cert)}: {group.name}",
                server=server_name(cert), about=about(cert),
                severity=_severity_for(cert, Severity.WARNING),
                message=(f"On {server_name(cert)} the CA-issued certificate {group.name} has RootCAType "
                         f"{cert.root_ca_type.value}: {_OTHER_ROOT_WORDS[cert.root_ca_type]}." + contrast + " " +
                         proof.words),
                evidence=[cite(cert, "rootcatype", "RootCAType", cert.root_ca_type.value), *proof.citations,
                          *contrast_citations],
                evidence_omitted=omitted, evidence_omitted_where=_ELSEWHERE,
                remediation=fix,
            )


ROOT_ELSEWHERE = Check(
    id="HT-ROOT-002",
    title="CA-issued certificate's root is not a third-party root (GroupPolicy, Enterprise, None, Unknown)",
    severity=Severity.WARNING,
    needs=needs(ROOT_CA_TYPE, also="the same certificate on other servers, to show where it reads differently"),
    explanation=(
        "For hybrid mail the certificate must chain to a public root that Windows holds as a third-party root "
        "(RootCAType ThirdParty). GroupPolicy means a GPO delivers the root; Enterprise means the root is "
        "published in Active Directory, as for an internal AD CS CA that Exchange Online does not trust; None "
        "or Unknown on a CA-issued certificate means Windows could not build its chain. A value that differs "
        "between servers for the same certificate means the servers trust it differently."
    ),
    remediation="Put the public root in Cert:\\LocalMachine\\AuthRoot on each named server, or replace a "
                "certificate from an internal CA with a public one for SMTP.",
    command=fixes.AUTHROOT_IMPORT,
    references=_REFERENCES,
    run=_root_elsewhere,
)


FAMILY = Family(name="roots", commands=frozenset({Command.CHECK}), checks=(ROOT_IN_REGISTRY, ROOT_ELSEWHERE))
CHECKS = FAMILY.checks
