"""Certificate chains as Exchange Online would build them: public root, intermediates sent, links valid,
modern algorithms, serverAuth, names. Facts come from pki/chain.py; this module only judges them."""

from __future__ import annotations

from collections.abc import Iterator

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.fixes import tls_domain_fix
from hybridtls.checks.needs import CHAINS, EXPECTED_NAMES
from hybridtls.model import ChainAnalysis, ChainEnd, Citation, EvidenceSet, Finding, FindingSubject, Severity
from hybridtls.pki.hostnames import covering_name, is_private_url
from hybridtls.powershell import Script


def _cite(chain: ChainAnalysis, text: str) -> Citation:
    return Citation(source=chain.leaf.source, text=text)


def _leaf_name(chain: ChainAnalysis) -> str:
    subject = chain.leaf.subject or chain.leaf.thumbprint
    if chain.leaf.source.path.startswith("probe "):
        return f"{subject} (presented by {chain.leaf.source.path[len('probe '):]})"
    return subject


def _about(chain: ChainAnalysis, name: str | None = None) -> FindingSubject:
    """The leaf by thumbprint, the probed address when a probe presented it, and what else tells findings apart."""
    path = chain.leaf.source.path
    return FindingSubject(certificate=chain.leaf.thumbprint, name=name,
                          address=path[len("probe "):] if path.startswith("probe ") else None)


def _missing_is_public(chain: ChainAnalysis) -> bool:
    urls = chain.missing_issuer_urls
    return bool(urls) and not all(is_private_url(u) for u in urls)


def _install_intermediate(url: str) -> str:
    script = Script("# On every Exchange server, in an elevated Windows PowerShell:")
    return str(script.add(
        f"Invoke-WebRequest -Uri {script.value(url, '<caIssuersURL>', 'caIssuers URL')} -OutFile $env:TEMP\\intermediate.cer",
        "Import-Certificate -FilePath $env:TEMP\\intermediate.cer -CertStoreLocation Cert:\\LocalMachine\\CA"))


def _fetched_intermediate(chain: ChainAnalysis) -> Finding:
    fetched = chain.fetched_links
    verdict = ("and with it the chain reaches a trusted root: the certificate is fine, the intermediate is simply not "
               "being supplied" if chain.end is ChainEnd.TRUSTED else "but the chain still does not reach a trusted root")
    return MISSING_INTERMEDIATE.finding(
        subject=_leaf_name(chain), about=_about(chain),
        message=(f"The chain of {_leaf_name(chain)} needed {', '.join(repr(c.subject) for c in fetched)}, which was "
                 f"not supplied; it was downloaded with --fetch-aia from {fetched[0].source.path}, {verdict}. "
                 "Exchange Online does not fetch intermediates: install it on every Exchange server."),
        evidence=[Citation(source=c.source, text=f"fetched {c.subject!r}") for c in fetched],
        remediation=_install_intermediate(fetched[0].source.path),
    )


