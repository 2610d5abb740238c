"""Build a ChangePlan from the current evidence and the new certificate. Pure: no files, no network."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from hybridtls import references as refs
from hybridtls.checks.selection import named_by, parse_name
from hybridtls.checks.tenants import accepted_for_attribution, under_accepted
from hybridtls.model import (
    CertificateFile,
    ChainAnalysis,
    ChainEnd,
    ConnectorDirection,
    DaneObservation,
    EvidenceSet,
    ExchangeCertificate,
    PolicyMode,
    RootCAType,
    Severity,
    StoreCertificate,
    TlsaLookup,
    TlsaRecord,
    name_key,
)
from hybridtls.pki.hostnames import covering_name, domain_covered, exchange_online_host, is_address
from hybridtls.pki.lifetime import max_public_lifetime, over_public_limit, renew_by, validity
from hybridtls.pki.tlsname import Difference, TlsCertificateName, compare, names_same_certificate
from hybridtls.planning.model import ChangePlan, Reference, Risk, Rotation, ServerChain, Step
from hybridtls.powershell import Script, comment_text

MINIMUM_VALIDITY = timedelta(days=refs.MINIMUM_NEW_CERTIFICATE_DAYS)
CHAIN_STEP = "Put the chain in the right Windows stores on every server"


def _servers(evidence: EvidenceSet) -> tuple[str, ...]:
    names: dict[str, str] = {}
    for config in evidence.hybrid_configurations:
        for server in (*config.receiving_transport_servers, *config.sending_transport_servers):
            names.setdefault(server.split(".")[0].casefold(), server)
    for send in evidence.send_connectors:
        if send.is_hybrid:
            for server in send.source_transport_servers:
                names.setdefault(server.split(".")[0].casefold(), server)
    for receive in evidence.receive_connectors:
        if receive.accepts_cloud_mail and receive.server:
            names.setdefault(receive.server.key, receive.server.name)
    for cert in evidence.certificates:
        if cert.server and cert.is_ca_issued and cert.has_smtp:
            names.setdefault(cert.server.key, cert.server.name)
    return tuple(sorted(names.values(), key=str.casefold))


def _current_names(evidence: EvidenceSet) -> list[TlsCertificateName]:
    found = [parse_name(c.tls_certificate_name) for c in evidence.hybrid_configurations]
    found += [parse_name(c.tls_certificate_name) for c in evidence.send_connectors if c.is_hybrid]
    found += [parse_name(c.tls_certificate_name) for c in evidence.receive_connectors if c.accepts_cloud_mail]
    unique: dict[str, TlsCertificateName] = {}
    for name in found:
        if name is not None:
            unique.setdefault(str(name).casefold(), name)
    return list(unique.values())


def _current_certificate(evidence: EvidenceSet, names: list[TlsCertificateName]) -> ExchangeCertificate | None:
    for name in names:
        match = next((c for c in evidence.certificates if named_by(c, name)), None)
        if match:
            return match
    return next((c for c in evidence.certificates if c.is_ca_issued and c.has_smtp), None)


def build_plan(evidence: EvidenceSet, new: CertificateFile, chain: ChainAnalysis, now: datetime) -> ChangePlan:
    new_name = TlsCertificateName(new.issuer, new.subject)
    names = _current_names(evidence)
    current = _current_certificate(evidence, names)
    servers = _servers(evidence)
    vendor_change = any(compare(n, new_name).difference in (Difference.ISSUER, Difference.BOTH) for n in names)
    references = _references(evidence, new, new_name)
    risks = _risks(evidence, new, chain, current, names, new_name, now)
    if new.tls_certificate_name is None:
        risks.insert(0, Risk(severity=Severity.ERROR, title="The new certificate has an empty subject or issuer",
                             detail="No TlsCertificateName can name it ('<I>...<S>' with an empty part); connectors "
                                    "cannot be pointed at it. Use a certificate with a subject."))
    dane_before, dane_after, dane_risks = dane_plan(evidence, new, chain)
    rotation = rotation_of(evidence, new, chain)
    general = _steps(evidence, new, chain, new_name, servers, references, first=len(dane_before) + 1)
    general = [store_step(step, rotation, chain, servers) if step.title == CHAIN_STEP else step for step in general]
    general.insert(len(general) - 1, calendar_step(rotation, new))  # before "verify before removing anything"
    # DNS first: the new TLSA record must be in every cache before the new certificate is bound
    steps = [*dane_before, *general, *dane_after]
    risks += dane_risks
    risks += rotation_risks(rotation, new, now)
    risks += mta_sts_risks(evidence, new)
    return ChangePlan(new_certificate=new, chain=chain, servers=servers, current_names=tuple(str(n) for n in names),
                      vendor_change=vendor_change, references=tuple(references), steps=tuple(steps), risks=tuple(risks),
                      rotation=rotation)


def _name_value(script: Script, new: CertificateFile, new_name: TlsCertificateName) -> str:
    """The new TlsCertificateName as a literal; the placeholder, with a comment, when the name has an empty part."""
    if new.tls_certificate_name is None:
        script.add("# <TlsCertificateName>: the new certificate's subject or issuer is empty, so no value can name "
                   "it; type the name of a certificate that has both")
        return "<TlsCertificateName>"
    return script.value(str(new_name), "<TlsCertificateName>", "new certificate's issuer or subject")


def _after(current: str | None, new_name: TlsCertificateName) -> str:
    """The TlsCertificateName after the change; "unchanged" when a renewal keeps issuer and subject."""
    name = parse_name(current)
    if name is not None and compare(name, new_name).difference is Difference.SAME:
        return "unchanged"
    if not new_name.issuer or not new_name.subject:
        return "(none: the new certificate's subject or issuer is empty)"
    return str(new_name)


def _references(evidence: EvidenceSet, new: CertificateFile, new_name: TlsCertificateName) -> list[Reference]:
    refs = []
    for send in evidence.send_connectors:
        if send.is_hybrid:
            refs.append(Reference(what="Send connector", name=send.name, setting="TlsCertificateName",
                                  current=send.tls_certificate_name or "(empty)",
                                  after=_after(send.tls_certificate_name, new_name),
                                  source=send.cite("tlscertificatename")))
    for receive in evidence.receive_connectors:
        if receive.accepts_cloud_mail or receive.tls_certificate_name:
            refs.append(Reference(what="Receive connector", name=receive.identity, setting="TlsCertificateName",
                                  current=receive.tls_certificate_name or "(empty: FQDN)",
                                  after=_after(receive.tls_certificate_name, new_name),
                                  source=receive.cite("tlscertificatename")))
    for config in evidence.hybrid_configurations:
        refs.append(Reference(what="Hybrid configuration", name="HybridConfiguration", setting="TlsCertificateName",
                              current=config.tls_certificate_name or "(empty)",
                              after=_after(config.tls_certificate_name, new_name),
                              source=config.cite("tlscertificatename")))
    for connector in evidence.online_connectors:
        if connector.direction is ConnectorDirection.OUTBOUND and connector.tls_domain:
            fits = domain_covered(connector.tls_domain, new.certificate_domains)
            refs.append(Reference(what="Exchange Online outbound connector", name=connector.name, setting="TlsDomain",
                                  current=connector.tls_domain,
                                  after="unchanged" if fits else (new.certificate_domains[0] if new.certificate_domains else "?"),
                                  source=connector.cite("tlsdomain")))
        if connector.direction is ConnectorDirection.INBOUND and connector.tls_sender_certificate_name:
            fits = domain_covered(connector.tls_sender_certificate_name, new.certificate_domains)
            refs.append(Reference(what="Exchange Online inbound connector", name=connector.name,
                                  setting="TlsSenderCertificateName", current=connector.tls_sender_certificate_name,
                                  after="unchanged" if fits else (new.certificate_domains[0] if new.certificate_domains else "?"),
                                  source=connector.cite("tlssendercertificatename")))
    return refs


def _risks(evidence: EvidenceSet, new: CertificateFile, chain: ChainAnalysis, current: ExchangeCertificate | None,
           names: list[TlsCertificateName], new_name: TlsCertificateName, now: datetime) -> list[Risk]:
    risks = []
    root = chain.path[-1] if chain.end is ChainEnd.TRUSTED else None
    same_root = bool(current and root and current.issuer and any(
        c.subject == current.issuer for c in chain.path[1:]))
    not_third_party = sorted({c.server.name for c in evidence.certificates
                              if c.server and c.is_ca_issued and c.root_ca_type not in (None, RootCAType.THIRD_PARTY)})
    if root is not None and not same_root:
        risks.append(Risk(severity=Severity.ERROR if not_third_party else Severity.WARNING,
                          title="A new root must be in Third-Party Root Certification Authorities on every server",
                          detail=(f"The new certificate chains to {root.subject!r}. Import it into AuthRoot (not only "
                                  "Trusted Root CAs) on every server, or RootCAType reads Registry and Exchange Online "
                                  "mail to that server pends: the founding incident."
                                  + (f" Today already not ThirdParty on: {', '.join(not_third_party)}." if not_third_party else ""))))
    if chain.end is not ChainEnd.TRUSTED:
        what = ("its intermediate " + repr(chain.missing_issuer) + " is not in the file" if chain.end is ChainEnd.MISSING_ISSUER
                else "it does not chain to a public root")
        risks.append(Risk(severity=Severity.ERROR, title="Exchange Online cannot build the new certificate's chain",
                          detail=f"Built from the file alone, {what}. Give the full chain (PFX or PEM bundle), or "
                                 "install the intermediates on every server before binding SMTP."))
    lost = []
    for connector in evidence.online_connectors:
        value = connector.tls_domain if connector.direction is ConnectorDirection.OUTBOUND else connector.tls_sender_certificate_name
        if value and not domain_covered(value, new.certificate_domains):
            lost.append(f"{connector.name} ({'TlsDomain' if connector.direction is ConnectorDirection.OUTBOUND else 'TlsSenderCertificateName'} {value})")
    for config in evidence.hybrid_configurations:
        if config.on_premises_smart_host and not domain_covered(config.on_premises_smart_host, new.certificate_domains):
            lost.append(f"the hybrid smart host {config.on_premises_smart_host}")
    if lost:
        risks.append(Risk(severity=Severity.ERROR, title="Names the new certificate no longer covers",
                          detail=f"The new certificate's names ({', '.join(new.certificate_domains)}) do not cover: "
                                 f"{'; '.join(lost)}. Change those settings in the same change window (steps below)."))
    if names and any(compare(n, new_name).difference in (Difference.ISSUER, Difference.BOTH) for n in names):
        risks.append(Risk(severity=Severity.WARNING, title="A new issuer changes every TlsCertificateName",
                          detail=f"Every connector and the hybrid configuration must be set to {str(new_name)!r}; "
                                 "a connector left behind fails (454 4.7.5 outbound, event 12014 inbound)."))
    if new.not_after - now < MINIMUM_VALIDITY:
        risks.append(Risk(severity=Severity.ERROR, title="The new certificate expires soon",
                          detail=f"NotAfter {new.not_after:%Y-%m-%d}."))
    if new.not_before > now:
        risks.append(Risk(severity=Severity.WARNING, title="The new certificate is not valid yet",
                          detail=f"NotBefore {new.not_before:%Y-%m-%d}: do not bind SMTP before then."))
    if new.signature_hash == "sha1" or (new.public_key_algorithm == "RSA" and new.public_key_size < refs.MINIMUM_RSA_BITS):
        risks.append(Risk(severity=Severity.ERROR, title="The new certificate uses algorithms Exchange Online refuses",
                          detail=f"{new.signature_algorithm}, {new.public_key_size}-bit {new.public_key_algorithm} key."))
    ekus = {oid for _, oid in new.extended_key_usage}
    if ekus and refs.SERVER_AUTH not in ekus and refs.ANY_PURPOSE not in ekus:
        risks.append(Risk(severity=Severity.ERROR, title="The new certificate is not valid for Server Authentication",
                          detail=f"Its Extended Key Usage lacks {refs.SERVER_AUTH}."))
    if new.has_private_key is False or new.has_private_key is None:
        risks.append(Risk(severity=Severity.INFO, title="Install it with its private key",
                          detail="Import the PFX (with the private key) on every server, not a .cer."))
    return risks


def _steps(evidence: EvidenceSet, new: CertificateFile, chain: ChainAnalysis, new_name: TlsCertificateName,
           servers: tuple[str, ...], references: list[Reference], first: int = 1) -> list[Step]:
    """The certificate's own steps; ``first`` is the number the plan gives the first of them."""
    listed = comment_text(", ".join(servers)) or "<ServerName>"
    intermediates = [c for c in chain.path[1:] if not c.is_self_signed]
    root = chain.path[-1] if chain.path[-1].is_self_signed else None
    stores, binding = Script(), Script()
    steps = [Step(
        title=CHAIN_STEP,
        why=("Root into Third-Party Root Certification Authorities (AuthRoot) so RootCAType reads ThirdParty; "
             "intermediates into Intermediate Certification Authorities (CA) so every server sends them."),
        where=f"each of {listed} (one elevated Windows PowerShell session)",
        commands=str(stores.add(
            f"$servers = @({stores.values(servers, '<ServerName>', 'server name')})",
            "Invoke-Command -ComputerName $servers -ScriptBlock {",
            "    Import-Certificate -FilePath '\\\\fileserver\\share\\root.cer' -CertStoreLocation Cert:\\LocalMachine\\AuthRoot"
            + (f"   # {comment_text(root.subject)}" if root else ""),
            *[f"    Import-Certificate -FilePath '\\\\fileserver\\share\\intermediate{i + 1}.cer' -CertStoreLocation "
              f"Cert:\\LocalMachine\\CA   # {comment_text(c.subject)}" for i, c in enumerate(intermediates)],
            "}",
        )),
    ), Step(
        title="Import the new certificate with its private key, then bind SMTP",
        why=("Every server in the hybrid path needs it. Answer No when asked to replace the internal transport "
             "certificate: keep the 5-year self-signed one."),
        where=f"Exchange Management Shell, for each of {listed}",
        commands=str(binding.add(
            "$password = Read-Host -AsSecureString 'PFX password'",
            "$pfx = [System.IO.File]::ReadAllBytes('\\\\fileserver\\share\\new-certificate.pfx')",
            f"foreach ($server in @({binding.values(servers, '<ServerName>', 'server name')})) {{",
            "    Import-ExchangeCertificate -Server $server -FileData $pfx -Password $password -PrivateKeyExportable $true",
            f"    Enable-ExchangeCertificate -Server $server -Thumbprint {binding.thumbprint(new.thumbprint)} -Services SMTP",
            f"    Get-ExchangeCertificate -Server $server -Thumbprint {binding.thumbprint(new.thumbprint)} "
            "| Format-List Subject, RootCAType, Status, Services",
            "}   # RootCAType must read ThirdParty and Status Valid on every server before going on",
        )),
    )]
    onprem = [r for r in references if r.what in ("Send connector", "Receive connector", "Hybrid configuration")
              and r.after != "unchanged"]
    if onprem:
        script = Script()
        value = _name_value(script, new, new_name)
        for ref in onprem:
            if ref.what == "Hybrid configuration":
                script.add(f"Set-HybridConfiguration -TlsCertificateName {value}")
            else:
                command = "Set-SendConnector" if ref.what == "Send connector" else "Set-ReceiveConnector"
                script.add(f"{command} -Identity {script.value(ref.name, '<ConnectorName>', 'connector name')} "
                           f"-TlsCertificateName {value}")
        steps.append(Step(title="Point the connectors and the hybrid configuration at the new certificate",
                          why="TlsCertificateName is '<I>' + Issuer + '<S>' + Subject of the new certificate, exactly.",
                          where="Exchange Management Shell", commands=str(script)))
    online = [r for r in references if r.what.startswith("Exchange Online") and r.after != "unchanged"]
    if online:
        script = Script()
        for ref in online:
            command = "Set-OutboundConnector" if ref.setting == "TlsDomain" else "Set-InboundConnector"
            script.add(f"{command} -Identity {script.value(ref.name, '<ConnectorName>', 'connector name')} "
                       f"-{ref.setting} {script.value(ref.after, '<NameInTheCertificate>', 'new certificate name')}")
        steps.append(Step(title="Change the Exchange Online connectors the new names require",
                          why="The new certificate no longer covers the names these settings expect.",
                          where="Exchange Online PowerShell", commands=str(script)))
    steps.append(Step(
        title="Or re-run the Hybrid Configuration Wizard",
        why=("Choosing the new certificate on its Transport Certificate page updates the on-premises connectors, the "
             "hybrid configuration and the Exchange Online connectors together (the steps above, done for you). "
             f"It does not import roots into AuthRoot: step {first} is still yours."),
        where=f"the HCW, after steps {first} and {first + 1}", commands="# Hybrid Configuration Wizard > Transport Certificate: pick "
        f"{comment_text(new.subject)} (thumbprint {comment_text(new.thumbprint)})"))
    verify = Script()
    steps.append(Step(
        title="Verify before removing anything",
        why="Prove every address presents the new certificate and mail flows both ways; then remove the old one.",
        where="here and in Exchange Online PowerShell",
        commands=str(verify.add(
            "hybridtls probe <OnPremisesSmartHost> --expect-cert " + _name_value(verify, new, new_name),
            "Get-MessageTrace -StartDate (Get-Date).AddHours(-1) -EndDate (Get-Date) | Group-Object Status",
            "# only then: Remove-ExchangeCertificate -Server <ServerName> -Thumbprint <OldThumbprint>",
        )),
    ))
    return steps


