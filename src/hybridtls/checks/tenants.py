"""The tenant a certificate speaks for: since February 2026 (message center MC1226222) Exchange Online attributes
mail from an on-premises inbound connector by the certificate's domain first. Names outside the tenant's accepted
domains, and one certificate across tenants, are called out. Tenants are told apart by their *.onmicrosoft.com
accepted domain or the OrganizationId of their objects."""

from __future__ import annotations

import os.path
from collections.abc import Iterable, Iterator

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.checks.estate import about, cite, group_certificates
from hybridtls.checks.rotation import hybrid_names
from hybridtls.checks.selection import named_by
from hybridtls.model import (
    AcceptedDomain,
    Citation,
    ConnectorDirection,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    NotJudged,
    OrganizationSide,
    Severity,
    Source,
)

# ---------------------------------------------------------------- HT-ROT-003: names not an accepted domain


def accepted_for_attribution(evidence: EvidenceSet) -> tuple[list[AcceptedDomain], str]:
    """The accepted domains to compare with: Exchange Online's where the evidence has them, else all."""
    online = [d for d in evidence.accepted_domains if d.side is OrganizationSide.ONLINE]
    return (online, "Exchange Online's") if online else (list(evidence.accepted_domains), "the")


def under_accepted(name: str, domains: Iterable[str]) -> str | None:
    """The accepted domain a certificate name falls under (itself or a parent), if any."""
    host = name.rstrip(".").casefold().removeprefix("*.")
    return next((d for d in domains if host == d or host.endswith("." + d)), None)


def _hybrid_certificates(evidence: EvidenceSet) -> list[tuple[ExchangeCertificate, str, Source]]:
    out: list[tuple[ExchangeCertificate, str, Source]] = []
    seen: set[tuple[str, ...]] = set()
    for name, source, what in hybrid_names(evidence):
        for group in group_certificates(evidence.certificates):
            cert = group.representative
            if named_by(cert, name) and cert.certificate_domains and cert.identity_keys not in seen:
                seen.add(cert.identity_keys)
                out.append((cert, what, source))
    return out


