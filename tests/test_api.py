"""The Python API: what the README promises a script can do, and the same verdicts the command line reaches."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CASES, run_cli
from factory import issue, name, rsa_key

import hybridtls

ROOT = Path(__file__).parent.parent


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert hybridtls.__all__ == sorted(hybridtls.__all__)
    for attribute in hybridtls.__all__:
        assert getattr(hybridtls, attribute) is not None
    with pytest.raises(AttributeError):
        hybridtls.NoSuchThing  # noqa: B018


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    code = ("import sys; before = set(sys.modules); import hybridtls; "
            "heavy = ('cryptography', 'rich', 'jinja2', 'dns', 'OpenSSL', 'certifi', 'hybridtls.model'); "
            "print(sorted(m for m in set(sys.modules) - before if m.startswith(heavy)))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "[]"


def test_check_returns_the_records_read_and_the_verdict() -> None:
    report = hybridtls.check(CASES / "founding-incident", now=__import__("datetime").datetime(2016, 2, 20))
    roots = {(c.server.name, c.root_ca_type.value) for c in report.evidence.certificates if c.server and c.root_ca_type}
    assert roots == {("excas1", "Registry"), ("exmbx1", "ThirdParty")}
    assert report.verdict == "fail" and report.failed
    assert report.findings[0].check_id == "HT-ROOT-001" and report.findings[0].server == "excas1"
    assert {c.id for c in report.checks} >= {"HT-ROOT-001", "HT-TRACE-001"}
    document = json.loads(report.to_json())
    assert document["verdict"] == "fail" and document["command"] == "check"
    assert "HT-ROOT-001" in report.to_markdown() and "<!DOCTYPE html>" in report.to_html()


def test_the_readme_inventory_script_lists_every_server_and_root_type() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "inventory.py"), str(CASES / "founding-incident")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:2] == ["Server", "Thumbprint"]
    assert lines[1].split()[:3] == ["excas1", "172FF4C1A3B4D13282A17C8080C1E552475CD4CB", "Registry"]
    assert lines[2].split()[:3] == ["exmbx1", "172FF4C1A3B4D13282A17C8080C1E552475CD4CB", "ThirdParty"]
    assert any(line.split()[:2] == ["error", "HT-ROOT-001"] for line in lines)
    assert len((ROOT / "examples" / "inventory.py").read_text().splitlines()) <= 25
    assert "examples/inventory.py" in (ROOT / "README.md").read_text()


def _internal_pki(folder: Path) -> tuple[Path, Path, Path]:
    root = issue(name("Contoso Internal Root"), key=rsa_key(slot=6), ca=True)
    inter = issue(name("Contoso Issuing CA"), issuer=root, key=rsa_key(slot=7), ca=True)
    leaf = issue(name("mail.contoso.com"), issuer=inter, dns=("mail.contoso.com",))
    paths = folder / "root.pem", folder / "issuing.pem", folder / "mail.cer"
    for path, issued in zip(paths, (root, inter, leaf)):
        path.write_bytes(issued.pem if path.suffix == ".pem" else issued.der)
    return paths


def test_check_cert_and_plan_take_trust_and_intermediates(tmp_path: Path) -> None:
    root, issuing, leaf = _internal_pki(tmp_path)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "mail.cer").write_bytes(leaf.read_bytes())

    def ends(report: hybridtls.Report) -> set[str]:
        return {c.end.value for c in report.evidence.chains}

    assert ends(hybridtls.check(evidence)) == {"missing_issuer"}
    assert ends(hybridtls.check(evidence, intermediates=[issuing, root])) == {"untrusted_root"}
    trusted = hybridtls.check(evidence, intermediates=[issuing], trust=[root])
    assert ends(trusted) == {"trusted"} and not {f.check_id for f in trusted.findings} & {"HT-CHAIN-001", "HT-CHAIN-002"}
    assert trusted.evidence.trust is not None and trusted.evidence.trust.mozilla.startswith("certifi ")
    [anchor] = trusted.evidence.trust.anchors
    assert anchor.subject == "CN=Contoso Internal Root" and anchor.origin == f"--trust {root}"
    assert any("Contoso Internal Root" in n.message and anchor.sha256 in n.message for n in trusted.evidence.notices)
    assert ends(hybridtls.cert(leaf, intermediates=issuing, trust=root)) == {"trusted"}
    assert hybridtls.plan(leaf, [], intermediates=issuing, trust=root).plan.chain.end.value == "trusted"
    # the command line reaches the same verdicts
    run = run_cli("check", str(evidence), "--intermediates", str(issuing), "--trust", str(root), "--format", "json")
    assert {c["end"] for c in json.loads(run.out)["records"]["chains"]} == {"trusted"}


async def _greeting_without_starttls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 mx.contoso.test ESMTP\r\n")
    while line := await reader.readline():
        if line.upper().startswith(b"EHLO"):
            writer.write(b"250-mx.contoso.test\r\n250 SIZE 1000\r\n")
        elif line.upper().startswith(b"QUIT"):
            writer.write(b"221 bye\r\n")
            break
        await writer.drain()
    writer.close()


def test_probe_async_runs_inside_a_running_event_loop() -> None:
    async def scenario() -> hybridtls.Report:
        server = await asyncio.start_server(_greeting_without_starttls, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await hybridtls.probe_async(f"127.0.0.1:{port}", timeout=5, sweep=False, ehlo="probe.test")

    report = asyncio.run(scenario())
    [probe] = report.evidence.probes
    assert probe.outcome.value == "no_starttls" and probe.observed_at is not None
    assert {f.check_id for f in report.findings} == {"HT-WIRE-002"}
    assert report.command == "probe" and report.verdict == "fail"


def test_nothing_usable_is_an_error_the_api_can_catch(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here\n")
    with pytest.raises(hybridtls.UsageError, match="nothing usable"):
        hybridtls.check(tmp_path)
