"""``hybridtls probe``: targets in, one asyncio run, findings out."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.cli.common import (
    ExitStatus,
    add_probe_options,
    add_report_options,
    finish,
    parse_fail_on,
    parse_now,
    probe_options,
    trust_options,
)

NAME = "probe"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        NAME, help="connect to SMTP servers as Exchange Online would: every address, STARTTLS, the chain served",
        description="Probe every address behind the names given over real SMTP (EHLO, STARTTLS, TLS handshake, "
                    "QUIT; never mail, never authentication), capture the chain each presents, and judge it as "
                    "Exchange Online would.",
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="host[:port], IPv4 or [IPv6][:port] (port 25)")
    add_probe_options(parser)
    add_report_options(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.pipeline import probe_and_judge

    report = probe_and_judge(args.targets, options=probe_options(args), targets_file=args.targets_file,
                             now=parse_now(args.now), trust=trust_options(args), fail_on=parse_fail_on(args.fail_on))
    status = finish(report, args, out, err, "targets_file", "trust", "intermediates")
    if report.evidence.probes and not any(p.outcome.connected for p in report.evidence.probes):
        return ExitStatus.ALL_PROBES_FAILED
    return status
