"""``hybridtls check``: saved PowerShell output (files and folders) in, findings with their fixes out."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.cli.common import (
    add_input_options,
    add_report_options,
    add_summary_options,
    add_trust_options,
    finish,
    parse_fail_on,
    parse_now,
    trust_options,
)

NAME = "check"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        NAME, help="diagnose saved PowerShell output (files and folders)",
        description="Read saved PowerShell output (Format-List text, tables, CSV, JSON; UTF-8 or UTF-16), "
                    "certificate files and saved probes from files and folders, and report what stops hybrid mail, "
                    "with the PowerShell that fixes it.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="evidence files or folders (read recursively)")
    parser.add_argument("--date-order", choices=("dmy", "mdy"),
                        help="day/month order of dates like 12/02/2016 when the evidence does not settle it")
    parser.add_argument("--server", action="append", default=[], metavar="NAME|PATH=NAME",
                        help="the server of records that do not name theirs (no Identity, PSComputerName or -Server): "
                             "NAME for every file, PATH=NAME for the files under one path; instead of the folder name")
    add_trust_options(parser, recorded=True)
    add_input_options(parser)
    add_report_options(parser)
    add_summary_options(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.cli.progress import progress_bar
    from hybridtls.evidence.dates import DateOrder
    from hybridtls.pipeline import judge_evidence

    with progress_bar(err, "files read", "reading") as progress:
        trust = trust_options(args, quiet=progress.paused if progress else None)
        report = judge_evidence(args.paths, now=parse_now(args.now), trust=trust,
                                date_order=DateOrder(args.date_order) if args.date_order else None,
                                fail_on=parse_fail_on(args.fail_on), max_file_size=args.max_file_size,
                                servers=args.server, progress=progress, partial_on_interrupt=True)
    status = finish(report, args, out, err, "paths", "trust", "intermediates", "password_file")
    return status
