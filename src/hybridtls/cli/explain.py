"""``hybridtls explain``: the check catalogue, what each check looks for and how to fix it; and, given an error
text instead of a check id, what the delivery-error catalogue (HT-ERR-001) says of it."""

from __future__ import annotations

import argparse
import re
from typing import TextIO

from hybridtls.cli.common import ExitStatus
from hybridtls.errors import UsageError

NAME = "explain"
_CHECK_ID = re.compile(r"HT-[A-Z]+-\d+", re.I)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(NAME, help="describe the checks, or explain a delivery error text")
    parser.add_argument("ids", nargs="*", metavar="CHECK_ID_OR_ERROR",
                        help="check ids (default: all), or an error text in quotes (a queue's LastError, an NDR's "
                             "diagnostic information)")
    parser.add_argument("--format", choices=("terminal", "markdown"), default="terminal")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.checks import CHECKS, CHECKS_BY_ID
    from hybridtls.report.catalogue import render_catalogue

    texts = [i for i in args.ids if i.upper() not in CHECKS_BY_ID and not _CHECK_ID.fullmatch(i.strip())]
    ids = [i for i in args.ids if i not in texts]
    unknown = [i for i in ids if i.upper() not in CHECKS_BY_ID]
    if unknown:
        raise UsageError(f"no check {', '.join(unknown)}", hint="'hybridtls explain' lists every check")
    if ids or not texts:
        checks = [CHECKS_BY_ID[i.upper()] for i in ids] or list(CHECKS)
        out.write(render_catalogue(checks, markdown=args.format == "markdown"))
    for text in texts:
        out.write(_explained(text))
    return ExitStatus.CLEAN


def _explained(text: str) -> str:
    from hybridtls.pipeline import explain_error_text
    from hybridtls.report.escape import inert

    shown = inert(" ".join(text.split()), single_line=True)
    causes = explain_error_text(text)
    if not causes:
        return (f"Error text: {shown}\n  Not in hybridtls's catalogue of delivery errors (HT-ERR-001): look up its "
                "status code; probe the next hop with: hybridtls probe <smart host>\n")
    lines = [f"Error text: {shown}"]
    for cause in causes:
        lines += [f"  Means: {cause.meaning}", f"  Usual cause: {cause.cause}", f"  Fix: {cause.fix}"]
    return "\n".join(lines) + "\n"
