"""``hybridtls cert``: certificate files as Windows and Exchange see them, and the chain Exchange Online builds."""

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

NAME = "cert"


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        NAME, help="show certificates as Windows and Exchange see them, and what will break",
        description="Read certificate files (PEM, DER/.cer, PKCS#7/.p7b, PKCS#12/.pfx, base64 RawData) and show "
                    "Subject, Issuer and TlsCertificateName exactly as Windows and Exchange render them, the chain "
                    "Exchange Online would build (without fetching), and every defect in it.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="certificate files")
    add_trust_options(parser)
    parser.add_argument("--name", action="append", default=[], metavar="HOST",
                        help="a host name the certificate must cover, e.g. the outbound connector's TlsDomain")
    parser.add_argument("--fetch-aia", action="store_true",
                        help="download missing intermediates from their caIssuers URLs (the only network access)")
    parser.add_argument("--tls-certificate-name", action="append", default=[], metavar="VALUE",
                        help="a TlsCertificateName ('<I>issuer<S>subject') to compare with the certificate")
    add_input_options(parser)
    add_report_options(parser)
    add_summary_options(parser)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.pipeline import judge_certificates

    report = judge_certificates(args.files, now=parse_now(args.now), trust=trust_options(args), names=args.name,
                                tls_certificate_names=args.tls_certificate_name, fetch_aia=args.fetch_aia,
                                fail_on=parse_fail_on(args.fail_on), max_file_size=args.max_file_size)
    status = finish(report, args, out, err, "files", "trust", "intermediates", "password_file")
    return status
