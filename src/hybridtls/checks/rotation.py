"""Certificates for the rotation era (2026 and after): lifetimes a public CA may no longer issue (CA/B Forum ballot
SC-081), the Client Authentication EKU public CAs stop issuing (Chrome Root Program, 2026-06-15), names Exchange
Online cannot attribute to the tenant's accepted domains (MC1226222), and one certificate shared across tenants."""

from __future__ import annotations

import os.path
from collections.abc import Iterable, Iterator
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.checks.estate import about, cite, group_certificates
from hybridtls.checks.selection import named_by, parse_name
from hybridtls.model import (
    AcceptedDomain,
    ChainAnalysis,
    ChainEnd,
    Citation,
    ConnectorDirection,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    NotJudged,
    OrganizationSide,
    RootCAType,
    Severity,
    Source,
)
from hybridtls.pki.lifetime import limit_since, max_public_lifetime, over_public_limit
from hybridtls.pki.tlsname import TlsCertificateName, names_same_certificate
from hybridtls.powershell import Script

MOZILLA = "Mozilla root store"
_BEFORE_LIMITS = (f"issued before {refs.PUBLIC_TLS_LIFETIMES[0][0]}, when the Baseline Requirements counted the limit "
                  "in months; not judged")


# ---------------------------------------------------------------- HT-ROT-001: lifetime above the public limit


def _swapped(moment: datetime) -> datetime | None:
    """The same date with day and month the other way round, where that is a date."""
    if moment.day > 12 or moment.day == moment.month:
        return None
    return moment.replace(month=moment.day, day=moment.month)


def _misread_fits(not_before: datetime, not_after: datetime) -> bool:
    """Whether reading either date with day and month swapped brings the lifetime within the limit."""
    for before, after in ((_swapped(not_before), not_after), (not_before, _swapped(not_after)),
                          (_swapped(not_before), _swapped(not_after))):
        if before is not None and after is not None and after > before and over_public_limit(before, after) is None:
            return True
    return False


def _chain_likelier(chain: ChainAnalysis) -> str:
    if chain.end is ChainEnd.TRUSTED and chain.anchor_origin == MOZILLA:
        return ("its chain ends at a root of the Mozilla store, and dates read from the certificate itself cannot be "
                "mis-read: a public CA issued it outside the Baseline Requirements; ask the CA to revoke and reissue it")
    where = {ChainEnd.TRUSTED: f"at an anchor given to hybridtls ({chain.anchor_origin}), not a public root",
             ChainEnd.UNTRUSTED_ROOT: "at a root no public store holds",
             ChainEnd.MISSING_ISSUER: f"at {chain.missing_issuer!r}, an issuer that is neither given nor a public root"}
    return (f"its chain ends {where[chain.end]}: a private CA is likelier; Exchange Online needs a certificate from a "
            "public CA for the hybrid connectors")


def _exchange_likelier(cert: ExchangeCertificate, not_before: datetime, not_after: datetime) -> str:
    if _misread_fits(not_before, not_after):  # a date the check and Exchange read differently: a warning
        return ("read with day and month the other way round its lifetime is within the limit: a mis-read date is "
                "likelier (give --date-order dmy or mdy, as the server's culture writes dates)")
    if cert.root_ca_type in (RootCAType.ENTERPRISE, RootCAType.GROUP_POLICY, RootCAType.REGISTRY):
        return (f"RootCAType {cert.root_ca_type.value} says its root came from Active Directory, a policy or by hand: "
                "a private CA is likelier")
    return ("no reading of its dates fits the limit: a private CA whose root was put in Third-Party Root "
            "Certification Authorities by hand is likelier than a public CA")


def _lifetime_message(name: str, not_before: datetime, over: tuple[float, int], likelier: str) -> str:
    days, allowed = over
    return (f"{name} is valid for {days:,.0f} days from NotBefore {not_before:%Y-%m-%d}; a public CA may issue at most "
            f"{allowed} days from {limit_since(not_before)} (CA/B Forum BR 6.3.2, ballot SC-081; counted NotAfter - "
            f"NotBefore + 1 second). {likelier[0].upper()}{likelier[1:]}.")