def _estate_mx(evidence: EvidenceSet) -> Callable[[str], bool]:
    """Whether the evidence ties an MX host to this estate: the current certificate (Get-ExchangeCertificate, as the
    connectors' TlsCertificateName names it, else its subject's CN) covers the host name, or a saved probe of that
    host served the current certificate (its thumbprint, or the issuer and subject a connector names)."""
    names = _current_names(evidence)
    current = _current_certificate(evidence, names)
    domains = (*(current.certificate_domains if current else ()),
               *(m[1].strip() for n in names for m in [_CN.search(n.subject)] if m))
    thumbprint = (current.thumbprint or "").upper() if current else ""
    served = {p.host.rstrip(".").casefold() for p in evidence.probes if p.chain and (
        (thumbprint and p.chain[0].thumbprint.upper() == thumbprint)
        or any(names_same_certificate(TlsCertificateName(p.chain[0].issuer, p.chain[0].subject), n) for n in names))}

    def ours(host: str) -> bool:
        bare = host.rstrip(".")
        return bare.casefold() in served or (bool(domains) and covering_name(domains, bare) is not None)
    return ours


_CN = re.compile(r"(?:^|,)\s*CN=([^,]+)", re.IGNORECASE)


def mta_sts_risks(evidence: EvidenceSet, new: CertificateFile) -> list[Risk]:
    """MTA-STS for the change: a sender that applies a domain's policy (testing or enforce) delivers to an MX only
    over TLS with a publicly trusted certificate that covers the MX host name (RFC 8461 section 4.2). For every MX
    the evidence ties to this estate (see :func:`_estate_mx`), the new certificate must cover its name; the other
    MX hosts (a third-party gateway) are named, not judged."""
    if not evidence.mta_sts:
        return [Risk(severity=Severity.INFO, title="MTA-STS not checked",
                     detail="No saved probe --mx in the evidence: run hybridtls probe --mx <Domain> --format json "
                            "and give the file to plan, to check the new certificate against the policy's MX hosts.")]
    risks: list[Risk] = []
    ours = _estate_mx(evidence)
    for result in evidence.mta_sts:
        policy = result.policy
        if policy is None or not policy.valid or policy.mode not in (PolicyMode.ENFORCE, PolicyMode.TESTING):
            continue
        others = [h for h in result.mx_hosts if not exchange_online_host(h)]
        own = [h for h in others if ours(h)]
        foreign = [h for h in others if h not in own]
        uncovered = [h for h in own if covering_name(new.certificate_domains, h.rstrip(".")) is None]
        if uncovered:
            enforced = policy.mode is PolicyMode.ENFORCE
            risks.append(Risk(
                severity=Severity.ERROR if enforced else Severity.WARNING,
                title=f"The new certificate does not cover the MX host{'s' if len(uncovered) > 1 else ''} "
                      f"{', '.join(uncovered)} that the MTA-STS policy of {result.domain} applies to",
                detail=(f"The policy is in {policy.mode.value} mode: senders that apply it (Exchange Online does) "
                        + ("will not deliver to " if enforced else "report failures for ")
                        + f"{', '.join(uncovered)} once it presents a certificate that does not cover the name. "
                        "Add the name to the new certificate, or point the MX elsewhere first.")))
        elif own:
            risks.append(Risk(severity=Severity.INFO,
                              title=f"The new certificate covers every MX host of {result.domain} that MTA-STS "
                                    f"applies to ({', '.join(own)})",
                              detail=f"The policy is in {policy.mode.value} mode; the chain must also be publicly "
                                     "trusted, which the chain risks above judge."))
        if foreign:
            risks.append(Risk(severity=Severity.INFO,
                              title=f"MX hosts of {result.domain} not ours to judge: {', '.join(foreign)}",
                              detail=("Nothing in the evidence ties them to this estate (no saved probe of them served "
                                      "the current certificate, and the current certificate does not cover their "
                                      "names): a gateway in front, or another organisation's. The new certificate "
                                      "is not judged against them; if they are this estate's servers, give a saved "
                                      "probe of them to plan.")))
    return risks


