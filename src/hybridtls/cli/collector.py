"""``hybridtls collector``: print the PowerShell script that gathers, from the Exchange Management Shell, everything
``check`` reads, laid out as ``check`` expects it (one folder per server). The script is a data file of the package
(``collector/Collect-HybridTls.ps1``); ``docs/collector.md`` says what it runs and what each file holds."""

from __future__ import annotations

import argparse
from typing import TextIO

from hybridtls.cli.common import ExitStatus

NAME = "collector"
SCRIPT = "Collect-HybridTls.ps1"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        NAME, help="print the PowerShell script that collects the evidence check reads",
        description="Print Collect-HybridTls.ps1, a read-only PowerShell script for the Exchange Management Shell: "
                    "it saves every Exchange server's certificates, connectors, transport service, queues, "
                    "certificate stores, certificate events and a day of SMTP protocol logs (and, when connected "
                    "to Exchange Online, its connectors and two days of Pending and Failed message trace) in one "
                    "folder per server, as Format-List text and CliXML, and zips it. Never message content or "
                    "credentials. Run it as: hybridtls collector > Collect-HybridTls.ps1",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help=f"write the script to FILE (e.g. {SCRIPT}) "
                                                               "instead of standard output")


def script_text() -> str:
    """The collector script as shipped in the package."""
    from importlib.resources import files

    return (files("hybridtls") / "collector" / SCRIPT).read_text(encoding="utf-8")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    text = script_text()
    if args.output:
        from hybridtls.cli.common import write_text_whole

        write_text_whole(args.output, text)
        err.write(f"hybridtls: wrote {args.output}; run it in the Exchange Management Shell: .\\{SCRIPT}\n")
    else:
        out.write(text)
    return ExitStatus.CLEAN