def _lifetime(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for chain in evidence.chains:
        leaf = chain.leaf
        if not leaf.is_self_signed and max_public_lifetime(leaf.not_before) is None:
            yield NotJudged(subject=leaf.label, source=leaf.source, reason=_BEFORE_LIMITS)
            continue
        over = None if leaf.is_self_signed else over_public_limit(leaf.not_before, leaf.not_after)
        if over:
            public = chain.end is ChainEnd.TRUSTED and chain.anchor_origin == MOZILLA
            yield LIFETIME.finding(
                subject=leaf.subject or leaf.thumbprint, about=FindingSubject(certificate=leaf.thumbprint),
                severity=Severity.WARNING if public else Severity.INFO,
                message=_lifetime_message(leaf.label, leaf.not_before, over, _chain_likelier(chain)),
                evidence=[Citation(source=leaf.source, text=f"NotBefore {leaf.not_before:%Y-%m-%d %H:%M:%S}, NotAfter "
                                                            f"{leaf.not_after:%Y-%m-%d %H:%M:%S} UTC")])
    for group in group_certificates(evidence.certificates):
        if group.is_ca_issued is not True:
            continue
        dated = [c for c in group.observations if c.not_before and c.not_after]
        if not dated:
            unsettled = next((c for c in group.observations if c.not_before_readings or c.not_after_readings), None)
            if unsettled:
                yield NotJudged(subject=group.name, source=unsettled.source,
                                reason="NotBefore or NotAfter reads two ways (day and month); give --date-order")
            continue
        cert = dated[0]
        assert cert.not_before and cert.not_after
        if max_public_lifetime(cert.not_before) is None:
            yield NotJudged(subject=group.name, source=cert.cite("notbefore"), reason=_BEFORE_LIMITS)
            continue
        over = over_public_limit(cert.not_before, cert.not_after)
        if over:
            misread = _misread_fits(cert.not_before, cert.not_after)
            yield LIFETIME.finding(
                subject=group.name, about=about(cert, server=False), server=None,
                severity=Severity.WARNING if misread else Severity.INFO,
                message=_lifetime_message(group.name, cert.not_before, over,
                                          _exchange_likelier(cert, cert.not_before, cert.not_after)),
                evidence=[cite(cert, "notbefore", "NotBefore", f"{cert.not_before:%Y-%m-%d %H:%M:%S}"),
                          cite(cert, "notafter", "NotAfter", f"{cert.not_after:%Y-%m-%d %H:%M:%S}")])


DATED = Need(what="NotBefore and NotAfter of a CA-issued certificate (Get-ExchangeCertificate, or a certificate file)",
             reason="no CA-issued certificate with both dates in the evidence: save 'Get-ExchangeCertificate | "
                    "Format-List' or give the certificate file",
             present=lambda e, c: bool(e.chains) or any(
                 (cert.not_before or cert.not_before_readings) and cert.is_ca_issued for cert in e.certificates))

LIFETIME = Check(
    id="HT-ROT-001", title="Lifetime longer than a public CA may issue", severity=Severity.WARNING,
    needs=needs(DATED),
    explanation=("Public TLS certificates may be valid for at most 398 days (from 2020-09-01), 200 days from "
                 "2026-03-15, 100 from 2027-03-15 and 47 from 2029-03-15 (CA/B Forum ballot SC-081). A certificate that "
                 "lives longer than its NotBefore allows did not come from a public CA under the rules, or its dates "
                 "were mis-read (a console that writes day before month). Exchange Online needs a public CA's "
                 "certificate on the hybrid path; a private CA's certificate fails its validation. A warning where "
                 "the chain ends at a public root (the Mozilla store) or where reading the dates the other way round "
                 "fits the limit (a mis-read); otherwise a notice, as a private CA's certificate may be meant."),
    remediation=("Check the dates in the certificate itself ((Get-ChildItem Cert:\\LocalMachine\\My\\<Thumbprint>)."
                 "NotBefore on the server). If they are right, replace the certificate with one from a public CA, "
                 "and plan renewals at the new cadence: hybridtls plan --new-cert <File> gives the date the next "
                 "rotation is due."),
    references=(refs.SC_081, refs.CAB_BASELINE, refs.CERT_REQUIREMENTS),
    run=_lifetime,
)


# ---------------------------------------------------------------- HT-ROT-002: no Client Authentication EKU


def _hybrid_names(evidence: EvidenceSet) -> list[tuple[TlsCertificateName, Source, str]]:
    found = []
    for send in evidence.send_connectors:
        name = parse_name(send.tls_certificate_name) if send.is_hybrid else None
        if name is not None:
            found.append((name, send.cite("tlscertificatename"), f"Send connector {send.name!r}"))
    return found


def _client_auth_fix() -> str:
    script = Script("# Before binding a renewal for SMTP, see whether it still holds Client Authentication:")
    return str(script.add(
        "(Get-ChildItem Cert:\\LocalMachine\\My\\<Thumbprint>).EnhancedKeyUsageList",
        "# Keep a certificate that has it (Server and Client Authentication) on the hybrid send connector while",
        "# Microsoft has not said whether Exchange Online needs it; ask the CA which of its products still include it.",
    ))


def _client_auth(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hybrid = _hybrid_names(evidence)
    for chain in evidence.chains:
        leaf = chain.leaf
        oids = {oid for _, oid in leaf.extended_key_usage}
        if not oids or refs.CLIENT_AUTH in oids or refs.ANY_PURPOSE in oids or refs.SERVER_AUTH not in oids:
            continue  # no EKU extension means any use; a certificate not for servers is not a hybrid candidate
        listed = ", ".join(n for n, _ in leaf.extended_key_usage)
        own = TlsCertificateName(leaf.issuer, leaf.subject)
        users = [(source, what) for name, source, what in hybrid if names_same_certificate(name, own)]
        said = (f"{leaf.label} has Extended Key Usage {listed}, without Client Authentication ({refs.CLIENT_AUTH}). "
                "Exchange on-premises presents the hybrid certificate as a TLS client certificate when it sends to "
                "Exchange Online. Microsoft has published no statement yet on whether Exchange Online requires "
                f"Client Authentication there; public CAs stop issuing it in TLS certificates from "
                f"{refs.CLIENT_AUTH_SUNSET} (Chrome Root Program), so every renewal from then on lacks it.")
        if users:
            yield CLIENT_AUTH.finding(
                subject=leaf.subject or leaf.thumbprint, about=FindingSubject(certificate=leaf.thumbprint),
                message=said + " " + "; ".join(what for _, what in users) + " uses it.",
                evidence=[Citation(source=leaf.source, text=f"Extended Key Usage: {listed}"),
                          *(Citation(source=source, text=f"{what}: TlsCertificateName names it") for source, what in users)],
                remediation=_client_auth_fix())
        elif not hybrid:  # `cert` on a candidate: said as a notice, as nothing shows it on the send connector
            yield CLIENT_AUTH.finding(
                subject=leaf.subject or leaf.thumbprint, about=FindingSubject(certificate=leaf.thumbprint),
                severity=Severity.INFO, message=said + " No hybrid send connector in the evidence names it: this "
                "matters if it becomes the hybrid certificate.",
                evidence=[Citation(source=leaf.source, text=f"Extended Key Usage: {listed}")],
                remediation=_client_auth_fix())


EKU_LISTED = Need(what="the certificate itself (a certificate file: its Extended Key Usage)",
                  reason="Get-ExchangeCertificate does not show Extended Key Usage: give the certificate file "
                         "(Export-Certificate, or the .pfx/.cer the CA issued)",
                  present=lambda e, c: bool(e.chains))

CLIENT_AUTH = Check(
    id="HT-ROT-002", title="Hybrid certificate without the Client Authentication EKU", severity=Severity.WARNING,
    needs=needs(EKU_LISTED, also="hybrid send connectors (Get-SendConnector), to tell which certificate they use"),
    explanation=("On-premises to Exchange Online mail is sent with the hybrid certificate presented as a TLS client "
                 "certificate. Public CAs stop issuing TLS certificates with the Client Authentication EKU from "
                 "2026-06-15 (Chrome Root Program; the major CAs remove it by early 2027). Microsoft has published no "
                 "statement yet on whether Exchange Online needs that EKU from on-premises servers: this is a risk "
                 "to watch at each renewal, said with the evidence, not a known failure."),
    remediation=("Check each renewal's Extended Key Usage before binding it; keep a certificate with Client "
                 "Authentication on the hybrid send connector until Microsoft says whether it is needed."),
    references=(refs.CHROME_ROOT_POLICY, refs.HYBRID_TLS_BLOG),
    run=_client_auth,
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
    for name, source, what in _hybrid_names(evidence):
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
        compared = sorted(own) if own else names  # its own tenant's domains, where the evidence tells them apart
        if under_accepted(value, compared):
            continue
        said = (", ".join(compared[:refs.MAX_NAMES_IN_MESSAGE]) + (" ..." if len(compared) > refs.MAX_NAMES_IN_MESSAGE
                                                                   else "")) if own else listed
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
                      domain_citation])
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
    present=lambda e, c: any(o.tls_sender_certificate_name for o in e.online_connectors) or bool(_hybrid_names(e)))

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


def _tenant_domains(evidence: EvidenceSet) -> dict[str, set[str]]:
    """Each tenant's accepted domains, where the evidence tells the tenant (see ``_tenant_of``)."""
    folders = _folder_tenants(evidence)
    domains: dict[str, set[str]] = {}
    for domain in evidence.accepted_domains:
        tenant = _tenant_of(domain.source.path, domain.tenant, folders)
        if tenant:
            domains.setdefault(tenant, set()).add(domain.domain_name)
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
    for name, source, what in _hybrid_names(evidence):
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
    references=(refs.MC1226222, refs.TENANT_ATTRIBUTION),
    run=_shared,
)


FAMILY = Family(name="rotation", commands=frozenset({Command.CHECK, Command.CERT}),
                checks=(LIFETIME, CLIENT_AUTH, UNATTRIBUTED, SHARED))
CHECKS = FAMILY.checks
