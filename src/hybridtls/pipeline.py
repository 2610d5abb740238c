"""The application: judge evidence, probe and judge, plan a certificate change. No argparse and no printing.

Every front-end (the command line, the Python API, the coming monitor) calls these. Each run builds one
``TrustStore`` from ``--trust``, ``--intermediates`` and the anchors saved reports were judged with, and every
chain of the run is built by it, so the same facts reach the same verdict whichever way they arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hybridtls.errors import NothingUsable, UsageError
from hybridtls.evidence.files import DEFAULT_MAX_FILE_BYTES
from hybridtls.evidence.sniff import environment_password
from hybridtls.model import Interruption, Severity

if TYPE_CHECKING:
    from hybridtls.checks import CheckContext
    from hybridtls.evidence.certificates import PasswordSource
    from hybridtls.evidence.dates import DateOrder
    from hybridtls.model import (
        AnchorRecord,
        CertificateFile,
        EvidenceSet,
        InputProblem,
        MtaStsResult,
        Notice,
        ProbeResult,
        Progress,
    )
    from hybridtls.pki.trust import TrustStore
    from hybridtls.report import Plan, Report
    from hybridtls.smtp.runner import Schedule
    from hybridtls.smtp.targets import Target

MAX_PASSWORD_FILE_BYTES = 64 * 1024  # a password is one line; anything larger is not a password file
MAX_TARGETS_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustOptions:
    """Where a run's trust comes from, besides the Mozilla root store."""

    trust: Sequence[str] = ()  # files of extra trusted roots (an internal CA)
    intermediates: Sequence[str] = ()  # files of intermediates to build certificate files' chains with
    use_recorded: bool = True  # also trust the anchors a saved hybridtls report records it was judged with
    passwords: PasswordSource | None = None  # for PFX files among them


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeOptions:
    """How to probe: where the addresses come from, what the certificate must match, how politely."""

    mx: Sequence[str] = ()  # probe the MX hosts of these domains
    resolve: Sequence[str] = ()  # NAME=ADDR[,ADDR] pins
    nameserver: str | None = None  # IP[:PORT] to ask instead of the system's resolver
    ehlo: str | None = None
    expect_name: str | None = None  # the outbound connector's TlsDomain; default: each host name
    expect_cert: Sequence[str] = ()  # TlsCertificateName values the presented certificate must match
    concurrency: int = 10
    per_address: int = 1
    timeout: float = 15.0  # each step
    deadline: float = 300.0  # the whole run
    retry_after: float = 5.0  # after a 421 greeting
    sweep: bool = True  # the TLS 1.0/1.1/1.2/1.3 acceptance sweep
    mta_sts: bool = True  # with --mx: each domain's MTA-STS and TLS-RPT records and policy
    mta_sts_port: int = 443  # where the policy host is fetched from; only tests change it (a loopback server)

    def validate(self) -> None:
        if self.concurrency < 1 or self.per_address < 1 or self.timeout <= 0 or self.deadline <= 0:
            raise UsageError("--concurrency, --per-address, --timeout and --deadline must be positive")
        if not 0 < self.mta_sts_port < 65536:
            raise UsageError("--mta-sts-port must be a TCP port (1 to 65535)")