def _tlsa_seen(evidence: EvidenceSet) -> tuple[dict[str, list[TlsaRecord]], dict[str, DaneObservation]]:
    """TLSA records in the evidence by owner name, and one observation of each name: from saved probes, and from
    DNS output read as evidence (dig, the DNS server's TLSA properties), whose DNSSEC state is dig's ad flag."""
    records: dict[str, list[TlsaRecord]] = {}
    observed: dict[str, DaneObservation] = {}

    def add(name: str, found: Iterable[TlsaRecord]) -> None:
        known = records.setdefault(name, [])
        known.extend(r for r in found if r.presentation not in {k.presentation for k in known})

    for probe in evidence.probes:
        if probe.dane is None or probe.dane.lookup is not TlsaLookup.FOUND:
            continue
        observed.setdefault(probe.dane.tlsa_name, probe.dane)
        add(probe.dane.tlsa_name, probe.dane.records)
    answers = {a.name.rstrip(".").casefold(): a for a in evidence.dns_answers}
    for record in evidence.tlsa_records:
        name = record.name.rstrip(".").casefold()
        if not name:
            continue  # a record whose owner name the output did not show cannot be tied to a host
        answer = answers.get(name)
        observed.setdefault(name, DaneObservation(
            tlsa_name=name, lookup=TlsaLookup.FOUND, resolver=f"the evidence ({record.source})",
            secure=answer.authenticated if answer else None))
        add(name, (record,))
    return records, observed


