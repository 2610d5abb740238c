"""``hybridtls probe``: targets in, one asyncio run, findings out."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.cli.common import (
    ExitStatus,
    add_report_options,
    add_trust_options,
    finish,
    parse_fail_on,
    parse_now,
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
    parser.add_argument("--targets-file", metavar="FILE", help="more targets, one per line (# starts a comment)")
    parser.add_argument("--mx", action="append", default=[], metavar="DOMAIN", help="probe the MX hosts of DOMAIN")
    parser.add_argument("--resolve", action="append", default=[], metavar="NAME=ADDR[,ADDR]",
                        help="use these addresses for NAME instead of DNS")
    parser.add_argument("--nameserver", metavar="IP[:PORT]", help="ask this DNS server instead of the system's")
    parser.add_argument("--ehlo", metavar="NAME", help="the name to send in EHLO (default: this machine's name)")
    parser.add_argument("--expect-name", metavar="NAME",
                        help="the name certificates must cover: the outbound connector's TlsDomain (default: host name)")
    parser.add_argument("--expect-cert", action="append", default=[], metavar="TLSNAME",
                        help="the TlsCertificateName ('<I>...<S>...') the presented certificate must match")
    add_trust_options(parser, password=False)
    parser.add_argument("--concurrency", type=int, default=10, help="connections at once, in all (default: 10)")
    parser.add_argument("--per-address", type=int, default=1, help="connections at once per address (default: 1)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds for each step (default: 15)")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for the whole run (default: 300)")
    parser.add_argument("--retry-after", type=float, default=5.0, metavar="SECONDS",
                        help="after a 421 greeting, retry once after this pause (default: 5)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the TLS 1.0/1.1/1.2/1.3 acceptance sweep")
    parser.add_argument("--no-mta-sts", action="store_true",
                        help="with --mx, skip the MTA-STS and TLS-RPT records and the policy fetch")
    parser.add_argument("--mta-sts-port", type=int, default=443, help=argparse.SUPPRESS)  # tests: a loopback server
    add_report_options(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.pipeline import ProbeOptions, probe_and_judge

    options = ProbeOptions(mx=args.mx, resolve=args.resolve, nameserver=args.nameserver, ehlo=args.ehlo,
                           expect_name=args.expect_name, expect_cert=args.expect_cert, concurrency=args.concurrency,
                           per_address=args.per_address, timeout=args.timeout, deadline=args.deadline,
                           retry_after=args.retry_after, sweep=not args.no_sweep,
                           mta_sts=not args.no_mta_sts, mta_sts_port=args.mta_sts_port)
    report = probe_and_judge(args.targets, options=options, targets_file=args.targets_file,
                             now=parse_now(args.now), trust=trust_options(args), fail_on=parse_fail_on(args.fail_on))
    status = finish(report, args, out, err, "targets_file", "trust", "intermediates")
    if report.evidence.probes and not any(p.outcome.connected for p in report.evidence.probes):
        return ExitStatus.ALL_PROBES_FAILED
    return status
