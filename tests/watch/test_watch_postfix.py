"""``hybridtls watch`` end to end against two real Postfix nodes behind one name, on loopback ports 2701-2710.

A watch runs as its own process (``python -m hybridtls watch``) with a one-second interval. The test swaps one
node's certificate (a new key and serial, then the same certificate without its intermediate) with ``postfix
reload``, and reads what a person would get: the webhook's alert, naming the node and carrying the fix, within
two rounds; /metrics showing the new fingerprint; and a history that survives SIGKILL without a lost or doubled
round.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from factory import Issued, issue, name, public_like_pki, rsa_key
from postfix import POSTFIX, Postfix, Scenario, available
from prometheus_client.parser import text_string_to_metric_families
from webhook import Receiver

from hybridtls.watch.history import History

pytestmark = pytest.mark.skipif(not available() and not os.environ.get("CI"), reason="needs root and postfix")

PORT = 2701  # both nodes listen here, on 127.0.0.2 and 127.0.0.3
METRICS_PORT = 2702
NAME = "mx.contoso.test"
PKI = public_like_pki(leaf_dns=(NAME,))
SRC = str(Path(__file__).parents[2] / "src")


def chain_pem(leaf: Issued, *others: Issued) -> bytes:
    key = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return key + leaf.pem + b"".join(o.pem for o in others)


def sha256(issued: Issued) -> str:
    return issued.cert.fingerprint(hashes.SHA256()).hex()


class Node:
    def __init__(self, root: Path, label: str, address: str) -> None:
        self.postfix = Postfix(root, Scenario(f"watch-{label}", address, PORT, chain_pem(PKI.leaf, PKI.intermediate),
                                              hostname=NAME))

    def serve(self, pem: bytes) -> None:
        """Swap the certificate and reload: new smtpd processes present it."""
        chain = self.postfix.dir / "chain.pem"
        chain.write_bytes(pem)
        subprocess.run([POSTFIX, "-c", str(self.postfix.dir), "reload"], check=True, capture_output=True)


@pytest.fixture(scope="module")
def nodes() -> Iterator[tuple[Node, Node, Path]]:
    if not available():
        pytest.fail("postfix is required in CI: .ci/run installs Debian's postfix package")
    root = Path(tempfile.mkdtemp(prefix="hybridtls-watch-"))
    root.chmod(0o755)
    a, b = Node(root, "a", "127.0.0.2"), Node(root, "b", "127.0.0.3")
    try:
        for node in (a, b):
            node.postfix.start()
        for node in (a, b):
            node.postfix.wait_ready()
        trust = root / "root.pem"
        trust.write_bytes(PKI.root.pem)
        yield a, b, trust
    finally:
        for node in (a, b):
            node.postfix.stop()
        shutil.rmtree(root, ignore_errors=True)


class WatchProcess:
    """``python -m hybridtls watch`` in the background; its log lines collected as they come."""

    def __init__(self, *argv: str) -> None:
        env = {**os.environ, "PYTHONPATH": SRC}
        self.process = subprocess.Popen([sys.executable, "-m", "hybridtls", "watch", *argv], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            with self.changed:
                self.lines.append(text.rstrip("\n"))
                self.changed.notify_all()

    def rounds(self) -> list[int]:
        with self.changed:
            return [int(t.split(" round=")[1].split()[0]) for t in self.lines if " event=round " in t]

    def wait_rounds(self, count: int, timeout: float = 90.0) -> list[int]:
        """Wait until ``count`` more rounds than now are logged; the round numbers logged so far."""
        wanted = len(self.rounds()) + count
        with self.changed:
            self.changed.wait_for(lambda: len(self.rounds()) >= wanted or self.process.poll() is not None, timeout)
        found = self.rounds()
        assert len(found) >= wanted, self.failure()
        return found

    def failure(self) -> str:
        err = self.process.stderr.read() if self.process.poll() is not None and self.process.stderr else ""
        return "\n".join(self.lines[-30:]) + "\n" + err

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(60)
        self.reader.join(10)
        return code


def _metrics() -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10) as response:
        text = response.read().decode("utf-8")
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _fingerprints(address: str) -> set[str]:
    return {labels["fingerprint_sha256"] for labels, value in _metrics().get("probe_ssl_last_chain_info", [])
            if labels.get("address") == address and value == 1}


def test_a_swapped_certificate_is_alerted_with_the_fix_and_survives_a_kill(nodes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b, trust = nodes
    db = tmp_path / "watch.sqlite"
    argv = (f"{NAME}:{PORT}", "--resolve", f"{NAME}=127.0.0.2,127.0.0.3", "--interval", "1s", "--db", str(db),
            "--trust", str(trust), "--timeout", "5", "--no-sweep", "--ehlo", "watch.hybridtls.test")
    with Receiver() as receiver:
        watch = WatchProcess(*argv, "--alert-webhook", receiver.url, "--metrics", f"127.0.0.1:{METRICS_PORT}")
        try:
            watch.wait_rounds(2)
            assert _fingerprints("127.0.0.3") == {sha256(PKI.leaf)}
            assert receiver.bodies == [], "two nodes serving one good certificate raise nothing"

            # node b: a new key and serial, same names and issuer
            renewed = issue(name(NAME, "Contoso Ltd", "US"), issuer=PKI.intermediate, dns=(NAME,), key=rsa_key(slot=21))
            b.serve(chain_pem(renewed, PKI.intermediate))
            last = watch.rounds()[-1]
            changed = receiver.wait_for(lambda body: body["kind"] == "certificate_changed")
            assert changed is not None, watch.failure()
            assert changed["round"] <= last + 2
            assert changed["ip"] == "127.0.0.3" and changed["address"] == f"{NAME}[127.0.0.3]:{PORT}"
            assert dict(changed["after"])["sha256"] == sha256(renewed)
            assert dict(changed["before"])["sha256"] == sha256(PKI.leaf)
            assert "Get-ExchangeCertificate -Thumbprint" in changed["fix"]
            assert not any(body["ip"] == "127.0.0.2" and body["kind"] == "certificate_changed"
                           for body in receiver.bodies)
            odd = receiver.wait_for(lambda body: body["kind"] == "odd_node")
            assert odd is not None and "127.0.0.3" in odd["summary"] + odd["address"]
            watch.wait_rounds(1)
            assert _fingerprints("127.0.0.3") == {sha256(renewed)}
            assert _fingerprints("127.0.0.2") == {sha256(PKI.leaf)}

            # node b: the same certificate, its intermediate no longer sent
            b.serve(chain_pem(renewed))
            last = watch.rounds()[-1]
            dropped = receiver.wait_for(lambda body: body["kind"] == "intermediate_dropped")
            assert dropped is not None, watch.failure()
            assert dropped["round"] <= last + 2 and dropped["ip"] == "127.0.0.3"
            assert "Cert:\\LocalMachine\\CA" in dropped["fix"] or "Intermediate" in dropped["fix"]
            sent = len(receiver.bodies)
            watch.wait_rounds(2)
            repeated = [body for body in receiver.bodies[sent:] if body["kind"] in
                        ("certificate_changed", "intermediate_dropped")]
            assert repeated == [], "an alert already sent is not sent again while nothing changes"
        finally:
            assert watch.stop(signal.SIGKILL) == -signal.SIGKILL

    with History.open(db) as history:
        before = [r.number for r in history.rounds()]
    assert before == sorted(set(before)) and set(watch.rounds()) <= set(before), "every round logged is recorded"

    again = WatchProcess(*argv)
    try:
        logged = again.wait_rounds(2)
    finally:
        assert again.stop(signal.SIGTERM) == 0, again.failure()
    assert any(" event=stopping " in text for text in again.lines), again.failure()
    with History.open(db) as history:
        after = [r.number for r in history.rounds()]
    assert after[:len(before)] == before, "no round recorded before the kill is lost"
    assert after == sorted(set(after)), "no round is recorded twice"
    assert min(logged) > max(before) and set(logged) <= set(after)


def test_once_exits_like_probe(nodes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--once, for cron and CI: 0 when the node's chain is judged trusted, 1 when its root is not known."""
    _, _, trust = nodes
    argv = ["watch", "--once", f"127.0.0.2:{PORT}", "--expect-name", NAME, "--timeout", "5", "--no-sweep"]
    clean = subprocess.run([sys.executable, "-m", "hybridtls", *argv, "--trust", str(trust), "--db",
                            str(tmp_path / "a.sqlite")], env={**os.environ, "PYTHONPATH": SRC}, capture_output=True,
                           text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert " event=round round=1 " in clean.stdout and "1 of 1 addresses answered" in clean.stdout
    untrusted = subprocess.run([sys.executable, "-m", "hybridtls", *argv, "--db", str(tmp_path / "b.sqlite")],
                               env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True, timeout=120)
    assert untrusted.returncode == 1, untrusted.stdout + untrusted.stderr
    assert "kind=finding_new severity=error" in untrusted.stdout and "HT-CHAIN-001" in untrusted.stdout, untrusted.stdout.splitlines()[1]