def _estate_hosts(evidence: EvidenceSet) -> dict[str, str]:
    """The host names of this estate DANE applies to (smart hosts, probed hosts), by folded name; Exchange Online's
    own hosts and address literals left out."""
    return {h.rstrip(".").casefold(): h.rstrip(".")
            for h in (*(c.on_premises_smart_host for c in evidence.hybrid_configurations),
                      *(h for c in evidence.online_connectors
                        if c.direction is ConnectorDirection.OUTBOUND for h in c.smart_hosts),
                      *(p.host for p in evidence.probes))
            if h and not is_address(h) and not exchange_online_host(h)}


def _answered(evidence: EvidenceSet) -> set[str]:
    """The hosts whose TLSA lookup was answered (records, or none): by a saved probe, or DNS output."""
    names = {p.dane.tlsa_name for p in evidence.probes  # an unsigned MX: a DANE sender looks nothing up (RFC 7672)
             if p.dane is not None and (p.dane.lookup in (TlsaLookup.FOUND, TlsaLookup.NONE) or p.dane.mx_secure is False)}
    names |= {a.name for a in evidence.dns_answers} | {r.name for r in evidence.tlsa_records if r.name}
    return {_host_of(n.rstrip(".").casefold()) for n in names}


def _dane_unknown(evidence: EvidenceSet) -> Risk | None:
    """The estate's hosts whose TLSA records were not looked up: say so, naming them, rather than plan as if DANE
    were off for them. None when every host was looked up."""
    hosts = _estate_hosts(evidence)
    failed = {p.host.rstrip(".").casefold() for p in evidence.probes  # said by _failed_lookups
              if p.dane is not None and p.dane.lookup in (TlsaLookup.SERVFAIL, TlsaLookup.FAILED)}
    tried = _answered(evidence) | failed
    missing = [h for key, h in hosts.items() if key not in tried]
    if tried and not missing:
        return None
    named = ", ".join(sorted(missing, key=str.casefold)) or "the MX and smart host names"
    lead = (f"No TLSA lookup in the evidence for {named}" if tried else "No TLSA lookup in the evidence")
    return Risk(severity=Severity.INFO, title="DANE not checked",
                detail=(f"{lead}. Before the swap, probe {named} with --nameserver set to a validating resolver and "
                        "give the saved JSON to plan: if they publish TLSA records, the new key's record must be "
                        "published first, or Exchange Online (DANE) refuses the new certificate."))


