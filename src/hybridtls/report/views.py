"""What the HTML and Markdown reports show besides findings: the server x certificate matrix, the per-address
probe table and the message-trace timeline. Computed here once; each writer only lays them out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybridtls.checks.estate import estate_servers, group_certificates, server_name
from hybridtls.model import (
    CertificateFile,
    CheckStatus,
    EvidenceSet,
    Finding,
    InputProblem,
    Notice,
    ProbeOutcome,
    ProbeResult,
    RootCAType,
    TlsaLookup,
    TraceStatus,
)

if TYPE_CHECKING:
    from hybridtls.report import Report

EXPIRING_DAYS = 30


@dataclass(frozen=True)
class MatrixCell:
    root_ca_type: str
    services: str
    state: str  # "ok", "odd" (differs or wrong), "missing", "absent" (not expected there)
    note: str = ""
    root_odd: bool = False  # the RootCAType is the value that is wrong or differs (what a report highlights)
    services_odd: bool = False  # the services are (no SMTP where hybrid mail needs it)


@dataclass(frozen=True)
class MatrixRow:
    certificate: str
    issuer: str
    self_signed: bool
    not_after: str
    expiry_state: str  # "ok", "expiring", "expired", "unknown"
    cells: tuple[MatrixCell, ...]


@dataclass(frozen=True)
class Matrix:
    servers: tuple[str, ...]
    rows: tuple[MatrixRow, ...]


def certificate_matrix(evidence: EvidenceSet, now: datetime) -> Matrix | None:
    servers = estate_servers(evidence.certificates)
    if not servers:
        return None
    keys = sorted(servers, key=lambda k: server_name(servers[k][0]).casefold())
    rows = []
    groups = group_certificates(c for certs in servers.values() for c in certs)
    groups.sort(key=lambda g: (not g.is_ca_issued, g.name.casefold()))
    for group in groups:
        present = group.servers
        roots = Counter(c.root_ca_type for c in group.observations if c.root_ca_type)
        usual = roots.most_common(1)[0][0] if roots else None
        hybrid = bool(group.is_ca_issued and group.smtp_anywhere)
        cells = []
        for key in keys:
            seen = present.get(key)
            if not seen:
                cells.append(MatrixCell("", "", "missing" if hybrid else "absent",
                                        "not in this server's evidence" if hybrid else ""))
                continue
            cert = seen[0]
            root = cert.root_ca_type.value if cert.root_ca_type else "?"
            # a CA-issued certificate should read ThirdParty everywhere; others should at least agree
            wrong = bool(group.is_ca_issued and cert.root_ca_type and cert.root_ca_type is not RootCAType.THIRD_PARTY)
            differs = (not group.is_ca_issued and usual is not None and cert.root_ca_type is not None
                       and cert.root_ca_type is not usual)
            no_smtp = hybrid and cert.has_smtp is False
            note = "; ".join(n for n, on in (("not ThirdParty", wrong), ("differs from the other servers", differs),
                                             ("no SMTP here", no_smtp)) if on)
            services = ", ".join(sorted(cert.services)) if cert.services is not None else "?"
            cells.append(MatrixCell(root, services or "None", "odd" if note else "ok", note, root_odd=wrong or differs,
                                    services_odd=no_smtp))
        dated = [c.not_after for c in group.observations if c.not_after]
        # a date read one way anywhere; else both readings of one whose day and month could be either way round
        expiry = [min(dated)] if dated else sorted({d for c in group.observations for d in c.possible_not_after})
        states = {"expired" if d < now else "expiring" if d - now <= timedelta(days=EXPIRING_DAYS) else "ok"
                  for d in expiry}
        state = states.pop() if len(states) == 1 else "unknown"  # readings that disagree say nothing
        rep = group.representative
        rows.append(MatrixRow(group.name, rep.issuer or "", bool(rep.is_self_signed),
                              " or ".join(f"{d:%Y-%m-%d}" for d in expiry) or "?", state, tuple(cells)))
    return Matrix(tuple(server_name(servers[k][0]) for k in keys), tuple(rows))


@dataclass(frozen=True)
class CertificateRow:
    label: str
    subject: str
    issuer: str
    thumbprint: str
    not_after: str
    tls_certificate_name: str  # the value, or why there is none
    lenient: str  # what was read leniently, "" for a well-formed certificate


def tls_name_words(cert: CertificateFile) -> str:
    """The certificate's TlsCertificateName, or why none can be offered (an empty issuer or subject)."""
    if cert.tls_certificate_name is not None:
        return cert.tls_certificate_name
    empty = " and ".join(part for part, value in (("issuer", cert.issuer), ("subject", cert.subject)) if not value)
    return f"(none: the {empty} is empty, so no TlsCertificateName can name this certificate)"