def _missing_intermediate(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for chain in evidence.chains:
        if chain.fetched_links:
            yield _fetched_intermediate(chain)
            continue
        if chain.end is not ChainEnd.MISSING_ISSUER or not _missing_is_public(chain):
            continue
        last = chain.path[-1]
        urls = [u for u in chain.missing_issuer_urls if not is_private_url(u)]
        yield MISSING_INTERMEDIATE.finding(
            subject=_leaf_name(chain), about=_about(chain),
            message=(f"The chain of {_leaf_name(chain)} stops at {last.subject!r}: its issuer {chain.missing_issuer!r} "
                     f"was not supplied. The CA publishes it at {urls[0]}. Exchange Online does not fetch missing "
                     "intermediates: the server must send it, so install it in 'Intermediate Certification "
                     "Authorities' on every Exchange server (and give it here with --intermediates to check again)."),
            evidence=[_cite(chain, f"{len(chain.path)} certificate(s) link up to {last.subject!r}"),
                      Citation(source=last.source, text=f"caIssuers: {', '.join(urls)}")],
            remediation=_install_intermediate(urls[0]),
        )


MISSING_INTERMEDIATE = Check(
    id="HT-CHAIN-001", title="Intermediate certificate not supplied", severity=Severity.ERROR,
    needs=needs(CHAINS, also="the intermediates the server sends (--intermediates), or a probe's chain as served"),
    explanation=("A server must send its intermediate certificates; Exchange Online builds the chain from what is "
                 "presented and does not fetch missing intermediates. On Windows, Schannel sends the intermediates "
                 "it finds in 'Intermediate Certification Authorities', so a missing one there means TLS fails "
                 "(550 5.7.64 TenantAttribution outbound, 4.4.317 / 4.7.320 inbound)."),
    remediation="Download the intermediate from the caIssuers URL and import it into Cert:\\LocalMachine\\CA on every server.",
    command=fixes.CA_IMPORT,
    references=(refs.KB_3212877, refs.CERT_REQUIREMENTS), run=_missing_intermediate,
)


def _not_public(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for chain in evidence.chains:
        if chain.end is ChainEnd.TRUSTED or (chain.end is ChainEnd.MISSING_ISSUER and _missing_is_public(chain)):
            continue
        top = chain.path[-1]
        if chain.end is ChainEnd.UNTRUSTED_ROOT and len(chain.path) == 1:
            what = (f"{_leaf_name(chain)} is self-signed. Exchange Online accepts only certificates from public CAs "
                    "for hybrid mail.")
        elif chain.end is ChainEnd.UNTRUSTED_ROOT:
            what = (f"{_leaf_name(chain)} chains to the root {top.subject!r}, which is not in the Mozilla root store: "
                    "a private or internal CA. Exchange Online will refuse it.")
        else:
            urls = ", ".join(chain.missing_issuer_urls) or "none"
            what = (f"{_leaf_name(chain)} was issued by {chain.missing_issuer!r}, an unknown CA: not a public root, "
                    f"and it publishes no public place to fetch its certificate (caIssuers: {urls}). This looks like "
                    "an internal CA, which Exchange Online will refuse. If it is a public CA's intermediate, give it "
                    "with --intermediates.")
        yield NOT_PUBLIC.finding(
            subject=_leaf_name(chain), message=what, about=_about(chain),
            evidence=[Citation(source=top.source, text=f"chain ends at {top.subject!r} (issuer {top.issuer!r})")],
            remediation=("# Request the certificate from a public CA (one in the Microsoft Trusted Root Program),\n"
                         "# install it on every server in the hybrid mail path, then:\n"
                         "Enable-ExchangeCertificate -Server <ServerName> -Thumbprint <NewThumbprint> -Services SMTP"),
        )


NOT_PUBLIC = Check(
    id="HT-CHAIN-002", title="Not issued by a publicly trusted CA", severity=Severity.ERROR,
    needs=needs(CHAINS, also="--trust for a private root you mean to trust"),
    explanation=("Hybrid mail TLS requires a certificate that chains to a root in the Microsoft Trusted Root "
                 "Program (checked here against the Mozilla root store, which carries the same public CAs). "
                 "Self-signed certificates and internal CAs are refused by Exchange Online."),
    remediation="Use a certificate from a public CA for SMTP.",
    command=fixes.CERTIFICATE_REQUEST,
    references=(refs.CERT_REQUIREMENTS,), run=_not_public,
)


def _validity(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for chain in evidence.chains:
        for position, cert in enumerate(chain.path):
            context = ""
            if cert.not_after < ctx.now:
                state = f"expired on {cert.not_after:%Y-%m-%d}"
                context = ctx.valid_then(cert.not_after)
                state += f"; {context}, so it is context, not a cause" if context else ""
            elif cert.not_before > ctx.now:
                state = f"is not valid until {cert.not_before:%Y-%m-%d}"
            else:
                continue
            role = "the certificate" if position == 0 else f"link {position} of its chain"
            yield LINK_NOT_VALID.finding(
                subject=_leaf_name(chain), about=_about(chain, cert.thumbprint), context=context,
                message=f"For {_leaf_name(chain)}, {role} ({cert.subject!r}) {state} (judged at {ctx.now:%Y-%m-%d}).",
                evidence=[Citation(source=cert.source, text=f"NotBefore {cert.not_before:%Y-%m-%d %H:%M}, "
                                                            f"NotAfter {cert.not_after:%Y-%m-%d %H:%M} (UTC)")],
                remediation=("# Replace the certificate (or the intermediate) with a valid one and install it on "
                             "every server:\nGet-ExchangeCertificate | Format-List Thumbprint, Subject, NotBefore, NotAfter"),
            )


LINK_NOT_VALID = Check(
    id="HT-CHAIN-003", title="A certificate in the chain is expired or not yet valid", severity=Severity.ERROR,
    needs=needs(CHAINS), explanation="Every link of the chain must be within its validity period at --now.",
    remediation="Replace the expired certificate, or the expired intermediate, and install the new one everywhere.",
    command=fixes.IMPORT_AND_ENABLE,
    references=(refs.CERT_REQUIREMENTS,), run=_validity,
)


def _sha1(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for chain in evidence.chains:
        for cert in chain.path:
            if cert.signature_hash == "sha1" and not cert.is_self_signed:
                yield SHA1.finding(
                    subject=_leaf_name(chain), about=_about(chain, cert.thumbprint),
                    message=f"{cert.subject!r} in the chain of {_leaf_name(chain)} is signed with SHA-1 "
                            f"({cert.signature_algorithm}); Microsoft 365 has refused SHA-1 certificates since 2016.",
                    evidence=[Citation(source=cert.source, text=f"SignatureAlgorithm {cert.signature_algorithm}")],
                    remediation="# Reissue the certificate with SHA-256 (the CA does this on request, usually free).",
                )


SHA1 = Check(
    id="HT-CHAIN-004", title="SHA-1 signature in the chain", severity=Severity.ERROR, needs=needs(CHAINS),
    explanation="Microsoft 365 has not accepted SHA-1 signed certificates anywhere in the chain since June 2016.",
    command=fixes.CERTIFICATE_REQUEST,
    remediation="Reissue with SHA-256.", references=(refs.EXO_ENCRYPTION,), run=_sha1,
)


def _weak_keys(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for chain in evidence.chains:
        for cert in chain.path:
            if cert.public_key_algorithm == "RSA" and cert.public_key_size < refs.MINIMUM_RSA_BITS:
                yield WEAK_KEY.finding(
                    subject=_leaf_name(chain), about=_about(chain, cert.thumbprint),
                    message=f"{cert.subject!r} in the chain of {_leaf_name(chain)} has a {cert.public_key_size}-bit "
                            f"RSA key; at least {refs.MINIMUM_RSA_BITS} bits are required.",
                    evidence=[Citation(source=cert.source, text=f"PublicKeySize {cert.public_key_size}")],
                    remediation=("New-ExchangeCertificate -GenerateRequest -KeySize 2048 -SubjectName 'CN=mail.contoso.com' "
                                 "-DomainName mail.contoso.com -PrivateKeyExportable $true   # use your names"),
                )


WEAK_KEY = Check(
    id="HT-CHAIN-005", title="RSA key below 2048 bits in the chain", severity=Severity.ERROR, needs=needs(CHAINS),
    explanation="RSA keys below 2048 bits are refused by Exchange Online and by public CAs.",
    command=fixes.CERTIFICATE_REQUEST,
    remediation="Reissue with a 2048-bit or larger key.", references=(refs.EXO_ENCRYPTION,), run=_weak_keys,
)


def _server_auth(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for chain in evidence.chains:
        ekus = {oid for _, oid in chain.leaf.extended_key_usage}
        if not ekus or refs.SERVER_AUTH in ekus or refs.ANY_PURPOSE in ekus:
            continue
        names = ", ".join(name for name, _ in chain.leaf.extended_key_usage)
        yield NO_SERVER_AUTH.finding(
            subject=_leaf_name(chain), about=_about(chain),
            message=f"{_leaf_name(chain)} is not valid for Server Authentication (its EKU allows only {names}); "
                    "TLS peers, Exchange Online among them, reject it for STARTTLS.",
            evidence=[Citation(source=chain.leaf.source, text=f"EnhancedKeyUsageList {names}")],
            remediation="# Request a TLS server certificate (EKU Server Authentication, 1.3.6.1.5.5.7.3.1) from the CA.",
        )


NO_SERVER_AUTH = Check(
    id="HT-CHAIN-006", title="Certificate not valid for Server Authentication", severity=Severity.ERROR,
    needs=needs(CHAINS),
    explanation=("A certificate with an Extended Key Usage list must include Server Authentication "
                 "(1.3.6.1.5.5.7.3.1) to be used for STARTTLS."),
    command=fixes.CERTIFICATE_REQUEST,
    remediation="Request a certificate with the Server Authentication EKU.", references=(refs.CERT_REQUIREMENTS,),
    run=_server_auth,
)


def _names(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for chain in evidence.chains:
        names = chain.leaf.certificate_domains
        for host in ctx.expected_names:
            if covering_name(names, host):
                continue
            yield NAME_NOT_COVERED.finding(
                subject=_leaf_name(chain), about=_about(chain, host),
                message=(f"{_leaf_name(chain)} does not cover {host!r}: its names are {', '.join(names) or 'none'}. "
                         "A wildcard covers exactly one left-most label (*.contoso.com covers mail.contoso.com, not "
                         "contoso.com nor a.b.contoso.com). Exchange Online's DomainValidation would report "
                         "SubjectMismatch."),
                evidence=[Citation(source=chain.leaf.source, text=f"CertificateDomains {', '.join(names)}")],
                remediation=tls_domain_fix(names, "# Either get a certificate that includes the name, or point the "
                                          "connector at a name the", "# certificate covers (Exchange Online PowerShell):"),
            )


NAME_NOT_COVERED = Check(
    id="HT-CHAIN-007", title="Certificate does not cover the expected host name", severity=Severity.ERROR,
    needs=needs(CHAINS, EXPECTED_NAMES),
    explanation=("With TlsSettings DomainValidation, Exchange Online checks that the presented certificate covers "
                 "the outbound connector's TlsDomain (SAN DNS names; a wildcard covers one left-most label; partial "
                 "wildcards never match)."),
    remediation="Get a certificate that covers the name, or change TlsDomain to a name the certificate covers.",
    command=fixes.TLS_DOMAIN,
    references=(refs.SET_OUTBOUND_CONNECTOR,), run=_names,
)


FAMILY = Family(name="chain", commands=frozenset({Command.CHECK, Command.CERT, Command.PROBE, Command.PLAN}),
                checks=(MISSING_INTERMEDIATE, NOT_PUBLIC, LINK_NOT_VALID, SHA1, WEAK_KEY, NO_SERVER_AUTH, NAME_NOT_COVERED))
CHECKS = FAMILY.checks