def _failed_lookups(evidence: EvidenceSet) -> list[Risk]:
    """TLSA lookups that did not answer: a SERVFAIL makes a DANE sender defer; a lookup with no answer at all
    leaves DANE for that host undetermined. Either way the plan cannot say what to publish."""
    risks: dict[str, Risk] = {}
    for probe in evidence.probes:
        dane = probe.dane
        if (dane is None or dane.lookup not in (TlsaLookup.SERVFAIL, TlsaLookup.FAILED) or dane.mx_secure is False
                or exchange_online_host(probe.host) or dane.tlsa_name in risks):
            continue
        what = ("failed (SERVFAIL): a DANE sender (Exchange Online) cannot tell whether DANE applies, so it defers "
                "mail to this host now and after the swap" if dane.lookup is TlsaLookup.SERVFAIL else
                "got no answer: whether DANE applies to this host, and what to publish, was not determined")
        risks[dane.tlsa_name] = Risk(
            severity=Severity.WARNING, title=f"The TLSA lookup of {dane.tlsa_name} did not answer",
            detail=(f"The lookup through {dane.resolver} {what} ({dane.detail}). Repair the zone's DNSSEC chain or "
                    f"the resolver, then probe {probe.host} again with --nameserver and give the saved JSON to plan."))
    return list(risks.values())