def judge_evidence(paths: Sequence[str], *, now: datetime | None = None, trust: TrustOptions = TrustOptions(),
                   date_order: DateOrder | None = None, fail_on: Severity | None = Severity.WARNING,
                   max_file_size: int = DEFAULT_MAX_FILE_BYTES, servers: Sequence[str] = (),
                   progress: Progress | None = None, partial_on_interrupt: bool = False) -> Report:
    """``hybridtls check``: read evidence files and folders, build the chains, run every check. ``servers`` are
    ``--server`` values: ``NAME`` or ``PATH=NAME``, the server of records that do not name theirs.

    ``progress`` hears of each file as it is read. With ``partial_on_interrupt``, Ctrl-C (KeyboardInterrupt) while
    the files are read ends the reading, and the report judges the files finished, marked ``partial``."""
    from hybridtls.checks import CheckContext
    from hybridtls.evidence.attribution import server_assignments
    from hybridtls.evidence.loader import FilesInterrupted, load_evidence

    judged_at = _now(now)
    partial = None
    try:
        evidence = load_evidence(list(paths), date_order, max_file_size=max_file_size, passwords=trust.passwords,
                                 servers=server_assignments(servers), progress=progress)
    except FilesInterrupted as stopped:
        if not partial_on_interrupt or not stopped.evidence.usable:
            raise
        evidence = stopped.evidence
        partial = Interruption(reason="interrupted", done=stopped.done, total=stopped.total, unit="files")
    if not evidence.usable:
        raise NothingUsable(
            "nothing usable was read from " + ", ".join(paths),
            hint="give saved output of Get-ExchangeCertificate | Format-List (from each server) or Get-MessageTrace",
            problems=_problem_lines(evidence.problems))
    if evidence.recorded_anchors and not trust.use_recorded:
        evidence = replace(evidence, notices=(*evidence.notices, *_ignored(evidence.recorded_anchors)))
    if _has_chains(evidence) or trust.trust or trust.intermediates:  # cryptography loads only when needed
        problems: list[InputProblem] = []
        store = _trust_store(trust, evidence.recorded_anchors, problems, max_file_size)
        evidence = judge_chains(_with_problems(evidence, problems), store)
    dated = evidence_date(evidence, judged_at) if now is None else None  # --now given: judged as of that date
    evidence = _note_old_evidence(evidence, judged_at, paths, dated)
    return _report("check", evidence, CheckContext(now=judged_at, evidence_date=dated), fail_on=fail_on,
                   now=judged_at, partial=partial)


def judge_certificates(files: Sequence[str], *, now: datetime | None = None, trust: TrustOptions = TrustOptions(),
                       names: Sequence[str] = (), tls_certificate_names: Sequence[str] = (),
                       fetch_aia: bool = False, fail_on: Severity | None = Severity.WARNING,
                       max_file_size: int = DEFAULT_MAX_FILE_BYTES) -> Report:
    """``hybridtls cert``: certificate files as Windows and Exchange see them, and the chain Exchange Online
    would build for each leaf."""
    from hybridtls.checks import CheckContext
    from hybridtls.evidence.certsource import build_chains_fetching, read_certificate_paths
    from hybridtls.model import EvidenceSet

    judged_at = _now(now)
    problems: list[InputProblem] = []
    subjects = read_certificate_paths(files, trust.passwords, problems, max_file_size=max_file_size)
    if not subjects:
        raise NothingUsable("no certificate was read from " + ", ".join(files), problems=_problem_lines(problems))
    store = _trust_store(trust, (), problems, max_file_size)
    notices: list[Notice] = []
    chains = build_chains_fetching(subjects, store, notices) if fetch_aia else store.chains_of_files(subjects)
    evidence = EvidenceSet(files=tuple(files), certificate_files=tuple(subjects), chains=chains,
                           trust=store.basis, problems=tuple(problems), notices=tuple(notices))
    context = CheckContext(now=judged_at, expected_names=tuple(names),
                           expected_tls_names=tuple(tls_certificate_names))
    return _report("cert", evidence, context, fail_on=fail_on, now=judged_at)


