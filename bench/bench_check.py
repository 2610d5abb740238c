"""Time `hybridtls check` on a generated large estate, and the start-up, beside the interpreter's own floor.

Estate: 50 servers x 3 certificates (public hybrid certificate, the server's self-signed one, the Auth certificate)
saved as Windows PowerShell does (UTF-16 LE with BOM, CRLF), 10,000 message-trace rows; two servers carry the
founding fault. Prints figures; asserts nothing. Usage: python bench/bench_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import codecs
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

SERVERS = 50
TRACE_ROWS = 10_000


def _fl(records: list[dict[str, str]]) -> str:
    blocks = []
    for record in records:
        width = max(map(len, record))
        blocks.append("\r\n".join(f"{k.ljust(width)} : {v}" for k, v in record.items()))
    return "\r\n\r\n" + "\r\n\r\n\r\n".join(blocks) + "\r\n\r\n"


def _write_utf16(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


def build_estate(root: Path) -> None:
    public_thumb = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
    for n in range(SERVERS):
        server = f"EX{n:03d}"
        records = [
            {"Identity": f"{server}.contoso.com\\{public_thumb}", "Thumbprint": public_thumb,
             "Subject": "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US",
             "Issuer": "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US",
             "CertificateDomains": "{mail.contoso.com, autodiscover.contoso.com}", "HasPrivateKey": "True",
             "IsSelfSigned": "False", "NotAfter": "3/14/2027 11:59:59 PM", "NotBefore": "3/15/2026 12:00:00 AM",
             "PublicKeySize": "2048", "RootCAType": "Registry" if n in (7, 31) else "ThirdParty",
             "SerialNumber": "0A1B2C3D4E5F60718293A4B5C6D7E8F9", "Services": "IMAP, POP, IIS, SMTP", "Status": "Valid"},
            {"Identity": f"{server}.contoso.com\\{n:040X}", "Thumbprint": f"{n:040X}", "Subject": f"CN={server}",
             "Issuer": f"CN={server}", "CertificateDomains": f"{{{server}, {server}.contoso.com}}",
             "HasPrivateKey": "True", "IsSelfSigned": "True", "NotAfter": "1/1/2031 10:00:00 AM",
             "NotBefore": "1/1/2026 10:00:00 AM", "PublicKeySize": "2048", "RootCAType": "Registry",
             "SerialNumber": f"{n + 4096:X}", "Services": "IMAP, POP, IIS, SMTP", "Status": "Valid"},
            {"Identity": f"{server}.contoso.com\\4CE834243B37D27F29379287D3DED6294935EB2D",
             "Thumbprint": "4CE834243B37D27F29379287D3DED6294935EB2D",
             "Subject": "CN=Microsoft Exchange Server Auth Certificate",
             "Issuer": "CN=Microsoft Exchange Server Auth Certificate", "CertificateDomains": "{}",
             "HasPrivateKey": "True", "IsSelfSigned": "True", "NotAfter": "5/1/2030 2:00:00 PM",
             "NotBefore": "5/1/2025 2:00:00 PM", "PublicKeySize": "2048", "RootCAType": "None",
             "SerialNumber": "6E5D4C3B2A1908F7", "Services": "SMTP", "Status": "Valid"},
        ]
        _write_utf16(root / server / "Get-ExchangeCertificate.txt", _fl(records))
    start = datetime(2026, 3, 20, 8, 0)
    rows = []
    for i in range(TRACE_ROWS):
        received = start + timedelta(seconds=37 * i)
        rows.append({
            "Received": f"{received.month}/{received.day}/{received.year} {received.hour % 12 or 12}:"
                        f"{received:%M:%S} {'PM' if received.hour >= 12 else 'AM'}",
            "SenderAddress": f"user{i % 400}@contoso.com", "RecipientAddress": f"person{i % 900}@contoso.com",
            "Subject": f"Weekly report {i}", "Status": "Pending" if i % 5 == 0 else "Delivered",
            "MessageId": f"<{i:08X}@AM0PR01MB1234.eurprd01.prod.outlook.com>",
            "MessageTraceId": f"d33e3c2f-5473-4b32-32ee-{i:012x}", "Size": str(1000 + i), "FromIP": "", "ToIP": "",
        })
    _write_utf16(root / "exchange-online" / "Get-MessageTrace.txt", _fl(rows))


def _time(argv: list[str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    exe = shutil.which("hybridtls")
    command = [exe] if exe else [sys.executable, "-m", "hybridtls"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "estate"
        build_estate(root)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        print(f"estate: {SERVERS} servers x 3 certificates, {TRACE_ROWS} trace rows, UTF-16, {size / 1e6:.1f} MB")
        figures = [
            ("python3 -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
            ("python3 -c 'import rich.console' (rich import)", [sys.executable, "-c", "import rich.console"]),
            ("hybridtls --help (start-up)", [*command, "--help"]),
            ("hybridtls check estate --format json", [*command, "check", str(root), "--format", "json", "--now", "2026-04-01"]),
            ("hybridtls check estate (terminal)", [*command, "check", str(root), "--now", "2026-04-01"]),
        ]
        floor = None
        print(f"{'what':48} {'median':>9} {'best':>9} {'x floor':>8}")
        for label, argv in figures:
            median, best = _time(argv, args.runs)
            floor = floor or median
            print(f"{label:48} {median * 1000:8.0f}ms {best * 1000:8.0f}ms {median / floor:8.1f}")
        sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
        from hybridtls.checks import CheckContext, run_checks
        from hybridtls.evidence.loader import load_evidence

        started = time.perf_counter()
        evidence = load_evidence([str(root)])
        loaded = time.perf_counter()
        outcomes = run_checks(evidence, CheckContext(now=datetime(2026, 4, 1)))
        checked = time.perf_counter()
        findings = sum(len(o.findings) for o in outcomes)
        print(f"in process: read {len(evidence.certificates)} certificates + {len(evidence.trace_entries)} trace rows "
              f"in {(loaded - started) * 1000:.0f}ms, ran checks in {(checked - loaded) * 1000:.0f}ms "
              f"({findings} findings)")


if __name__ == "__main__":
    main()
