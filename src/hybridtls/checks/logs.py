"""What Exchange's own logs show: TLS negotiation failures in the SMTP protocol logs (by error, with the
certificate Exchange tried to use), a failure series that began with a certificate change, a certificate from
Exchange Online that is not Microsoft's, and message-tracking errors no signature explains."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.checks.errors import SIGNATURES, TRACKING_ORIGIN
from hybridtls.checks.readings import as_printed, days_text, each_reading, not_judged, reads, verdicts
from hybridtls.checks.selection import candidates, certificates_on, parse_name, selected
from hybridtls.evidence.logs.protocol import MAX_OPEN, MAX_ROWS
from hybridtls.model import (
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    NotJudged,
    Severity,
    SmtpLogSummary,
    SmtpLogType,
    SmtpSession,
    Source,
    TlsOutcome,
)
from hybridtls.powershell import Script, comment_text

PROTOCOL_LOGS = Need(
    what="SMTP protocol logs (ProtocolLoggingLevel Verbose)",
    reason=("no SMTP protocol logs in the evidence: give the folders TransportRoles\\Logs\\FrontEnd\\ProtocolLog\\"
            "SmtpReceive and ...\\Hub\\ProtocolLog\\SmtpSend (logging Verbose on the connectors)"),
    present=lambda e, c: bool(e.smtp_summaries))
CERTIFICATE_DATES = Need(
    what="NotBefore dates (Get-ExchangeCertificate | Format-List)",
    reason="no certificate NotBefore dates in the evidence: save 'Get-ExchangeCertificate | Format-List' from each server",
    present=lambda e, c: any(cert.possible_not_before for cert in e.certificates))
TRACKING_LOGS = Need(
    what="message-tracking logs (MSGTRK*.log)",
    reason="no message-tracking logs in the evidence: give the folder TransportRoles\\Logs\\MessageTracking",
    present=lambda e, c: bool(e.tracking_summaries))

CHANGE_WINDOW = timedelta(days=14)  # a failure series this soon after a certificate's NotBefore is linked to it
CITED = 5


@dataclass(frozen=True)
class TlsError:
    meaning: str
    cause: str


# The Schannel/SSPI status names Exchange writes after "TLS negotiation failed with error".
TLS_ERRORS = {
    "UnknownCredentials": TlsError(
        "Schannel could not use the certificate Exchange picked",
        "the certificate is not enabled for SMTP, or the transport service cannot use its private key"),
    "NoCredentials": TlsError(
        "the server had no certificate with a private key to use",
        "the certificate the connector names is missing on this server, or was imported without its private key"),
    "SocketError": TlsError(
        "the connection was dropped during the TLS handshake",
        "no TLS version or cipher in common, or a firewall/middlebox closing the connection"),
    "InvalidToken": TlsError(
        "the other end's TLS messages could not be understood",
        "a TLS-inspecting device in the path, or a TLS version the other end does not speak"),
    "IllegalMessage": TlsError(
        "the other end refused the handshake",
        "no common TLS version or cipher (TLS 1.2 disabled, an old cumulative update)"),
    "ConnectionAborted": TlsError(
        "the connection was aborted during the TLS handshake",
        "a firewall's SMTP inspection or a middlebox"),
}


@dataclass
class _Failures:
    """One (log type, server, connector, error): every failure counted, the kept sessions cited."""

    log_type: SmtpLogType
    server: str | None
    connector: str | None
    error: str
    count: int = 0
    sessions: list[SmtpSession] = field(default_factory=list)
    summary_sources: list[Source] = field(default_factory=list)

    @property
    def first(self) -> datetime | None:
        return min((s.first_seen for s in self.sessions if s.first_seen), default=None)

    @property
    def last(self) -> datetime | None:
        return max((s.last_seen for s in self.sessions if s.last_seen), default=None)


def _failures(evidence: EvidenceSet) -> list[_Failures]:
    groups: dict[tuple[SmtpLogType, str, str, str], _Failures] = {}

    def group(log_type: SmtpLogType, server: str | None, connector: str | None, error: str) -> _Failures:
        key = (log_type, (server or "").casefold(), (connector or "").casefold(), error)
        if key not in groups:
            groups[key] = _Failures(log_type, server, connector, error)
        return groups[key]

    for summary in evidence.smtp_summaries:
        for error, count in summary.tls_failed:
            found = group(summary.log_type, summary.server, summary.connector, error)
            found.count += count
            found.summary_sources.append(summary.source)
    for session in evidence.smtp_sessions:
        if session.tls is TlsOutcome.FAILED and session.tls_error:
            group(session.log_type, session.server, session.connector, session.tls_error).sessions.append(session)
    return list(groups.values())


def _where(failures: _Failures) -> str:
    side = "send" if failures.log_type is SmtpLogType.SEND else "receive"
    return f"{failures.server or '?'}: {side} connector {failures.connector or '?'}"


def _citations(failures: _Failures) -> list[Citation]:
    cited = [Citation(source=Source(path=s.source.path, line=s.failure_line or s.source.line),
                      text=f"{s.failure} (session {s.session_id}, {s.remote_endpoint or '?'})")
             for s in sorted(failures.sessions, key=lambda s: s.first_seen or datetime.min)[:CITED]]
    return cited or [Citation(source=source, text=f"TLS negotiation failed with error {failures.error}")
                     for source in failures.summary_sources[:CITED]]


def _span(failures: _Failures) -> str:
    first, last = failures.first, failures.last
    if first and last:
        return f", {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    return ""


def _connector_certificate(evidence: EvidenceSet, failures: _Failures, now: datetime
                           ) -> tuple[ExchangeCertificate | None, str | None]:
    """The certificate the connector's TlsCertificateName (else FQDN) selects on the log's server, and the
    TlsCertificateName itself; (None, None) when the evidence does not say."""
    if not failures.server or not failures.connector:
        return None, None
    certs = certificates_on(evidence, failures.server)
    wanted = failures.connector.casefold()
    if failures.log_type is SmtpLogType.SEND:
        send = next((c for c in evidence.send_connectors if c.name.casefold() == wanted), None)
        if send is None:
            return None, None
        name, fqdn = send.tls_certificate_name, send.fqdn
    else:
        receive = next((c for c in evidence.receive_connectors
                        if c.identity.rpartition("\\")[2].casefold() == wanted), None)
        if receive is None:
            return None, None
        name, fqdn = receive.tls_certificate_name, receive.fqdn
    return selected(candidates(certs, parse_name(name), fqdn), now), name


def _notes(evidence: EvidenceSet, failures: _Failures, now: datetime) -> tuple[list[str], ExchangeCertificate | None]:
    notes: list[str] = []
    chosen, name = _connector_certificate(evidence, failures, now)
    sent = {s.certificate_sent.thumbprint.upper() for s in failures.sessions
            if s.certificate_sent and s.certificate_sent.thumbprint}
    if sent:
        notes.append("the log shows Exchange sending " + ", ".join(sorted(sent)))
    if chosen is not None:
        notes.append(f"the connector's {'TlsCertificateName' if name else 'FQDN'} selects {chosen.display_name} "
                     f"(thumbprint {chosen.thumbprint or '?'})")
        if sent and chosen.thumbprint and chosen.thumbprint.upper() not in sent:
            notes.append("not the certificate the log shows sent: the connector or the certificate changed")
        if chosen.has_smtp is False:
            notes.append(f"confirmed: {chosen.display_name} is not enabled for SMTP on {failures.server}")
        if chosen.has_private_key is False:
            notes.append(f"confirmed: {chosen.display_name} has no private key on {failures.server}")
    elif name and failures.server and certificates_on(evidence, failures.server):
        notes.append(f"confirmed: no certificate on {failures.server} matches the connector's TlsCertificateName")
    if failures.server and certificates_on(evidence, failures.server):
        smtp = [c for c in certificates_on(evidence, failures.server) if c.has_smtp]
        notes.append(f"certificates with SMTP on {failures.server}: "
                     + (", ".join(f"{c.display_name} ({c.thumbprint or '?'})" for c in smtp) or "none"))
    return notes, chosen


def _fix(failures: _Failures, chosen: ExchangeCertificate | None) -> str:
    script = Script()
    server = script.value(failures.server, "<ServerName>", "server name")
    thumbprint = chosen.thumbprint if chosen else None
    if failures.error == "UnknownCredentials":
        return str(script.add(
            f"Get-ExchangeCertificate -Server {server} -Thumbprint {script.thumbprint(thumbprint)} | "
            "Format-List Subject,Thumbprint,Services,HasPrivateKey,NotAfter",
            f"Enable-ExchangeCertificate -Server {server} -Thumbprint {script.thumbprint(thumbprint)} -Services SMTP"))
    if failures.error == "NoCredentials":
        return str(script.add(
            "# Import the certificate with its private key (PFX) on this server, then bind SMTP:",
            f"Import-ExchangeCertificate -Server {server} -FileData ([System.IO.File]::ReadAllBytes("
            "'\\\\fileserver\\share\\hybrid.pfx')) -Password (Read-Host -AsSecureString 'PFX password')",
            f"Enable-ExchangeCertificate -Server {server} -Thumbprint {script.thumbprint(thumbprint)} -Services SMTP"))
    return str(script.add(
        "# Check that TLS 1.2 is enabled for Schannel and .NET on this server (HealthChecker reports both),",
        "# and that no firewall inspects SMTP between this server and the other end:",
        "Get-ItemProperty 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\"
        "TLS 1.2\\Server' -ErrorAction SilentlyContinue",
        f"# then: hybridtls probe <host> (the other end of {comment_text(_where(failures))})"))


def _about(failures: _Failures) -> FindingSubject:
    return FindingSubject(server=failures.server, connector=failures.connector, name=failures.error)


def _tls_failures(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for failures in _failures(evidence):
        known = TLS_ERRORS.get(failures.error)
        if known is None:
            continue
        notes, chosen = _notes(evidence, failures, ctx.now)
        message = (f"{failures.count} session(s) failed TLS with {failures.error}{_span(failures)}: "
                   f"{known.meaning}. Usual cause: {known.cause}.")
        if notes:
            message += " Other evidence: " + "; ".join(notes) + "."
        yield TLS_FAILURES.finding(subject=f"{_where(failures)}: {failures.error}", message=message,
                                   server=failures.server, about=_about(failures), evidence=_citations(failures),
                                   remediation=_fix(failures, chosen))


TLS_FAILURES = Check(
    id="HT-LOG-001", title="TLS negotiation failures in the SMTP protocol logs", severity=Severity.ERROR,
    needs=needs(PROTOCOL_LOGS, also="certificates (Get-ExchangeCertificate) and connectors (Get-SendConnector, "
                "Get-ReceiveConnector), to name the certificate Exchange tried to use"),
    explanation=("'TLS negotiation failed with error X' in a protocol log is Schannel refusing or losing the "
                 "handshake. UnknownCredentials and NoCredentials point at the certificate Exchange picked (not "
                 "enabled for SMTP, no private key); SocketError, InvalidToken, IllegalMessage and "
                 "ConnectionAborted at the path or the TLS versions. Each series is compared with the certificate "
                 "the connector's TlsCertificateName selects and the certificates with SMTP on that server."),
    remediation="Enable-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint> -Services SMTP",
    command=fixes.ENABLE_SMTP,
    references=(refs.HYBRID_TLS_BLOG, refs.STARTTLS_SELECTION, refs.PROTOCOL_LOGGING),
    run=_tls_failures,
)


def _unknown_tls_failures(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for failures in _failures(evidence):
        if failures.error in TLS_ERRORS:
            continue
        yield UNKNOWN_TLS_FAILURES.finding(
            subject=f"{_where(failures)}: {failures.error}", server=failures.server, about=_about(failures),
            message=(f"{failures.count} session(s) failed TLS with {failures.error}{_span(failures)}; this error is "
                     "not in the catalogue, so hybridtls cannot name its cause: read it with the rows around it."),
            evidence=_citations(failures))


UNKNOWN_TLS_FAILURES = Check(
    id="HT-LOG-002", title="TLS negotiation failures not in the catalogue", severity=Severity.WARNING,
    needs=needs(PROTOCOL_LOGS),
    explanation=("A TLS failure whose error name hybridtls does not know is still a failure: it is quoted, with "
                 "its sessions, rather than left out."),
    remediation=str(Script("# Read the session's rows around the failure (same session id) in the protocol log,",
                           "# and probe the other end: hybridtls probe <host>")),
    command='hybridtls probe <host>',
    references=(refs.PROTOCOL_LOGGING,),
    run=_unknown_tls_failures,
)


def _after_change(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for failures in _failures(evidence):
        first = failures.first
        if first is None or not failures.server:
            continue

        def soon_before(start: datetime, first: datetime = first) -> bool:
            return timedelta(0) <= first - start <= CHANGE_WINDOW

        def relation(start: datetime, first: datetime = first) -> str:
            if start > first:
                return "after they began"
            return f"{'within' if soon_before(start) else 'more than'} {CHANGE_WINDOW.days} days before"

        changed = []
        for cert in certificates_on(evidence, failures.server):
            found = verdicts(cert.possible_not_before, soon_before)
            if len(found) > 1 and cert.not_before_readings:
                yield not_judged(f"{_where(failures)}: {failures.error} and {cert.display_name}", "NotBefore",
                                 cert.not_before_readings, cert.cite("notbefore"),
                                 f"the TLS failures began {first:%Y-%m-%d %H:%M} UTC: "
                                 + each_reading(cert.possible_not_before, relation))
            elif found == [True]:
                changed.append(cert)
        if not changed:
            continue
        cert = max(changed, key=lambda c: c.possible_not_before[-1])
        starts = cert.possible_not_before
        before = [s for s in evidence.smtp_summaries if s.tls_succeeded and s.first_seen  # before either reading
                  and s.first_seen < starts[0] and (s.server or "").casefold() == failures.server.casefold()]
        readings = cert.not_before_readings
        script = Script("# The certificate that became valid just before the failures began:")
        server = script.value(failures.server, "<ServerName>", "server name")
        script.add(f"Get-ExchangeCertificate -Server {server} -Thumbprint {script.thumbprint(cert.thumbprint)} | "
                   "Format-List Subject,Issuer,Thumbprint,Services,HasPrivateKey,NotBefore,RootCAType",
                   "# Compare with the connector's TlsCertificateName; bind SMTP or set the name again if it changed.")
        yield AFTER_CHANGE.finding(
            subject=f"{_where(failures)}: {failures.error} since {first:%Y-%m-%d}", server=failures.server,
            about=FindingSubject(server=failures.server, connector=failures.connector,
                                 certificate=(cert.thumbprint or "").upper() or None, name=failures.error),
            message=(f"TLS failures with {failures.error} began {first:%Y-%m-%d %H:%M} UTC, "
                     f"{' or '.join(_hours(first - start) for start in reversed(starts))} after {cert.display_name} "
                     f"(thumbprint {cert.thumbprint or '?'}) became valid on {days_text(starts)}"
                     + (f" ({reads('NotBefore', readings)})" if readings else "")
                     + (": sessions succeeded before it" if before else "") + ". The certificate change is the "
                     "likely start of the fault."),
            evidence=[Citation(source=cert.cite("notbefore"),
                               text=f"NotBefore {as_printed(readings) if readings else f'{starts[0]:%Y-%m-%d %H:%M}'}"),
                      *_citations(failures)[:3]],
            remediation=str(script))


def _hours(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour(s)" if hours < 48 else f"{hours // 24} day(s)"


AFTER_CHANGE = Check(
    id="HT-LOG-003", title="TLS failures that began with a certificate change", severity=Severity.WARNING,
    needs=needs(PROTOCOL_LOGS, CERTIFICATE_DATES),
    explanation=("A series of TLS failures that begins within two weeks of a certificate's NotBefore on the same "
                 "server usually began with that certificate: installed without SMTP, without its private key, or "
                 f"with connectors still naming the old one (within {CHANGE_WINDOW.days} days)."),
    remediation="Get-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint> | Format-List",
    command='Get-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint> | Format-List',
    references=(refs.NEW_CERTIFICATE_NO_MAIL, refs.HYBRID_TLS_BLOG),
    run=_after_change,
)


def _from_exchange_online(session: SmtpSession) -> bool:
    name = (session.remote_name or "").casefold().rstrip(".")
    return name.endswith(".outlook.com")


def _microsoft_certificate(subject: str | None) -> bool:
    """The subject of the certificate Exchange Online presents: CN=mail.protection.outlook.com (or a name under
    it, or under outlook.com)."""
    for part in (subject or "").split(","):
        label, _, value = part.strip().partition("=")
        if label.strip().upper() == "CN":
            value = value.strip().casefold().lstrip("*.")
            return value == "outlook.com" or value.endswith(".outlook.com")
    return False


def _exchange_online_certificate(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str], list[SmtpSession]] = {}
    for session in evidence.smtp_sessions:
        received = session.certificate_received
        if received is None or not _from_exchange_online(session) or _microsoft_certificate(received.subject):
            continue
        key = ((session.server or "").casefold(), (session.connector or "").casefold(),
               (received.thumbprint or received.subject or "").upper())
        seen.setdefault(key, []).append(session)
    for sessions in seen.values():
        first = sessions[0]
        received = first.certificate_received
        assert received is not None
        yield EXO_CERTIFICATE.finding(
            subject=f"{first.server or '?'}: {first.connector or '?'}: {received.subject or received.thumbprint}",
            server=first.server,
            about=FindingSubject(server=first.server, connector=first.connector,
                                 certificate=(received.thumbprint or "").upper() or None,
                                 address=first.remote_name),
            message=(f"{len(sessions)} session(s) with {first.remote_name} (Exchange Online) received the certificate "
                     f"{received.subject!r} issued by {received.issuer or '?'}, not Exchange Online's "
                     "(CN=mail.protection.outlook.com): a device between the server and Microsoft 365 terminates TLS "
                     "and presents its own certificate."),
            evidence=[Citation(source=s.source, text=f"session {s.session_id} with {s.remote_endpoint or '?'}: "
                               f"remote certificate {received.subject or '?'}") for s in sessions[:CITED]],
            remediation=str(Script("# Exempt SMTP to and from Microsoft 365 from TLS inspection on the firewall, then:",
                                   "# hybridtls probe <smart host> --expect-name mail.protection.outlook.com")))


EXO_CERTIFICATE = Check(
    id="HT-LOG-004", title="A certificate from Exchange Online that is not Microsoft's", severity=Severity.WARNING,
    needs=needs(PROTOCOL_LOGS),
    explanation=("Exchange Online presents a certificate for mail.protection.outlook.com. A protocol log session "
                 "with an Exchange Online host (its EHLO or banner under outlook.com) that received another "
                 "certificate went through a device that terminates TLS; Exchange Online then sees that device's "
                 "certificate too, not the hybrid certificate."),
    remediation="Exempt SMTP to and from Microsoft 365 from TLS inspection.",
    command='# Exempt SMTP to and from Microsoft 365 from TLS inspection on the device in front of Exchange',
    references=(refs.HYBRID_TLS_BLOG,),
    run=_exchange_online_certificate,
)


def _unexplained_tracking(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    texts: dict[str, list[Citation]] = {}
    for error in evidence.delivery_errors:
        if not error.origin.startswith(TRACKING_ORIGIN) or any(s.pattern.search(error.text) for s in SIGNATURES):
            continue
        texts.setdefault(error.text, []).append(Citation(source=error.source, text=f"{error.origin}: {error.text[:300]}"))
    for text, cited in texts.items():
        yield UNEXPLAINED_TRACKING.finding(
            subject=text[:120], about=FindingSubject(name=" ".join(text.split())[:120]),
            message=(f"{len(cited)} DEFER/FAIL row(s) in the message-tracking logs say {text[:300]!r}, which matches "
                     "no known signature: hybridtls cannot name the cause."),
            evidence=cited[:CITED])


UNEXPLAINED_TRACKING = Check(
    id="HT-LOG-005", title="Message-tracking errors not in the catalogue", severity=Severity.WARNING,
    needs=needs(TRACKING_LOGS),
    explanation=("DEFER and FAIL rows of the message-tracking logs go through the delivery-error catalogue "
                 "(HT-ERR-001); a status it does not know is quoted here rather than left out."),
    remediation=str(Script("# Look the status up with the message: Get-MessageTrackingLog -MessageId <MessageId> | "
                           "Format-List")),
    command="Get-MessageTrackingLog -MessageId '<MessageId>' | Format-List",
    references=(refs.MAIL_FLOW_INTELLIGENCE,),
    run=_unexplained_tracking,
)


def _read_in_part(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    cut: dict[tuple[str, str], list[SmtpLogSummary]] = {}
    for summary in evidence.smtp_summaries:
        if summary.sessions_cut:
            cut.setdefault(((summary.server or "").casefold(), (summary.connector or "").casefold()), []).append(summary)
    for summaries in cut.values():
        first = summaries[0]
        count = sum(s.sessions_cut for s in summaries)
        files = sorted({s.source.path for s in summaries})
        yield READ_IN_PART.finding(
            subject=f"{first.server or '?'}: {first.connector or '?'}", server=first.server,
            about=FindingSubject(server=first.server, connector=first.connector),
            message=(f"{count} session(s) in {len(files)} file(s) were read only in part: more than {MAX_OPEN:,} "
                     f"sessions were open at once, or a session ran past {MAX_ROWS:,} rows; their later rows were "
                     "counted but not read for TLS, so a failure among them is not in these findings."),
            evidence=[Citation(source=s.source, text=f"{s.sessions_cut} of {s.sessions} session(s) with "
                               f"{s.remote_address or '?'} read in part") for s in summaries[:CITED]])


READ_IN_PART = Check(
    id="HT-LOG-006", title="Protocol-log sessions read only in part", severity=Severity.INFO,
    needs=needs(PROTOCOL_LOGS),
    explanation=("Memory stays bounded on a month of logs: at most a fixed number of sessions are open at once and "
                 "a fixed number of rows of each session are read for TLS facts. A session past either cap is still "
                 "counted; this says how many were, so that nothing is left out silently."),
    remediation=str(Script("# Give hybridtls the log files of the hours in question only, so that each session is "
                           "read whole.")),
    command='# Give hybridtls the log files of the hours in question only, so that each session is read whole',
    references=(refs.PROTOCOL_LOGGING,),
    run=_read_in_part,
)


FAMILY = Family(name="logs", commands=frozenset({Command.CHECK}),
                checks=(TLS_FAILURES, UNKNOWN_TLS_FAILURES, AFTER_CHANGE, EXO_CERTIFICATE, UNEXPLAINED_TRACKING,
                        READ_IN_PART))
CHECKS = FAMILY.checks
