"""``hybridtls probe``: targets in, one asyncio run, findings out."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.cli.common import (
    ExitStatus,
    add_probe_options,
    add_report_options,
    add_summary_options,
    finish,
    parse_fail_on,
    parse_now,
    probe_options,
    trust_options,
)
from hybridtls.errors import UsageError

NAME = "probe"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        NAME, help="connect to SMTP servers as Exchange Online would: every address, STARTTLS, the chain served",
        description="Probe every address behind the names given over real SMTP (EHLO, STARTTLS, TLS handshake, "
                    "QUIT; never mail, never authentication), capture the chain each presents, match it against "
                    "the host's TLSA (DANE) records, and judge it as Exchange Online would.",
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="host[:port], IPv4 or [IPv6][:port] (port 25)")
    add_probe_options(parser)
    add_report_options(parser)
    add_summary_options(parser)
    parser.add_argument("--nagios", action="store_true",
                        help="act as a Nagios/Icinga plugin: one status line with performance data (days to expiry, "
                             "handshake time per address), exit 0/1/2/3 for OK/WARNING/CRITICAL/UNKNOWN")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.cli.progress import progress_bar
    from hybridtls.pipeline import probe_and_judge

    if args.nagios and (args.output or args.format != "terminal"):
        raise UsageError("--nagios writes the plugin's status line to standard output: it takes no --format or --output")

    with progress_bar(err, "addresses probed", "waiting on") as progress:
        report = probe_and_judge(args.targets, options=probe_options(args), targets_file=args.targets_file,
                                 now=parse_now(args.now), trust=trust_options(args),
                                 fail_on=parse_fail_on(args.fail_on), progress=progress,
                                 partial_on_interrupt=not args.nagios)
    if args.nagios:
        from hybridtls.report.nagios import plugin_output

        plugin = plugin_output(report)
        out.write(plugin.text)
        return int(plugin.status)
    status = finish(report, args, out, err, "targets_file", "trust", "intermediates")
    if report.partial is None and report.evidence.probes and not any(p.outcome.connected for p in report.evidence.probes):
        return ExitStatus.ALL_PROBES_FAILED
    return status