def _host_of(tlsa_name: str) -> str:
    return tlsa_name.split(".", 2)[2] if tlsa_name.count(".") >= 2 else tlsa_name


def dane_plan(evidence: EvidenceSet, new: CertificateFile, chain: ChainAnalysis) -> tuple[list[Step], list[Step], list[Risk]]:
    """DANE for the change: for each TLSA name the evidence shows records for, the record of the new key to publish
    before the swap (the current ones kept until it is done), and which current records to remove one TTL after.
    Returns (steps before the swap, steps after it, risks)."""
    from hybridtls.checks.dane import ZONE_TTL, dnssec_said, zone_line
    from hybridtls.pki.dane import matches, tlsa_for, unusable

    records, observed = _tlsa_seen(evidence)
    unknown = _dane_unknown(evidence)
    risks: list[Risk] = [*_failed_lookups(evidence), *([unknown] if unknown else [])]
    served = tuple(c for c in chain.path if not c.is_self_signed) or chain.path  # what step 2 makes servers send
    before: list[Step] = []
    after: list[Step] = []
    for name, current in sorted(records.items()):
        host, dane = _host_of(name), observed[name]
        if exchange_online_host(host):
            continue  # Exchange Online's own MX: Microsoft publishes its TLSA records, not this estate
        ttl = max((r.ttl for r in current if r.ttl is not None), default=ZONE_TTL)
        new_record = tlsa_for(new, name=name)
        still = [r for r in current if not unusable(r) and matches(r, served, (host,))]
        stale = [r for r in current if not unusable(r) and r not in still]
        secure = dane.secure is True and dane.mx_secure is not False
        if still:
            risks.append(Risk(severity=Severity.INFO, title=f"The current TLSA records of {name} match the new certificate",
                              detail=(f"{', '.join(r.presentation for r in still)} still match"
                                      f"{' (the key is reused)' if any(r.usage == 3 for r in still) else ' (same issuing CA)'}"
                                      ": nothing must be published before the swap.")))
        else:
            risks.append(Risk(
                severity=Severity.ERROR if secure else Severity.WARNING,
                title=f"No current TLSA record of {name} matches the new certificate",
                detail=(f"Publish {new_record.presentation} before the swap (the first step), or "
                        + ("Exchange Online (DANE) refuses to deliver to this host: tlsa-invalid." if secure else
                           f"DANE senders would refuse it once DNSSEC is on ({dnssec_said(dane)}: not secure)."))))
        if not still:
            script = Script("# In the DNSSEC-signed zone: ADD the new key's record and KEEP the current ones until every",
                            "# node serves the new certificate. Then wait one TTL before the swap.")
            for record in current:
                script.comment(f"keep: {zone_line(name, record.presentation, record.ttl or ttl)}")
            script.comment(f"add:  {zone_line(name, new_record.presentation, ttl)}")
            script.add(f"Resolve-DnsName -Name {script.value(name, '<TlsaName>', 'TLSA name')} -Type TLSA -DnssecOk"
                       "   # both records, from a validating resolver")
            before.append(Step(title=f"Publish the new TLSA record for {host} before the swap",
                               why=(f"DANE senders deliver only to a certificate a TLSA record matches. Publish the "
                                    f"3 1 1 record of the new key beside the current one, at least one TTL ({ttl} s) "
                                    "before the new certificate is bound, so that every cache holds both."),
                               where=f"the DNS zone of {host}", commands=str(script)))
        if stale:
            script = Script(f"# One TTL ({ttl} s) after the last node serves the new certificate, REMOVE:")
            for record in stale:
                script.comment(f"remove: {zone_line(name, record.presentation, record.ttl or ttl)}")
            script.add(f"hybridtls probe {script.value(host, '<Host>', 'host name')} --nameserver <ValidatingResolver>"
                       "   # the DANE line must read: matched, no DANE failure")
            after.append(Step(title=f"Remove the old TLSA record of {host} one TTL after the swap",
                              why="A record of a key no longer served is a rotation hazard left behind.",
                              where=f"the DNS zone of {host}", commands=str(script)))
    return before, after, risks


