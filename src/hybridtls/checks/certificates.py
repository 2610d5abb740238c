"""Each certificate's own health, and whether every server holds the hybrid certificate with SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.estate import (
    CertificateGroup,
    about,
    certificate_id,
    certificate_selector,
    cite,
    estate_servers,
    get_certificate,
    group_certificates,
    ps_server_value,
    server_name,
)
from hybridtls.checks.needs import (
    HAS_PRIVATE_KEY,
    NOT_AFTER,
    PUBLIC_KEY_SIZE,
    SERVER_CERTIFICATES,
    STATUS,
    TWO_SERVERS,
)
from hybridtls.checks.readings import as_printed, days_text, each_reading, not_judged, reads, verdicts
from hybridtls.model import (
    CertificateStatus,
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    NotJudged,
    Severity,
)
from hybridtls.powershell import Script


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _bound(cert: ExchangeCertificate) -> bool:
    """Whether the certificate is in use for any service (unknown counts as in use)."""
    return cert.services is None or bool(cert.services)


def _services_text(cert: ExchangeCertificate) -> str:
    if cert.services is None:
        return "?"
    return ", ".join(sorted(cert.services)) or "None"


def _renewal(cert: ExchangeCertificate) -> str:
    script = Script()
    if cert.is_self_signed:
        return str(script.add(f"{get_certificate(script, cert)} | New-ExchangeCertificate -Force -PrivateKeyExportable $true",
                              "# then Enable-ExchangeCertificate the new thumbprint for the same services"))
    return str(script.add(
        "# Renew with the CA (same vendor: a renewal request from the current certificate):",
        f"{get_certificate(script, cert)} | New-ExchangeCertificate -GenerateRequest -PrivateKeyExportable $true",
        "# Install the issued certificate on every server that holds this one, then bind SMTP",
        "# (answer No when asked to replace the internal transport certificate):",
        "Import-ExchangeCertificate -Server <ServerName> -FileData ([System.IO.File]::ReadAllBytes('\\\\fileserver\\share\\new.pfx')) "
        "-Password (Read-Host -AsSecureString 'PFX password') -PrivateKeyExportable $true",
        "Enable-ExchangeCertificate -Server <ServerName> -Thumbprint <NewThumbprint> -Services SMTP",
        "# Then re-run the Hybrid Configuration Wizard and pick the new certificate (it updates TlsCertificateName).",
    ))


def _remove(cert: ExchangeCertificate) -> str:
    script = Script()
    return str(script.add(f"{get_certificate(script, cert)} | Remove-ExchangeCertificate"))


@dataclass(frozen=True, slots=True)
class _Dated:
    """A certificate with its NotAfter: one date, or both readings of one whose day and month could be either way
    round (then judged only where both readings agree)."""

    group: CertificateGroup
    cert: ExchangeCertificate  # the observation whose NotAfter is judged
    dates: tuple[datetime, ...]  # the earlier first

    def not_judged(self, disagreement: str) -> NotJudged:
        assert self.cert.not_after_readings is not None
        return not_judged(self.group.name, "NotAfter", self.cert.not_after_readings, self.cert.cite("notafter"),
                          disagreement)

    def says(self, one: str, either: str) -> str:
        """``one`` of a date read one way; of two readings, ``either`` and both readings."""
        readings = self.cert.not_after_readings
        return one if readings is None else f"{either}: {reads('NotAfter', readings)}"

    @property
    def citations(self) -> list[Citation]:
        return [cite(c, "notafter", "NotAfter", _not_after_text(c)) for c in self.group.observations
                if c.possible_not_after]


def _not_after_text(cert: ExchangeCertificate) -> str:
    return as_printed(cert.not_after_readings) if cert.not_after_readings else days_text(cert.possible_not_after)


def _dated(evidence: EvidenceSet) -> list[_Dated]:
    dated = []
    for group in group_certificates(evidence.certificates):
        with_date = [c for c in group.observations if c.not_after is not None]
        if with_date:  # a date read one way on one server settles the certificate's, however it reads elsewhere
            cert = min(with_date, key=lambda c: c.not_after or datetime.max)
            dated.append(_Dated(group, cert, cert.possible_not_after))
            continue
        two_ways = [c for c in group.observations if c.not_after_readings]
        if two_ways:
            dated.append(_Dated(group, two_ways[0], tuple(sorted({d for c in two_ways for d in c.possible_not_after}))))
    return dated


def _servers_of(group: CertificateGroup) -> str:
    return ", ".join(sorted({server_name(c) for c in group.observations}))


def _expired(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for item in _dated(evidence):
        group, cert = item.group, item.cert
        expired = verdicts(item.dates, lambda d: d < ctx.now)
        if len(expired) > 1:
            yield item.not_judged(each_reading(item.dates, lambda d: "expired" if d < ctx.now else "not expired"))
            continue
        if not expired[0]:
            continue
        days = (ctx.now - item.dates[-1]).days  # the later reading: never more days than the evidence gives
        in_use = any(_bound(c) for c in group.observations)
        said = item.says(f"expired on {_day(item.dates[0])} ({days} days before {_day(ctx.now)})",
                         f"expired under either reading of its NotAfter, at least {days} days before {_day(ctx.now)}")
        context = ctx.valid_then(*item.dates)
        if context:
            said = f"{context}, so it is context, not the cause of what the evidence shows (NotAfter {_day(item.dates[0])})"
        yield EXPIRED.finding(
            subject=group.name, about=about(group.representative, server=False),
            severity=Severity.ERROR if in_use else Severity.INFO, context=context,
            message=(f"{group.name} {said}; it is on {_servers_of(group)}"
                     + (f" and bound to {_services_text(cert)}." if in_use else " and bound to no service: "
                        "remove it when nothing refers to it.")),
            evidence=item.citations,
            remediation=_renewal(cert) if in_use else _remove(cert),
        )


EXPIRED = Check(
    id="HT-CERT-001", title="Certificate expired", severity=Severity.ERROR,
    needs=needs(NOT_AFTER, also="Services, to tell a certificate in use from a leftover"),
    explanation=("An expired certificate on a connector's path stops TLS: Exchange logs event 12016 but keeps "
                 "offering STARTTLS, and Exchange Online refuses the certificate (CertificateExpired). Dates are "
                 "judged against --now (default: today); a date whose day and month could be either way round is "
                 "judged when both readings agree."),
    remediation="Renew the certificate, install it on every server that holds this one, bind SMTP, and re-run "
                "the Hybrid Configuration Wizard.",
    command=fixes.IMPORT_AND_ENABLE,
    references=(refs.CERT_REQUIREMENTS, refs.HYBRID_TLS_BLOG), run=_expired,
)


def _soon(not_after: datetime, now: datetime) -> Severity | None:
    """What HT-CERT-002 makes of one NotAfter: a warning, a notice, or nothing (expired is HT-CERT-001's)."""
    days = (not_after - now).days
    if not_after < now or days > refs.EXPIRY_NOTICE_DAYS:
        return None
    return Severity.WARNING if days <= refs.EXPIRY_WARNING_DAYS else Severity.INFO


def _soon_text(not_after: datetime, now: datetime) -> str:
    severity = _soon(not_after, now)
    if severity is not None:
        return f"expires within {_window(severity)} days"
    return "expired" if not_after < now else f"expires in more than {refs.EXPIRY_NOTICE_DAYS} days"


def _window(severity: Severity) -> int:
    return refs.EXPIRY_WARNING_DAYS if severity is Severity.WARNING else refs.EXPIRY_NOTICE_DAYS


def _expiring(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for item in _dated(evidence):
        group, cert = item.group, item.cert
        if not any(_bound(c) for c in group.observations):
            continue
        severities = verdicts(item.dates, lambda d: _soon(d, ctx.now))
        if len(severities) > 1:
            yield item.not_judged(each_reading(item.dates, lambda d: _soon_text(d, ctx.now)))
            continue
        severity = severities[0]
        if severity is None:
            continue
        days = " or ".join(str((d - ctx.now).days) for d in item.dates)
        said = item.says(f"expires on {_day(item.dates[0])}, in {days} days",
                         f"expires within {_window(severity)} days under either reading of its NotAfter, in {days} days")
        yield EXPIRING.finding(
            subject=group.name, about=about(group.representative, server=False),
            severity=severity,
            message=f"{group.name} {said}; it is on {_servers_of(group)} and bound to {_services_text(cert)}.",
            evidence=item.citations,
            remediation=_renewal(cert),
        )


EXPIRING = Check(
    id="HT-CERT-002", title="Certificate expires soon", severity=Severity.WARNING,
    needs=needs(NOT_AFTER, also="Services, to tell a certificate in use from a leftover"),
    explanation=(f"A certificate in use expires within {refs.EXPIRY_WARNING_DAYS} days (warning) or "
                 f"{refs.EXPIRY_NOTICE_DAYS} days (notice). Renewal with a new CA vendor changes the issuer, and so every "
                 "TlsCertificateName: plan it, including the root in AuthRoot on every server."),
    remediation="Renew before NotAfter and roll the new certificate out to every server in the hybrid path.",
    command=fixes.IMPORT_AND_ENABLE,
    references=(refs.CERT_REQUIREMENTS, refs.HYBRID_TLS_BLOG), run=_expiring,
)


_STATUS_FIX = {
    CertificateStatus.REVOCATION_CHECK_FAILURE: (
        "# The server cannot reach the CA's CRL/OCSP addresses. Allow outbound HTTP to them, then test:\n"
        "$leaf = {selector}\n"
        "$leaf.Extensions | Where-Object {{ $_.Oid.FriendlyName -match 'CRL|Authority Information' }} "
        "| ForEach-Object {{ $_.Format($true) }}\n"
        "Export-Certificate -Cert $leaf -FilePath $env:TEMP\\leaf.cer; certutil -verify -urlfetch $env:TEMP\\leaf.cer"
    ),
    CertificateStatus.PENDING_REQUEST: (
        "# Complete the request with the certificate the CA issued:\n"
        "Import-ExchangeCertificate -Server {server} -FileData ([System.IO.File]::ReadAllBytes('\\\\fileserver\\share\\issued.cer'))"
    ),
}
_CHAIN_FIX = (
    "# See why Windows does not accept the chain (missing intermediate, untrusted root, revoked):\n"
    "$leaf  = {selector}\n"
    "$chain = New-Object System.Security.Cryptography.X509Certificates.X509Chain\n"
    "$null  = $chain.Build($leaf); $chain.ChainStatus | Format-List Status, StatusInformation\n"
    "# Install missing intermediates: Import-Certificate -FilePath C:\\certs\\intermediate.cer "
    "-CertStoreLocation Cert:\\LocalMachine\\CA"
)


def _status(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    with_status = [c for c in evidence.certificates if c.status is not None]
    for cert in with_status:
        if cert.status is CertificateStatus.VALID:
            continue
        assert cert.status is not None
        if cert.status is CertificateStatus.PENDING_REQUEST:
            severity = Severity.INFO
        else:
            severity = Severity.ERROR if cert.has_smtp is not False else Severity.WARNING
        if cert.status is CertificateStatus.DATE_INVALID:
            fix = _renewal(cert)
        else:
            script = Script()
            fix = str(script.add(_STATUS_FIX.get(cert.status, _CHAIN_FIX).format(
                selector=certificate_selector(script, cert), server=ps_server_value(script, cert))))
        yield STATUS_NOT_VALID.finding(
            subject=f"{server_name(cert)}: {cert.display_name}",
            server=server_name(cert), about=about(cert),
            severity=severity,
            message=f"On {server_name(cert)}, Exchange reports {cert.display_name} as {cert.status.value}"
                    f" (services: {_services_text(cert)}).",
            evidence=[cite(cert, "status", "Status", cert.status.value)],
            remediation=fix,
        )


STATUS_NOT_VALID = Check(
    id="HT-CERT-003", title="Exchange does not consider the certificate valid", severity=Severity.ERROR,
    needs=needs(STATUS),
    explanation=("Exchange's Status is Valid only when Windows builds a trusted, unrevoked chain. Untrusted or "
                 "Invalid usually means a missing intermediate or root; RevocationCheckFailure that the server "
                 "cannot reach the CA's CRL/OCSP; DateInvalid that it expired or is not yet valid."),
    remediation="Make the chain build on the server (intermediates in the CA store, root in AuthRoot, CRL/OCSP "
                "reachable), or replace the certificate.",
    command=fixes.CA_IMPORT,
    references=(refs.GET_EXCHANGE_CERTIFICATE, refs.HYBRID_TLS_BLOG),
    run=_status,
)


def _repair_key(cert: ExchangeCertificate) -> str:
    script = Script()
    script.comment(f"If the key is on {server_name(cert)} but not linked to the certificate (imported a .cer, not a .pfx):")
    return str(script.add(
        f"certutil -repairstore my {script.value(cert.serial_number, '<SerialNumber>', 'serial number')}",
        "# Otherwise import the PFX (with its private key) exported from a server that has it:",
        f"Import-ExchangeCertificate -Server {ps_server_value(script, cert)} -FileData ([System.IO.File]::ReadAllBytes("
        "'\\\\fileserver\\share\\hybrid.pfx')) -Password (Read-Host -AsSecureString 'PFX password') "
        "-PrivateKeyExportable $true"))


def _private_key(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    known = [c for c in evidence.certificates if c.has_private_key is not None]
    for cert in known:
        if cert.has_private_key:
            continue
        yield NO_PRIVATE_KEY.finding(
            subject=f"{server_name(cert)}: {cert.display_name}",
            server=server_name(cert), about=about(cert),
            severity=Severity.ERROR if cert.has_smtp is not False else Severity.WARNING,
            message=(f"On {server_name(cert)}, {cert.display_name} has no private key, so it cannot be used for "
                     f"TLS there (services: {_services_text(cert)}); sending shows 'TLS negotiation failed with "
                     "error NoCredentials'."),
            evidence=[cite(cert, "hasprivatekey", "HasPrivateKey", False)],
            remediation=_repair_key(cert),
        )


NO_PRIVATE_KEY = Check(
    id="HT-CERT-004", title="Certificate has no private key on the server", severity=Severity.ERROR,
    needs=needs(HAS_PRIVATE_KEY),
    explanation=("A certificate without its private key cannot be used for TLS. Sending then fails with "
                 "'TLS negotiation failed with error NoCredentials', often on just one of several servers."),
    remediation="Import the certificate as a PFX with its private key, or repair the key association.",
    command='certutil -repairstore My <SerialNumber>',
    references=(refs.HYBRID_TLS_BLOG,), run=_private_key,
)


def _public_smtp(certs: list[ExchangeCertificate]) -> list[ExchangeCertificate]:
    return [c for c in certs if c.is_ca_issued and c.has_smtp]


def _copy_to(cert: ExchangeCertificate, target: ExchangeCertificate, *, enable_only: bool = False) -> str:
    """Copy ``cert`` to the server of ``target`` (a certificate seen there) and bind SMTP."""
    script = Script()
    target_server = target.server.name if target.server else None
    enable = (f"{get_certificate(script, cert, target_server)} | Enable-ExchangeCertificate -Services SMTP   "
              "# answer No to replacing the internal transport certificate")
    if enable_only:
        return str(script.add(enable))
    script.comment(f"Copy the certificate with its private key from {server_name(cert)} to {server_name(target)}, "
                   "then bind SMTP:")
    return str(script.add(
        "$password = Read-Host -AsSecureString 'PFX password'",
        f"$pfx = {get_certificate(script, cert)} | Export-ExchangeCertificate -BinaryEncoded -Password $password",
        f"Import-ExchangeCertificate -Server {ps_server_value(script, target)} -FileData $pfx.FileData "
        "-Password $password -PrivateKeyExportable $true",
        enable,
    ))


def _no_public_smtp(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    servers = estate_servers(evidence.certificates)
    with_public = {key: _public_smtp(certs) for key, certs in servers.items()}
    examples = [certs[0] for certs in with_public.values() if certs]
    for key, certs in sorted(servers.items()):
        if with_public[key] or any(c.is_ca_issued is None or c.has_smtp is None for c in certs):
            continue
        self_signed_smtp = [c for c in certs if c.is_self_signed and c.has_smtp]
        name = server_name(certs[0])
        if examples:
            message = (f"{name} has no CA-issued certificate enabled for SMTP, while "
                       f"{', '.join(sorted({server_name(c) for c in examples}))} do. Exchange Online requires a "
                       "public certificate; here STARTTLS falls back to a self-signed certificate"
                       + (f" ({', '.join(c.display_name for c in self_signed_smtp)})." if self_signed_smtp else "."))
            fix = _copy_to(examples[0], certs[0])
            severity = Severity.ERROR
        else:
            message = (f"{name} has no CA-issued certificate enabled for SMTP: Exchange Online cannot validate "
                       "a self-signed certificate, so hybrid mail to or from this server will fail TLS.")
            script = Script("# Install a certificate from a public CA that covers the hybrid mail name, then:")
            fix = str(script.add(f"Enable-ExchangeCertificate -Server {ps_server_value(script, certs[0])} "
                                 "-Thumbprint <Thumbprint> -Services SMTP"))
            severity = Severity.WARNING
        yield NO_PUBLIC_SMTP.finding(
            subject=name, server=name, severity=severity, message=message, remediation=fix,
            evidence=[cite(c, "services", "Services", f"{_services_text(c)} on {c.display_name} (self-signed)")
                      for c in self_signed_smtp] or [Citation(source=certs[0].source,
                                                              text=f"{name}: {len(certs)} certificate(s) listed")],
        )


NO_PUBLIC_SMTP = Check(
    id="HT-CERT-005", title="Only a self-signed certificate holds SMTP on a server", severity=Severity.ERROR,
    needs=needs(SERVER_CERTIFICATES, also="IsSelfSigned and Services of every certificate on the server"),
    explanation=("Every Exchange server has self-signed certificates with SMTP (the server's own and the Auth "
                 "certificate); that is normal for mail between Exchange servers. Hybrid mail needs a certificate "
                 "from a public CA with SMTP on every server that sends to or receives from Exchange Online; "
                 "without one, STARTTLS presents a self-signed certificate and Exchange Online refuses it."),
    remediation="Install the public hybrid certificate on the server and enable it for SMTP.",
    command=fixes.ENABLE_SMTP,
    references=(refs.CERT_REQUIREMENTS, refs.STARTTLS_SELECTION), run=_no_public_smtp,
)


def _new_key(cert: ExchangeCertificate) -> str:
    script = Script()
    return str(script.add(f"New-ExchangeCertificate -Server {ps_server_value(script, cert)} -GenerateRequest -KeySize 2048 "
                          "-SubjectName 'CN=mail.contoso.com' -DomainName mail.contoso.com,autodiscover.contoso.com "
                          "-PrivateKeyExportable $true   # use your names; then install the issued certificate"))


def _key_size(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    sized = [g for g in group_certificates(evidence.certificates) if any(c.public_key_size for c in g.observations)]
    for group in sized:
        cert = next(c for c in group.observations if c.public_key_size)
        assert cert.public_key_size is not None
        if cert.public_key_size >= refs.MINIMUM_RSA_BITS:
            continue
        hybrid = bool(group.is_ca_issued and group.smtp_anywhere)
        yield WEAK_KEY.finding(
            subject=group.name, about=about(group.representative, server=False),
            severity=Severity.ERROR if hybrid else Severity.WARNING,
            message=f"{group.name} has a {cert.public_key_size}-bit key; Exchange Online and current TLS "
                    f"stacks require at least {refs.MINIMUM_RSA_BITS} bits (on {_servers_of(group)}).",
            evidence=[cite(c, "publickeysize", "PublicKeySize", c.public_key_size) for c in group.observations
                      if c.public_key_size],
            remediation=_new_key(cert),
        )


WEAK_KEY = Check(
    id="HT-CERT-006", title="Key shorter than 2048 bits", severity=Severity.ERROR,
    needs=needs(PUBLIC_KEY_SIZE),
    explanation="RSA keys below 2048 bits are refused by Exchange Online and public CAs.",
    remediation="Replace the certificate with one whose key is 2048 bits or more.",
    command=fixes.CERTIFICATE_REQUEST,
    references=(refs.EXO_ENCRYPTION,), run=_key_size,
)


def _partial_rollout(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    servers = estate_servers(evidence.certificates)
    for group in group_certificates(c for certs in servers.values() for c in certs):
        if not (group.is_ca_issued and group.smtp_anywhere):
            continue
        holders = group.servers
        with_smtp = [c for c in group.observations if c.has_smtp]
        example = with_smtp[0]
        for key, certs in sorted(servers.items()):
            name = server_name(certs[0])
            if key not in holders:
                yield PARTIAL_ROLLOUT.finding(
                    subject=f"{name}: {group.name}", server=name,
                    about=FindingSubject(server=name, certificate=certificate_id(group.representative)),
                    message=(f"{group.name} carries SMTP on {', '.join(sorted({server_name(c) for c in with_smtp}))} "
                             f"but is not among the {len(certs)} certificate(s) listed for {name}. Every server "
                             "in the hybrid mail path needs the same certificate, or Exchange Online mail fails "
                             "on the servers without it."),
                    evidence=[cite(example, "services", "Services", _services_text(example)),
                              Citation(source=certs[0].source, text=f"{name}: {len(certs)} other certificate(s)")],
                    one_line_fix=True, remediation=_copy_to(example, certs[0]),
                )
            elif all(c.has_smtp is False for c in holders[key]):
                here = holders[key][0]
                yield PARTIAL_ROLLOUT.finding(
                    subject=f"{name}: {group.name}", server=name,
                    about=FindingSubject(server=name, certificate=certificate_id(group.representative)),
                    message=(f"{group.name} is installed on {name} but not enabled for SMTP there (Services: "
                             f"{_services_text(here)}), while it carries SMTP on "
                             f"{', '.join(sorted({server_name(c) for c in with_smtp}))}."),
                    evidence=[cite(here, "services", "Services", _services_text(here)),
                              cite(example, "services", "Services", _services_text(example))],
                    one_line_fix=True, remediation=_copy_to(here, certs[0], enable_only=True),
                )


PARTIAL_ROLLOUT = Check(
    id="HT-CERT-007", title="Hybrid certificate missing, or without SMTP, on some servers", severity=Severity.ERROR,
    needs=needs(TWO_SERVERS, also="every server in the hybrid mail path, or those left out are not judged"),
    explanation=("Exchange Online delivers to every server behind its outbound connector, and sends from every "
                 "source server of the send connector; all must hold the same certificate with SMTP. A partial "
                 "roll-out fails a share of the mail (intermittent 4.4.317 / 4.7.320 deferrals)."),
    remediation="Import the certificate with its private key on each named server and enable it for SMTP.",
    command=fixes.IMPORT_AND_ENABLE,
    references=(refs.CERT_REQUIREMENTS, refs.HYBRID_TLS_BLOG), run=_partial_rollout,
)


FAMILY = Family(name="certificates", commands=frozenset({Command.CHECK}),
                checks=(EXPIRED, EXPIRING, STATUS_NOT_VALID, NO_PRIVATE_KEY, NO_PUBLIC_SMTP, WEAK_KEY, PARTIAL_ROLLOUT))
CHECKS = FAMILY.checks