def certificate_rows(evidence: EvidenceSet) -> list[CertificateRow]:
    return [CertificateRow(label=c.label, subject=c.subject, issuer=c.issuer, thumbprint=c.thumbprint,
                           not_after=f"{c.not_after:%Y-%m-%d}", tls_certificate_name=tls_name_words(c),
                           lenient="; ".join(c.lenient)) for c in evidence.certificate_files]


@dataclass(frozen=True)
class ProbeRow:
    label: str
    outcome: str
    ok: bool
    tls: str
    presented: str
    thumbprint: str
    chain: str
    verdict: str  # "ok" or the ids of findings about it
    dane: str = ""  # one line: the TLSA records, which match, DNSSEC as the resolver said, what a DANE sender logs


def dane_line(probe: ProbeResult) -> str:
    """DANE for one address in one line; empty for a probe saved before DANE was looked at."""
    dane = probe.dane
    if dane is None:
        return ""
    if dane.lookup is TlsaLookup.NOT_LOOKED_UP:
        return f"DANE: {dane.detail}"
    if dane.lookup is TlsaLookup.NONE:
        return f"DANE: not in use (no TLSA records at {dane.tlsa_name})"
    said = f"as reported by {dane.resolver} (AD bit); hybridtls does not validate signatures itself"
    outcome = f"a DANE sender logs {dane.result.value}" if dane.result else "no DANE failure"
    if dane.lookup is not TlsaLookup.FOUND:
        return f"DANE: the TLSA lookup of {dane.tlsa_name} failed, {said}; {outcome}: {dane.detail}"
    matched = [m.record.presentation[:14] + "..." for m in dane.matches if m.matched]
    dnssec = "secure" if dane.secure else "not secure"
    if dane.mx_secure is False:
        dnssec += " (the MX answer is not)"
    return (f"DANE: {len(dane.matches)} TLSA record(s) at {dane.tlsa_name}, "
            f"{'matched by ' + ', '.join(matched) if matched else 'none matches'}; DNSSEC {dnssec}, {said}; {outcome}")


def probe_rows(report: Report) -> list[ProbeRow]:
    rows = []
    for probe in report.evidence.probes:
        about = sorted({f.check_id for f in report.findings if probe.label in f.subject or probe.label in f.message})
        leaf = probe.chain[0] if probe.chain else None
        rows.append(ProbeRow(
            label=probe.label, outcome=probe.outcome.value.replace("_", " "), ok=probe.outcome is ProbeOutcome.OK,
            tls=" ".join(x for x in (probe.tls_version, probe.cipher) if x), presented=leaf.subject if leaf else "",
            thumbprint=leaf.thumbprint if leaf else "",
            chain=" > ".join(c.subject.split(",")[0] for c in probe.chain),
            verdict=", ".join(about) or ("ok" if probe.outcome is ProbeOutcome.OK else probe.outcome.value),
            dane=dane_line(probe)))
    return rows


@dataclass(frozen=True)
class MtaStsRow:
    """One domain's MTA-STS and TLS-RPT, each cell one short phrase."""

    domain: str
    record: str  # "id 2026...", "none", or why it is unusable
    policy: str  # "enforce, max_age 604800" or how the fetch ended
    host: str  # the policy host's certificate: subject and whether senders accept it
    mx: str  # each MX host and the pattern that matches it
    tlsrpt: str
    ok: bool  # nothing found about the domain
    verdict: str  # "ok" or the ids of findings about it


