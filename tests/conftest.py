from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from hybridtls._cli import main

FIXTURES = Path(__file__).parent / "fixtures"
CASES = FIXTURES / "cases"

settings.register_profile("ci", max_examples=150, deadline=None)
settings.load_profile("ci")


@dataclass
class CliRun:
    code: int
    out: str
    err: str


def run_cli(*argv: str) -> CliRun:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return CliRun(int(code), out.getvalue(), err.getvalue())


def format_list(*records: dict[str, str]) -> str:
    """Render records the way PowerShell's Format-List does: labels padded to one column, blank lines around."""
    blocks = []
    for record in records:
        width = max(len(label) for label in record)
        blocks.append("\n".join(f"{label.ljust(width)} : {value}".rstrip() for label, value in record.items()))
    return "\n\n" + "\n\n\n".join(blocks) + "\n\n"


def certificate(**overrides: str) -> dict[str, str]:
    """A Get-ExchangeCertificate | Format-List record of a healthy public hybrid certificate."""
    record = {
        "AccessRules": "{System.Security.AccessControl.CryptoKeyAccessRule, System.Security.AccessControl.CryptoKeyAccessRule}",
        "CertificateDomains": "{mail.contoso.com, autodiscover.contoso.com}",
        "HasPrivateKey": "True",
        "IsSelfSigned": "False",
        "Issuer": "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US",
        "NotAfter": "3/14/2030 11:59:59 PM",
        "NotBefore": "3/15/2029 12:00:00 AM",
        "PublicKeySize": "2048",
        "RootCAType": "ThirdParty",
        "SerialNumber": "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        "Services": "IMAP, POP, IIS, SMTP",
        "Status": "Valid",
        "Subject": "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US",
        "Thumbprint": "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678",
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


def self_signed(server: str, **overrides: str) -> dict[str, str]:
    """The server's own 'Microsoft Exchange' certificate, as setup creates it."""
    record = certificate(
        CertificateDomains=f"{{{server}, {server}.contoso.local}}",
        IsSelfSigned="True",
        Issuer=f"CN={server}",
        Subject=f"CN={server}",
        RootCAType="Registry",
        Services="IMAP, POP, IIS, SMTP",
        SerialNumber="1F2E3D4C5B6A79880123456789ABCDEF",
        Thumbprint=(server.upper().encode().hex().upper() + "0" * 40)[:40],
        NotAfter="1/1/2031 10:00:00 AM",
        NotBefore="1/1/2026 10:00:00 AM",
    )
    record.update(overrides)
    return record


def auth_certificate(**overrides: str) -> dict[str, str]:
    record = certificate(
        CertificateDomains="{}",
        IsSelfSigned="True",
        Issuer="CN=Microsoft Exchange Server Auth Certificate",
        Subject="CN=Microsoft Exchange Server Auth Certificate",
        RootCAType="None",
        Services="SMTP",
        SerialNumber="6E5D4C3B2A1908F7",
        Thumbprint="4CE834243B37D27F29379287D3DED6294935EB2D",
        NotAfter="5/1/2030 2:00:00 PM",
        NotBefore="5/1/2025 2:00:00 PM",
    )
    record.update(overrides)
    return record


@pytest.fixture
def estate(tmp_path: Path):
    """Write server folders of Format-List text: estate({'excas1': [record, ...], ...}) -> folder."""

    def write(servers: dict[str, list[dict[str, str]]], *, encoding: str = "utf-8") -> Path:
        for server, records in servers.items():
            folder = tmp_path / "evidence" / server
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "Get-ExchangeCertificate.txt").write_text(format_list(*records), encoding=encoding)
        return tmp_path / "evidence"

    return write


def judge(*paths: Path | str, now: str = "2029-06-01T00:00:00"):
    """Load evidence and run every check; returns (outcomes by id, findings)."""
    from datetime import datetime

    from hybridtls.checks import CheckContext, run_checks
    from hybridtls.evidence.loader import load_evidence

    evidence = load_evidence([str(p) for p in paths])
    outcomes = run_checks(evidence, CheckContext(now=datetime.fromisoformat(now)))
    return {o.check_id: o for o in outcomes}, [f for o in outcomes for f in o.findings]


def triples(findings, prefix: str = "HT-") -> set[tuple[str, str | None, str]]:
    """(check id, server, severity) of each finding whose id starts with prefix."""
    return {(f.check_id, f.server, f.severity.value) for f in findings if f.check_id.startswith(prefix)}


def check_findings(*argv: str, now: str = "2016-02-20") -> set[tuple[str, str | None]]:
    """``hybridtls check ARGV`` as JSON, which must find something: its (check id, server) pairs."""
    run = run_cli("check", *argv, "--format", "json", "--now", now)
    assert run.code == 1, run.err
    return {(f["check_id"], f["server"]) for f in json.loads(run.out)["findings"]}
