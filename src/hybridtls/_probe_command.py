"""``hybridtls probe``: targets in, one asyncio run, findings out. Part of the command line (see _cli)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TextIO

from hybridtls.errors import UsageError


def _targets(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from hybridtls.probe.targets import parse_target

    texts = list(args.targets)
    if args.targets_file:
        try:
            lines = Path(args.targets_file).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --targets-file {args.targets_file}: {exc}") from None
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if text:
                try:
                    parse_target(text)
                except UsageError as exc:
                    raise UsageError(f"{args.targets_file}:{number}: {exc.message}") from None
                texts.append(text)
    return [parse_target(text) for text in texts]


async def _run(args: argparse.Namespace, targets, notes: list[str]):  # type: ignore[no-untyped-def]
    from hybridtls.model import ProbeOutcome, ProbeResult
    from hybridtls.probe.resolve import Resolution
    from hybridtls.probe.runner import run_probes
    from hybridtls.probe.session import ProbeSettings
    from hybridtls.probe.targets import parse_resolve

    resolution = Resolution(args.nameserver, parse_resolve(args.resolve), timeout=min(args.timeout, 10.0))
    failed: list[ProbeResult] = []
    for domain in args.mx:
        found, error = await resolution.mx(domain)
        if error:
            failed.append(ProbeResult(host=domain, address="", port=25, expected_name=domain,
                                      outcome=ProbeOutcome.DNS_FAILED, stage="resolve", detail=error))
        targets.extend(found)
    if not targets and not failed:
        raise UsageError("nothing to probe", hint="give host[:port] targets, --mx DOMAIN or --targets-file FILE")
    settings = ProbeSettings(timeout=args.timeout, sweep=not args.no_sweep, retry_421_after=args.retry_after,
                             **({"ehlo_name": args.ehlo} if args.ehlo else {}))
    return failed + await run_probes(targets, settings, resolution, expect_name=args.expect_name,
                                     concurrency=args.concurrency, per_address=args.per_address,
                                     deadline=args.deadline)


def probe_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls._cli import ExitStatus, _error, _parse_now, _write_report
    from hybridtls.checks import CheckContext, checks_for, run_checks
    from hybridtls.evidence.certsource import read_certificate_paths, trust_anchors
    from hybridtls.model import EvidenceSet, InputProblem, Notice, Severity, Source
    from hybridtls.pki.chain import analyse_chain
    from hybridtls.report import Report

    if args.concurrency < 1 or args.per_address < 1 or args.timeout <= 0 or args.deadline <= 0:
        raise UsageError("--concurrency, --per-address, --timeout and --deadline must be positive")
    now = _parse_now(args.now)
    problems: list[InputProblem] = []
    trusted = read_certificate_paths(args.trust, None, problems)
    for problem in problems:
        _error(err, f"{problem.source}: {problem.message}", problem.hint)
    notes: list[str] = []
    probes = asyncio.run(_run(args, _targets(args), notes))
    anchors = trust_anchors(trusted)
    chains = tuple(analyse_chain(p.chain[0], p.chain, anchors) for p in probes if p.chain)
    evidence = EvidenceSet(files=tuple(p.label for p in probes), probes=tuple(probes), chains=chains,
                           problems=tuple(problems),
                           notices=tuple(Notice(source=Source(path="dns"), message=n) for n in notes))
    context = CheckContext(now=now, expected_tls_names=tuple(args.expect_cert))
    outcomes = tuple(run_checks(evidence, context, checks_for("probe")))
    fail_on = None if args.fail_on == "never" else Severity(args.fail_on)
    report = Report(command="probe", evidence=evidence, checks=checks_for("probe"), outcomes=outcomes, now=now, fail_on=fail_on)
    _write_report(report, args, out)
    if probes and not any(p.outcome.connected for p in probes):
        return ExitStatus.ALL_PROBES_FAILED
    return ExitStatus.FINDINGS if report.failed else ExitStatus.CLEAN