# ---------------------------------------------------------------- the rotation era: EKU, tenant names, cadence, stores


def rotation_of(evidence: EvidenceSet, new: CertificateFile, chain: ChainAnalysis) -> Rotation:
    oids = {oid for _, oid in new.extended_key_usage}
    domains, _ = accepted_for_attribution(evidence)
    names = tuple(sorted({d.domain_name for d in domains}))
    due = renew_by(new.not_before, new.not_after)
    return Rotation(
        client_auth=not oids or refs.CLIENT_AUTH in oids or refs.ANY_PURPOSE in oids,
        eku=tuple(name for name, _ in new.extended_key_usage),
        lifetime_days=validity(new.not_before, new.not_after) / timedelta(days=1),
        max_lifetime_days=max_public_lifetime(new.not_before), renew_by=due,
        next_max_lifetime_days=max_public_lifetime(due), accepted_domains=names,
        names_outside=tuple(n for n in new.certificate_domains if names and not under_accepted(n, names)),
        servers=_server_chains(evidence, chain))


def _server_chains(evidence: EvidenceSet, chain: ChainAnalysis) -> tuple[ServerChain, ...]:
    root = chain.path[-1] if chain.path[-1].is_self_signed else None
    intermediates = [c for c in chain.path[1:] if not c.is_self_signed]
    by_server: dict[str, list[StoreCertificate]] = {}
    names: dict[str, str] = {}
    for entry in evidence.store_certificates:
        if entry.server is not None:
            by_server.setdefault(entry.server.key, []).append(entry)
            names.setdefault(entry.server.key, entry.server.name)

    def holds(entries: list[StoreCertificate], cert: CertificateFile) -> bool:
        """By thumbprint when the listing gives one (a re-keyed or expired CA certificate of the same name is not
        this one); by subject only when it does not."""
        return any(e.thumbprint.upper() == cert.thumbprint.upper() if e.thumbprint
                   else bool(e.subject) and name_key(e.subject or "") == name_key(cert.subject) for e in entries)

    out = []
    for key, listed in sorted(by_server.items()):
        stores = {e.store for e in listed}
        in_store = {store: [e for e in listed if e.store == store] for store in stores if store}
        elsewhere = tuple(sorted(s for s, entries in in_store.items() if s != "AuthRoot" and root and holds(entries, root)))
        out.append(ServerChain(
            server=names[key], source=listed[0].source,
            root_in_authroot=None if root is None or "AuthRoot" not in stores else holds(in_store["AuthRoot"], root),
            root_elsewhere=elsewhere, ca_listed="CA" in stores,
            intermediates_missing=tuple(c.subject for c in intermediates
                                        if "CA" in stores and not holds(in_store["CA"], c))))
    return tuple(out)