async def probe_and_judge_async(targets: Sequence[str | Target], *, options: ProbeOptions = ProbeOptions(),
                                targets_file: str | None = None, now: datetime | None = None,
                                trust: TrustOptions = TrustOptions(), fail_on: Severity | None = Severity.WARNING,
                                progress: Progress | None = None, partial_on_interrupt: bool = False,
                                schedule: Schedule | None = None) -> Report:
    """``hybridtls probe``: probe every address behind the targets over SMTP and STARTTLS, judge what each
    presented as Exchange Online would. Safe to await from inside a running event loop. Targets are texts
    (host[:port]) or parsed ``Target`` records; ``schedule`` spreads the connections and keeps per-address
    politeness across calls (the watch's rounds).

    ``progress`` hears of each address as its probe starts and finishes. With ``partial_on_interrupt``, a
    cancellation while probing (Ctrl-C under ``asyncio.run``) is taken back and the report judges the addresses
    finished, the others reported as not probed, marked ``partial``; without it the cancellation propagates."""
    from hybridtls.checks import CheckContext
    from hybridtls.model import EvidenceSet

    options.validate()
    parsed = read_targets(targets, targets_file)
    problems: list[InputProblem] = []
    store = _trust_store(trust, (), problems)
    import asyncio

    from hybridtls.smtp.runner import ProbesInterrupted

    partial = None
    try:
        probes, policies = await _probe(parsed, options, progress, schedule)
    except ProbesInterrupted as stopped:
        current = asyncio.current_task()
        if not partial_on_interrupt or current is None:
            raise
        uncancel = getattr(current, "uncancel", None)  # Python 3.11+; 3.10's asyncio.run does not cancel on Ctrl-C
        if uncancel is not None:
            uncancel()  # the cancellation is answered by the partial report
        probes, policies = stopped.results, []
        partial = Interruption(reason="interrupted", done=stopped.done, total=stopped.total, unit="addresses")
    judged_at = _now(now)
    evidence = EvidenceSet(files=tuple(p.label for p in probes) + tuple(r.source.path for r in policies),
                           probes=tuple(probes), problems=tuple(problems))
    evidence = judge_chains(replace(evidence, mta_sts=tuple(policies)), store)
    context = CheckContext(now=judged_at, expected_tls_names=tuple(options.expect_cert))
    return _report("probe", evidence, context, fail_on=fail_on, now=judged_at, partial=partial)


def probe_and_judge(targets: Sequence[str], **kwargs: object) -> Report:
    """``probe_and_judge_async`` for callers without an event loop (the command line)."""
    import asyncio

    return asyncio.run(probe_and_judge_async(targets, **kwargs))  # type: ignore[arg-type]


def plan_change(new_cert: str, evidence_paths: Sequence[str], *, now: datetime | None = None,
                trust: TrustOptions = TrustOptions(), fail_on: Severity | None = Severity.ERROR,
                max_file_size: int = DEFAULT_MAX_FILE_BYTES) -> Plan:
    """``hybridtls plan``: what refers to the current certificate, the ordered steps to switch to the new one,
    and what would fail if it were done as planned."""
    from hybridtls.evidence.certsource import read_certificate_paths
    from hybridtls.evidence.loader import load_evidence
    from hybridtls.pki.chain import leaves
    from hybridtls.planning.build import build_plan
    from hybridtls.report import Plan

    planned_at = _now(now)
    problems: list[InputProblem] = []
    new = read_certificate_paths([new_cert], trust.passwords, problems, max_file_size=max_file_size)
    if not new:
        raise NothingUsable(f"no certificate was read from --new-cert {new_cert}", problems=_problem_lines(problems))
    evidence = load_evidence(list(evidence_paths), max_file_size=max_file_size, passwords=trust.passwords)
    store = _trust_store(trust, evidence.recorded_anchors, problems, max_file_size)
    evidence = judge_chains(_with_problems(evidence, problems), store)
    leaf = leaves(new)[0]
    chain = store.chain_of(leaf, new)
    change = build_plan(evidence, leaf, chain, planned_at)
    return Plan(plan=change, evidence=replace(evidence, files=(*evidence.files, new_cert)), now=planned_at,
                fail_on=fail_on)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorCause:
    """One catalogue entry (HT-ERR-001) an error text matches: what it means, its usual cause, the fix."""

    meaning: str
    cause: str
    fix: str


def explain_error_text(text: str) -> tuple[ErrorCause, ...]:
    """The causes the delivery-error catalogue gives for an error text (a queue's LastError, an NDR's diagnostic
    information), nested responses included; empty when the text is not in the catalogue."""
    from hybridtls.checks.errors import signatures_for

    return tuple(ErrorCause(meaning=s.meaning, cause=s.cause, fix=s.fix) for s in signatures_for(text))


