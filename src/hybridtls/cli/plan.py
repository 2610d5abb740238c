"""``hybridtls plan``: the current evidence and a new certificate in, an ordered change plan out."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.cli.common import (
    add_input_options,
    add_report_options,
    add_trust_options,
    finish,
    parse_fail_on,
    parse_now,
    trust_options,
)

NAME = "plan"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        NAME, help="plan a certificate change: what refers to the current one, the steps, what would fail",
        description="Before a certificate change: list every object that refers to the current certificate, the "
                    "ordered PowerShell steps to switch, and what would fail after the change if done as planned.",
    )
    parser.add_argument("paths", nargs="*", metavar="EVIDENCE", help="the current configuration (as for check)")
    parser.add_argument("--new-cert", required=True, metavar="FILE", help="the new certificate (PFX, PEM bundle, .cer)")
    add_trust_options(parser, recorded=True)
    add_input_options(parser)
    add_report_options(parser, fail_on="error", what="plan")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.pipeline import plan_change

    result = plan_change(args.new_cert, args.paths, now=parse_now(args.now), trust=trust_options(args),
                         fail_on=parse_fail_on(args.fail_on), max_file_size=args.max_file_size)
    status = finish(result, args, out, err, "new_cert", "trust", "intermediates", "password_file")
    return status