def rotation_risks(rotation: Rotation, new: CertificateFile, now: datetime) -> list[Risk]:
    risks = []
    if not rotation.client_auth:
        risks.append(Risk(severity=Severity.WARNING, title="The new certificate has no Client Authentication EKU",
                          detail=f"Its Extended Key Usage is {', '.join(rotation.eku)}. On-premises servers present the "
                                 "hybrid certificate as a TLS client certificate to Exchange Online; Microsoft has "
                                 "published no statement yet on whether it needs Client Authentication. Public CAs stop "
                                 f"issuing it from {refs.CLIENT_AUTH_SUNSET} (Chrome Root Program): ask the CA whether a "
                                 "product with it is still offered, and watch for Microsoft's word."))
    if rotation.names_outside:
        risks.append(Risk(severity=Severity.WARNING, title="Names outside the tenant's accepted domains",
                          detail=f"{', '.join(rotation.names_outside)} "
                                 f"{'falls' if len(rotation.names_outside) == 1 else 'fall'} under none of the accepted domains "
                                 f"({', '.join(rotation.accepted_domains)}). Exchange Online attributes on-premises "
                                 "mail by the certificate's domain first (MC1226222)."))
    over = over_public_limit(new.not_before, new.not_after)
    if over:
        risks.append(Risk(severity=Severity.WARNING, title="Longer-lived than a public CA may issue",
                          detail=f"Valid {over[0]:,.0f} days from {new.not_before:%Y-%m-%d}; a public CA may issue at "
                                 f"most {over[1]} days then (CA/B Forum SC-081): a private CA's certificate, or its "
                                 "dates are not what they seem. Exchange Online needs a public CA's certificate."))
    lacking = [s.server for s in rotation.servers if s.root_in_authroot is False or s.intermediates_missing]
    if lacking:
        risks.append(Risk(severity=Severity.ERROR, title="Servers whose stores lack the new chain",
                          detail=f"The store listings show {', '.join(lacking)} without the new root in AuthRoot or an "
                                 "intermediate in CA: import them there before binding SMTP (the step that puts the chain in the stores says what, server by server)."))
    return risks


def store_step(general: Step, rotation: Rotation, chain: ChainAnalysis, servers: tuple[str, ...]) -> Step:
    """The chain-import step made exact where the evidence lists the servers' stores: each listed server imports
    only what it lacks (a store not listed counts as lacking), the servers not listed import everything."""
    if not rotation.servers:
        return general
    root = chain.path[-1] if chain.path[-1].is_self_signed else None
    intermediates = [(index + 1, c) for index, c in enumerate(c for c in chain.path[1:] if not c.is_self_signed)]
    root_line = ("    Import-Certificate -FilePath '\\\\fileserver\\share\\root.cer' -CertStoreLocation "
                 f"Cert:\\LocalMachine\\AuthRoot   # {comment_text(root.subject)}" if root else None)

    def inter_line(number: int, cert: CertificateFile) -> str:
        return (f"    Import-Certificate -FilePath '\\\\fileserver\\share\\intermediate{number}.cer' -CertStoreLocation "
                f"Cert:\\LocalMachine\\CA   # {comment_text(cert.subject)}")

    script = Script()
    listed = {s.server.split(".")[0].casefold() for s in rotation.servers}
    for server in rotation.servers:
        lines = [*([root_line] if root_line and server.root_in_authroot is not True else []),
                 *(inter_line(n, c) for n, c in intermediates
                   if not server.ca_listed or c.subject in server.intermediates_missing)]
        if not lines:
            script.add(f"# {comment_text(server.server)}: the new root is in AuthRoot and every intermediate in CA "
                       f"already ({comment_text(str(server.source))}): nothing to import")
            continue
        script.add(f"Invoke-Command -ComputerName {script.value(server.server, '<ServerName>', 'server name')} "
                   "-ScriptBlock {", *lines, "}")
    rest = [name for name in servers if name.split(".")[0].casefold() not in listed]
    if rest:
        script.add("# no store listing in the evidence for these: import everything",
                   f"Invoke-Command -ComputerName @({script.values(rest, '<ServerName>', 'server name')}) -ScriptBlock {{",
                   *([root_line] if root_line else []), *(inter_line(n, c) for n, c in intermediates), "}")
    return Step(title=general.title, where=general.where, commands=str(script),
                why=general.why + " The store listings in the evidence say what each listed server already holds: "
                                  "only what it lacks is imported there.")


def calendar_step(rotation: Rotation, new: CertificateFile) -> Step:
    """When the next rotation is due, and how long the next certificate may live."""
    next_limit = (f"; a certificate issued then may live at most {rotation.next_max_lifetime_days} days"
                  if rotation.next_max_lifetime_days else "")
    return Step(
        title=f"Put the next rotation in the calendar: by {rotation.renew_by:%Y-%m-%d}",
        why=(f"Two thirds into this certificate's {rotation.lifetime_days:,.0f} days, or {refs.RENEW_MARGIN_DAYS} days "
             f"before NotAfter, whichever comes first{next_limit} (CA/B Forum SC-081: 200 days from 2026-03-15, 100 "
             "from 2027-03-15, 47 from 2029-03-15). Plan it with hybridtls plan again."),
        where="the change calendar",
        commands=(f"# next certificate in place by {rotation.renew_by:%Y-%m-%d} (this one: NotAfter "
                  f"{new.not_after:%Y-%m-%d})"))