def judge_chains(evidence: EvidenceSet, store: TrustStore) -> EvidenceSet:
    """Every chain of the run, built by one store: certificate files from what was supplied, served chains as
    served. Records which anchors they were judged against."""
    if not _has_chains(evidence):
        return evidence
    from hybridtls.model import Notice, Source

    chains = store.chains_of_files(evidence.certificate_files) if evidence.certificate_files else ()
    chains += tuple(store.chain_as_served(p.chain) for p in evidence.probes if p.chain)
    # the MTA-STS policy hosts' chains are judged by the same store, but kept with their domain: they are not
    # chains Exchange Online builds to an SMTP host, and the HT-CHAIN checks do not apply to them
    policies = tuple(replace(r, host_chain_judged=store.chain_as_served(r.host_chain)) if r.host_chain else r
                     for r in evidence.mta_sts)
    basis = store.basis
    said = [Notice(source=Source(path=anchor.origin),
                   message=f"chains were judged with this anchor besides the Mozilla root store: {anchor.subject} "
                           f"(SHA-256 {anchor.sha256})")
            for anchor in basis.anchors]
    return replace(evidence, chains=chains, mta_sts=policies, trust=basis, notices=(*evidence.notices, *said))


def _has_chains(evidence: EvidenceSet) -> bool:
    return bool(evidence.certificate_files) or any(p.chain for p in evidence.probes) \
        or any(r.host_chain for r in evidence.mta_sts)


def read_password_file(path: str) -> PasswordSource:
    """A PFX password from the first line of a file (read when a PFX asks, never kept)."""

    def ask(_: str) -> bytes | None:
        from hybridtls.errors import EvidenceError
        from hybridtls.evidence.files import read_limited

        try:
            return read_limited(path, path, MAX_PASSWORD_FILE_BYTES, what="the --password-file").split(b"\n", 1)[0] \
                .rstrip(b"\r")
        except EvidenceError as exc:
            raise UsageError(f"{exc.where}: {exc.message}") from None

    return ask



def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now().replace(microsecond=0)


def _trust_store(options: TrustOptions, recorded: Sequence[AnchorRecord], problems: list[InputProblem],
                 max_file_size: int = DEFAULT_MAX_FILE_BYTES) -> TrustStore:
    from hybridtls.evidence.certsource import read_certificate_paths
    from hybridtls.pki.trust import TrustStore, anchor_record

    passwords = options.passwords or environment_password
    trusted: list[CertificateFile] = read_certificate_paths(options.trust, passwords, problems,
                                                            max_file_size=max_file_size)
    intermediates = read_certificate_paths(options.intermediates, passwords, problems, max_file_size=max_file_size)
    anchors = [anchor_record(cert, f"--trust {cert.source.path}") for cert in trusted]
    if options.use_recorded:
        anchors.extend(recorded)
    return TrustStore(anchors, intermediates=intermediates)


def _ignored(anchors: Sequence[AnchorRecord]) -> list[Notice]:
    from hybridtls.model import Notice, Source

    return [Notice(source=Source(path=anchor.origin), message=f"this anchor was not trusted (--ignore-recorded-trust): "
                   f"{anchor.subject} (SHA-256 {anchor.sha256})") for anchor in anchors]


def _with_problems(evidence: EvidenceSet, problems: Sequence[InputProblem]) -> EvidenceSet:
    return replace(evidence, problems=(*evidence.problems, *problems)) if problems else evidence


def _problem_lines(problems: Sequence[InputProblem]) -> tuple[tuple[str, str | None], ...]:
    return tuple((f"{p.source}: {p.message}", p.hint) for p in problems)


def _report(command: str, evidence: EvidenceSet, context: CheckContext, *, fail_on: Severity | None,
            now: datetime, partial: Interruption | None = None) -> Report:
    from hybridtls.checks import checks_for
    from hybridtls.checks.history import run_checks_over_time
    from hybridtls.report import Report

    checks = checks_for(command)
    evidence, judged = run_checks_over_time(evidence, context, checks)
    outcomes = tuple(judged)
    return Report(command=command, evidence=evidence, checks=checks, outcomes=outcomes, now=now,
                  fail_on=fail_on, evidence_date=context.evidence_date, partial=partial)


OLD_EVIDENCE_DAYS = 365  # evidence whose newest date is this far past was saved long ago: said at the top


def evidence_date(evidence: EvidenceSet, now: datetime) -> datetime | None:
    """The evidence's own date (its newest trace entry or certificate NotBefore) when that is long before ``now``;
    None when the evidence is recent or holds no such date."""
    dates = [e.received for e in evidence.trace_entries if e.received]
    dates += [c.not_before for c in evidence.certificates if c.not_before]
    if not dates or (now - max(dates)).days < OLD_EVIDENCE_DAYS:
        return None
    return max(dates)