def mta_sts_rows(report: Report) -> list[MtaStsRow]:
    rows = []
    for result in report.evidence.mta_sts:
        about = sorted({f.check_id for f in report.findings
                        if f.about and f.about.name == result.domain and f.check_id.startswith("HT-STS-")})
        record = result.sts_record
        said = (record.error or "; ".join(record.problems) if record.error or record.problems else
                f"id {result.policy_id}" if record.usable else "none")
        policy = result.policy
        if policy is not None and policy.valid and policy.mode:
            policy_text = f"{policy.mode.value}, max_age {policy.max_age}, mx {', '.join(policy.mx)}" + (
                f" (passed over: {'; '.join(policy.notes)})" if policy.notes else "")
        elif policy is not None:
            policy_text = "not valid: " + "; ".join(policy.problems)
        else:
            policy_text = result.fetch.value.replace("_", " ") + (f": {result.fetch_detail}" if result.fetch_detail
                                                                 else "")
        judged = result.host_chain_judged
        host = "" if not result.host_chain else (
            f"{result.host_chain[0].subject} ("
            + ("trusted" if judged and judged.end.value == "trusted" else "not trusted")
            + (", name not covered" if result.host_name_covered is False else "") + ")")
        mx = ", ".join(f"{m.host} ({m.pattern or 'not listed'})" for m in result.mx_matches) or \
            ", ".join(result.mx_hosts)
        rpt = result.tlsrpt_record
        tlsrpt = ("" if rpt is None else rpt.error or "; ".join(rpt.problems) if rpt.error or rpt.problems else
                  ", ".join(result.tlsrpt_rua) if rpt.usable else "none")
        rows.append(MtaStsRow(domain=result.domain, record=said, policy=policy_text, host=host, mx=mx, tlsrpt=tlsrpt,
                              ok=not about, verdict=", ".join(about) or "ok"))
    return rows


STATUS_ORDER = (TraceStatus.DELIVERED, TraceStatus.PENDING, TraceStatus.GETTING_STATUS, TraceStatus.FAILED)


@dataclass(frozen=True)
class Segment:
    status: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    start: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Marker:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    bars: tuple[Bar, ...]
    markers: tuple[Marker, ...]
    ticks: tuple[tuple[float, str], ...]
    peak: int
    bin_label: str
    statuses: tuple[str, ...]
    total: int


