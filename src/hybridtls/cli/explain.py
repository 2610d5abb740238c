"""``hybridtls explain``: the check catalogue, what each check looks for and how to fix it."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.cli.common import ExitStatus
from hybridtls.errors import UsageError

NAME = "explain"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(NAME, help="describe the checks: what each looks for and how to fix it")
    parser.add_argument("ids", nargs="*", metavar="CHECK_ID", help="check ids (default: all)")
    parser.add_argument("--format", choices=("terminal", "markdown"), default="terminal")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.checks import CHECKS, CHECKS_BY_ID
    from hybridtls.report.catalogue import render_catalogue

    unknown = [i for i in args.ids if i.upper() not in CHECKS_BY_ID]
    if unknown:
        raise UsageError(f"no check {', '.join(unknown)}", hint="'hybridtls explain' lists every check")
    checks = [CHECKS_BY_ID[i.upper()] for i in args.ids] or list(CHECKS)
    out.write(render_catalogue(checks, markdown=args.format == "markdown"))
    return ExitStatus.CLEAN