def _note_old_evidence(evidence: EvidenceSet, now: datetime, paths: Sequence[str],
                       newest: datetime | None) -> EvidenceSet:
    from hybridtls.model import Notice, Source

    if newest is None:
        return evidence
    notice = Notice(
        source=Source(path=" ".join(paths)),
        message=f"the newest date in the evidence is {newest:%Y-%m-%d}, long before {now:%Y-%m-%d}: expiry is "
                "judged against today",
        hint=f"to judge the evidence as of when it was saved, pass --now {newest:%Y-%m-%d}",
    )
    return replace(evidence, notices=(*evidence.notices, notice))


def read_targets(texts: Sequence[str | Target], targets_file: str | None) -> list[Target]:
    """Targets from arguments (host[:port] texts or ``Target`` records) and a targets file, one per line (``#``
    starts a comment). Each file target's ``source`` is its FILE:LINE; a bad line is a UsageError naming it."""
    from hybridtls.smtp.targets import parse_target

    given = [parse_target(text) if isinstance(text, str) else text for text in texts]
    if targets_file:
        from hybridtls.errors import EvidenceError
        from hybridtls.evidence.files import read_limited

        try:
            data = read_limited(targets_file, targets_file, MAX_TARGETS_FILE_BYTES, what="the --targets-file")
            lines = data.decode("utf-8-sig").splitlines()
        except EvidenceError as exc:
            raise UsageError(f"{exc.where}: {exc.message}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"cannot read --targets-file {targets_file}: not UTF-8 ({exc.reason})") from None
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if text:
                try:
                    given.append(parse_target(text, source=f"{targets_file}:{number}"))
                except UsageError as exc:
                    raise UsageError(f"{targets_file}:{number}: {exc.message}") from None
    return given


async def _probe(targets: list[Target], options: ProbeOptions, progress: Progress | None = None,
                 schedule: Schedule | None = None) -> tuple[list[ProbeResult], list[MtaStsResult]]:
    import asyncio

    from hybridtls.model import ProbeOutcome, ProbeResult, ProbeStep
    from hybridtls.smtp.dane import observe_dane
    from hybridtls.smtp.resolve import Resolution
    from hybridtls.smtp.runner import run_probes
    from hybridtls.smtp.session import ProbeSettings
    from hybridtls.smtp.sts_fetch import FetchSettings, look_up
    from hybridtls.smtp.targets import parse_resolve

    resolution = Resolution(options.nameserver, parse_resolve(list(options.resolve)),
                            timeout=min(options.timeout, 10.0))
    failed: list[ProbeResult] = []
    lookups = []
    fetching = FetchSettings(timeout=options.timeout, total=min(options.deadline, 2 * options.timeout),
                             port=options.mta_sts_port)
    for domain in options.mx:
        found, error = await resolution.mx(domain)
        if error:
            failed.append(ProbeResult(host=domain, address="", port=25, expected_name=domain,
                                      outcome=ProbeOutcome.DNS_FAILED, stage=ProbeStep.RESOLVE, detail=error,
                                      observed_at=datetime.now(timezone.utc).replace(microsecond=0)))
        targets.extend(found)
        if options.mta_sts:
            lookups.append(look_up(domain, [t.host for t in found], resolution, fetching, options.deadline))
    if not targets and not failed:
        raise UsageError("nothing to probe", hint="give host[:port] targets, --mx DOMAIN or --targets-file FILE")
    settings = ProbeSettings(timeout=options.timeout, sweep=options.sweep, retry_421_after=options.retry_after,
                             **({"ehlo_name": options.ehlo} if options.ehlo else {}))
    policies = asyncio.ensure_future(asyncio.gather(*lookups))  # MTA-STS while the addresses are probed
    try:
        probed = await run_probes(targets, settings, resolution, expect_name=options.expect_name,
                                  concurrency=options.concurrency, per_address=options.per_address,
                                  deadline=options.deadline, progress=progress, schedule=schedule)
    except BaseException:
        policies.cancel()
        raise
    probed = await observe_dane(probed, targets, resolution)
    return failed + probed, list(await policies)