def _unattributed(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    domains, whose = accepted_for_attribution(evidence)
    names = sorted({d.domain_name for d in domains})
    listed = ", ".join(names[:refs.MAX_NAMES_IN_MESSAGE]) + (" ..." if len(names) > refs.MAX_NAMES_IN_MESSAGE else "")
    domain_citation = Citation(source=domains[0].source, text=f"accepted domains: {listed}")
    by_tenant = _tenant_domains(evidence)
    folders = _folder_tenants(evidence)
    for connector in evidence.online_connectors:
        value = connector.tls_sender_certificate_name
        if connector.direction is not ConnectorDirection.INBOUND or not value:
            continue
        tenant = _tenant_of(connector.source.path, connector.tenant, folders)
        own = by_tenant.get(tenant or "")
        # its own tenant's domains, where the evidence tells them apart
        compared = sorted({d.domain_name for d in own}) if own else names
        if under_accepted(value, compared):
            continue
        said = (", ".join(compared[:refs.MAX_NAMES_IN_MESSAGE]) + (" ..." if len(compared) > refs.MAX_NAMES_IN_MESSAGE
                                                                   else "")) if own else listed
        cited = Citation(source=own[0].source, text=f"accepted domains of {tenant}: {said}") if own else domain_citation
        yield UNATTRIBUTED.finding(
            subject=connector.name, about=FindingSubject(connector=connector.name, name=value),
            message=(f"Inbound connector {connector.name!r} identifies on-premises mail by the certificate name "
                     f"{value!r}, which is under none of "
                     f"{f'the accepted domains of its tenant {tenant}' if own else f'{whose} accepted domains'} "
                     f"({said}). Exchange Online "
                     "attributes such mail by the certificate's domain first (MC1226222): a name outside the "
                     "tenant's accepted domains is called out as a misconfiguration and the mail may be attributed "
                     "to no tenant."),
            evidence=[Citation(source=connector.cite("tlssendercertificatename"), text=f"TlsSenderCertificateName {value}"),
                      cited])
    for cert, what, source in _hybrid_certificates(evidence):
        if any(under_accepted(n, names) for n in cert.certificate_domains):
            continue
        yield UNATTRIBUTED.finding(
            subject=cert.display_name, about=about(cert, server=False),
            message=(f"The hybrid certificate ({what} names it) has the names {', '.join(cert.certificate_domains)}, "
                     f"none under {whose} accepted domains ({listed}). Exchange Online attributes mail from "
                     "on-premises by the certificate's domain first (MC1226222)."),
            evidence=[cite(cert, "certificatedomains", "CertificateDomains", ", ".join(cert.certificate_domains)),
                      Citation(source=source, text=f"{what}: TlsCertificateName names it"), domain_citation])


ACCEPTED_DOMAINS = Need(what="accepted domains (Get-AcceptedDomain)",
                        reason="no accepted domains in the evidence: save Get-AcceptedDomain | Format-List in Exchange "
                               "Online PowerShell",
                        present=lambda e, c: bool(e.accepted_domains))
CERTIFICATE_NAME_USED = Need(
    what="a certificate name Exchange Online attributes by (Get-InboundConnector, or the hybrid send connector's "
         "certificate)",
    reason="no inbound connector with TlsSenderCertificateName and no hybrid send connector naming a certificate: "
           "save Get-InboundConnector | Format-List, or Get-SendConnector and Get-ExchangeCertificate",
    present=lambda e, c: any(o.tls_sender_certificate_name for o in e.online_connectors) or bool(hybrid_names(e)))

UNATTRIBUTED = Check(
    id="HT-ROT-003", title="Certificate name outside the tenant's accepted domains", severity=Severity.WARNING,
    needs=needs(ACCEPTED_DOMAINS, CERTIFICATE_NAME_USED),
    explanation=("Since February 2026 (message center MC1226222) Exchange Online attributes mail that arrives on an "
                 "on-premises inbound connector to a tenant by the certificate's domain first. The certificate "
                 "name the inbound connector expects (TlsSenderCertificateName), and the hybrid certificate's names, "
                 "should fall under one of the tenant's accepted domains (the domain itself or a subdomain of it)."),
    remediation=("Use a certificate whose name is under an accepted domain of the tenant, and set the inbound "
                 "connector to it: Set-InboundConnector -Identity <ConnectorName> -TlsSenderCertificateName "
                 "<NameInTheCertificate>; or add the domain as an accepted domain (New-AcceptedDomain) if mail for "
                 "it belongs to the tenant."),
    command=fixes.ACCEPTED_NAME,
    references=(refs.MC1226222, refs.TENANT_ATTRIBUTION, refs.SET_INBOUND_CONNECTOR),
    run=_unattributed,
)


# ---------------------------------------------------------------- HT-ROT-004: one certificate, several tenants


def _folder_tenants(evidence: EvidenceSet) -> dict[str, set[str]]:
    """The tenants the accepted domains of each folder name."""
    tenants: dict[str, set[str]] = {}
    for domain in evidence.accepted_domains:
        tenant = domain.tenant or domain.tenant_domain
        if tenant:
            tenants.setdefault(os.path.dirname(domain.source.path), set()).add(tenant)
    return tenants


def _tenant_domains(evidence: EvidenceSet) -> dict[str, list[AcceptedDomain]]:
    """Each tenant's accepted domains, where the evidence tells the tenant (see ``_tenant_of``)."""
    folders = _folder_tenants(evidence)
    domains: dict[str, list[AcceptedDomain]] = {}
    for domain in evidence.accepted_domains:
        tenant = _tenant_of(domain.source.path, domain.tenant, folders)
        if tenant:
            domains.setdefault(tenant, []).append(domain)
    return domains


def _tenant_of(path: str, own: str | None, folders: dict[str, set[str]]) -> str | None:
    """A record's tenant: the one it names, else the one tenant its folder's (or the parent folder's) accepted
    domains name. None when the evidence cannot tell."""
    if own:
        return own
    folder = os.path.dirname(path)
    for place in (folder, os.path.dirname(folder)):
        named = folders.get(place, set())
        if len(named) == 1:
            return next(iter(named))
    return None


def all_tenants(evidence: EvidenceSet) -> set[str]:
    found = {d.tenant or d.tenant_domain for d in evidence.accepted_domains} | {o.tenant for o in evidence.online_connectors}
    return {t for t in found if t}


def _uses(evidence: EvidenceSet) -> dict[str, list[tuple[str, Citation]]]:
    """Each certificate name in use, with the tenant it is used for and where."""
    folders = _folder_tenants(evidence)
    uses: dict[str, list[tuple[str, Citation]]] = {}

    def add(key: str, tenant: str | None, source: Source, text: str) -> None:
        if tenant:
            uses.setdefault(key, []).append((tenant, Citation(source=source, text=f"{text} (tenant {tenant})")))

    for connector in evidence.online_connectors:
        if connector.direction is ConnectorDirection.INBOUND and connector.tls_sender_certificate_name:
            add(connector.tls_sender_certificate_name.casefold(), _tenant_of(connector.source.path, connector.tenant, folders),
                connector.cite("tlssendercertificatename"),
                f"Inbound connector {connector.name!r}: TlsSenderCertificateName {connector.tls_sender_certificate_name}")
    for name, source, what in hybrid_names(evidence):
        add(str(name).casefold(), _tenant_of(source.path, None, folders), source, f"{what}: TlsCertificateName {name}")
    return uses


def _shared(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for key, used in _uses(evidence).items():
        tenants = sorted({tenant for tenant, _ in used})
        if len(tenants) < 2:
            continue
        yield SHARED.finding(
            subject=key, about=FindingSubject(name=key),
            message=(f"The certificate {key!r} is used for {len(tenants)} tenants ({', '.join(tenants)}). Exchange "
                     "Online attributes on-premises mail by the certificate's domain first (MC1226222): one "
                     "certificate for several tenants is called out as a misconfiguration, and mail may be "
                     "attributed to the wrong tenant."),
            evidence=[citation for _, citation in used])
    unplaced = [c for c in evidence.online_connectors
                if c.direction is ConnectorDirection.INBOUND and c.tls_sender_certificate_name
                and _tenant_of(c.source.path, c.tenant, _folder_tenants(evidence)) is None]
    for connector in unplaced:
        yield NotJudged(subject=connector.name, source=connector.source,
                        reason="no tenant is named by it (OrganizationId) or by the accepted domains beside it")


SEVERAL_TENANTS = Need(
    what="evidence from two or more tenants (each tenant's Get-AcceptedDomain with its onmicrosoft.com domain, or "
         "connector output with OrganizationId)",
    reason="the evidence names fewer than two tenants: a tenant is told by its *.onmicrosoft.com accepted domain or "
           "the OrganizationId of its connectors; save Get-AcceptedDomain and Get-InboundConnector | Format-List in "
           "each tenant's folder",
    present=lambda e, c: len(all_tenants(e)) >= 2)

SHARED = Check(
    id="HT-ROT-004", title="One certificate shared across tenants", severity=Severity.WARNING,
    needs=needs(SEVERAL_TENANTS),
    explanation=("Exchange Online tells which tenant on-premises mail belongs to by the certificate's domain first "
                 "(MC1226222). Organisations that run several tenants from one on-premises estate (mergers, "
                 "test tenants) and send through all of them with one certificate are called out. Tenants are told "
                 "apart by their *.onmicrosoft.com accepted domain or the OrganizationId of their objects; evidence "
                 "that names neither cannot be split by tenant, and is said so."),
    remediation=("Give each tenant's connectors a certificate with a name under that tenant's accepted domains, and "
                 "set each tenant's inbound connector to its own name: Set-InboundConnector -Identity <ConnectorName> "
                 "-TlsSenderCertificateName <NameInTheCertificate>."),
    command=fixes.OWN_CERTIFICATE,
    references=(refs.MC1226222, refs.TENANT_ATTRIBUTION),
    run=_shared,
)


FAMILY = Family(name="tenants", commands=frozenset({Command.CHECK}), checks=(UNATTRIBUTED, SHARED))
CHECKS = FAMILY.checks
