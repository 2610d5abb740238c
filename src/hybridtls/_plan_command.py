"""``hybridtls plan``: the current evidence and a new certificate in, an ordered change plan out."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.errors import UsageError


def plan_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls._cli import ExitStatus, _error, _parse_now, _password_source, _refuse_overwriting_evidence
    from hybridtls.evidence.certsource import read_certificate_paths, trust_anchors
    from hybridtls.evidence.loader import load_evidence
    from hybridtls.model import InputProblem, Severity
    from hybridtls.pki.chain import analyse_chain, leaves
    from hybridtls.plan.build import build_plan
    from hybridtls.report.planview import (
        render_plan_html,
        render_plan_json,
        render_plan_markdown,
        render_plan_terminal,
    )

    now = _parse_now(args.now)
    problems: list[InputProblem] = []
    passwords = _password_source(args.password_file)
    new = read_certificate_paths([args.new_cert], passwords, problems)
    intermediates = read_certificate_paths(args.intermediates, passwords, problems)
    trusted = read_certificate_paths(args.trust, passwords, problems)
    for problem in problems:
        _error(err, f"{problem.source}: {problem.message}", problem.hint)
    if not new:
        raise UsageError(f"no certificate was read from --new-cert {args.new_cert}")
    evidence = load_evidence(args.paths)
    for problem in evidence.problems:
        _error(err, f"{problem.source}: {problem.message}", problem.hint)
    leaf = leaves(new)[0]
    chain = analyse_chain(leaf, [*new, *intermediates], trust_anchors(trusted))
    plan = build_plan(evidence, leaf, chain, now)
    if args.output:
        _refuse_overwriting_evidence(args.output, (*evidence.files, args.new_cert))
    fail_on = None if args.fail_on == "never" else Severity(args.fail_on)
    stream = open(args.output, "w", encoding="utf-8") if args.output else out  # noqa: SIM115 - closed below
    try:
        if args.format == "html":
            stream.write(render_plan_html(plan, now, fail_on))
        elif args.format == "json":
            stream.write(render_plan_json(plan, now))
        elif args.format == "markdown":
            stream.write(render_plan_markdown(plan, now))
        else:
            from hybridtls.report.terminal import make_console

            render_plan_terminal(plan, now, make_console(stream, width=args.width, color=False if args.output else None))
    finally:
        if args.output:
            stream.close()
    failed = bool(problems or evidence.problems) or (
        fail_on is not None and any(r.severity.rank >= fail_on.rank for r in plan.risks))
    return ExitStatus.FINDINGS if failed else ExitStatus.CLEAN