def trace_timeline(evidence: EvidenceSet, width: int = 900, height: int = 240) -> Timeline | None:
    dated = [e for e in evidence.trace_entries if e.received]
    if not dated:
        return None
    first = min(e.received for e in dated if e.received)
    last = max(e.received for e in dated if e.received)
    starts = sorted({c.not_before for c in evidence.certificates if c.not_before and c.is_ca_issued
                     and first - timedelta(days=60) <= c.not_before <= last})
    begin = min([first, *starts])
    span = last - begin
    step, bin_label = ((timedelta(hours=1), "hour") if span <= timedelta(days=2) else
                       (timedelta(days=1), "day") if span <= timedelta(days=90) else (timedelta(days=7), "week"))
    if bin_label != "hour":
        begin = begin.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        begin = begin.replace(minute=0, second=0, microsecond=0)
    count = int((last - begin) / step) + 1
    bins: list[Counter[str]] = [Counter() for _ in range(count)]
    for entry in dated:
        assert entry.received is not None
        bins[int((entry.received - begin) / step)][_status_word(entry.status)] += 1
    left, right, top, bottom = 48, 16, 16, height - 40
    plot_width = width - left - right
    slot = plot_width / count
    peak = max(sum(b.values()) for b in bins) or 1
    bars = []
    order = [s.value for s in STATUS_ORDER] + ["Other"]
    for index, counter in enumerate(bins):
        y = float(bottom)
        segments = []
        for status in order:
            if counter[status]:
                h = (bottom - top) * counter[status] / peak
                y -= h
                segments.append(Segment(status, counter[status], round(y, 1), round(h, 1)))
        bars.append(Bar(round(left + index * slot + slot * 0.1, 1), round(max(slot * 0.8, 1.0), 1),
                        f"{begin + index * step:%Y-%m-%d %H:%M}", tuple(segments)))

    def x_of(moment: datetime) -> float:
        return round(left + (moment - begin) / step * slot, 1)

    markers = tuple(Marker(x_of(s), f"new certificate valid from {s:%Y-%m-%d}") for s in starts)
    tick_every = max(1, count // 8)
    ticks = tuple((round(left + i * slot, 1), f"{begin + i * step:%m-%d %H:%M}" if bin_label == "hour"
                   else f"{begin + i * step:%Y-%m-%d}") for i in range(0, count, tick_every))
    present = [s for s in order if any(b[s] for b in bins)]
    return Timeline(width, height, top, bottom, tuple(bars), markers, ticks, peak, bin_label, tuple(present),
                    len(dated))


def _status_word(status: TraceStatus | None) -> str:
    return status.value if status in STATUS_ORDER else "Other"


def omitted_words(finding: Finding) -> str:
    """What a finding's cut citation list leaves out: how many, and where they are."""
    if not finding.evidence_omitted:
        return ""
    where = f": {finding.evidence_omitted_where}" if finding.evidence_omitted_where else ""
    return f"... and {finding.evidence_omitted} more citation(s) of the same kind, not listed{where}"


@dataclass(frozen=True, slots=True)
class NoteLine:
    """Notes that say the same thing about one file, shown once with the lines they are about."""

    where: str  # "file.txt:6, 7, 8 and 7,727 more lines" or "file.txt"
    message: str
    hint: str | None


def grouped_notes(notes: Sequence[Notice | InputProblem], shown_lines: int = 5) -> list[NoteLine]:
    """One line per (file, message, hint), in the order first seen: a damaged file says what it says once."""
    groups: dict[tuple[str, str, str | None], list[int | None]] = {}
    for note in notes:
        groups.setdefault((note.source.path, note.message, note.hint), []).append(note.source.line)
    shown = []
    for (path, message, hint), lines in groups.items():
        numbers = [str(n) for n in lines if n is not None]
        where = path + (":" + ", ".join(numbers[:shown_lines]) if numbers else "")
        if len(numbers) > shown_lines:
            where += f" and {len(numbers) - shown_lines:,} more lines"
        shown.append(NoteLine(where, message, hint))
    return shown


def files_counted(evidence: EvidenceSet) -> int:
    """The files a run read or tried to, as the verdict counts them (a ticket passed over is not one)."""
    return evidence.coverage.files if evidence.coverage is not None else len(evidence.files)


def understood_words(evidence: EvidenceSet) -> str:
    """How much the verdict rests on: "3 of 5 files read; 2 records not understood". A PASS is only as good as
    what was read, so every format shows this beside the verdict. Empty for runs not read from files."""
    coverage = evidence.coverage
    if coverage is None:
        return ""
    def files(count: int) -> str:
        return f"{count:,} file{'' if count == 1 else 's'}"
    parts = [f"{files(coverage.files)} read" if coverage.files_read == coverage.files
             else f"{coverage.files_read:,} of {files(coverage.files)} read"]
    if coverage.records_not_understood:
        count = coverage.records_not_understood
        parts.append(f"{count:,} record{'' if count == 1 else 's'} not understood")
    if coverage.files_skipped:
        parts.append(f"{files(coverage.files_skipped)} skipped")
    return "; ".join(parts)


def idle_checks(report: Report) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """The checks that could not run (not applicable, crashed), or that ran but could not judge everything, as a
    title and (word, reason, check ids) grouped by word and reason, in catalogue order."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for outcome in report.outcomes:
        if outcome.status is CheckStatus.CRASHED:
            word = "crashed"
        elif outcome.status is CheckStatus.NOT_APPLICABLE:
            word = "not applicable"
        elif outcome.reason:  # it fired, and says what it could not judge
            word = "judged in part"
        else:
            continue
        grouped.setdefault((word, outcome.reason), []).append(outcome.check_id)
    partly = any(word == "judged in part" for word, _ in grouped)
    title = "Checks that could not run" + (" or judge everything" if partly else "")
    return title, [(word, reason, ids) for (word, reason), ids in grouped.items()]
