"""Long runs show progress on a terminal: the application reports each address or file as it starts and finishes
(a callback, never printing), the command line draws a rich bar on a terminal's stderr, and nothing at all when
stderr is not a terminal."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from conftest import CASES, certificate, format_list
from hypothesis import given
from hypothesis import strategies as st
from processes import GUARD, SilentServer, Terminal, closed_port, start

from hybridtls.cli.progress import MAX_ITEM, InFlight, waiting_words
from hybridtls.model import ProgressEvent, ProgressKind
from hybridtls.pipeline import ProbeOptions, judge_evidence, probe_and_judge


def test_check_reports_each_file_as_it_is_read(tmp_path: Path) -> None:
    for server in ("ex1", "ex2", "ex3"):
        (tmp_path / server).mkdir()
        (tmp_path / server / "certs.txt").write_text(format_list(certificate()))
    events: list[ProgressEvent] = []
    judge_evidence([str(tmp_path)], progress=events.append)
    files = [str(tmp_path / server / "certs.txt") for server in ("ex1", "ex2", "ex3")]
    assert events == [ProgressEvent(kind=ProgressKind.TOTAL, unit="files", count=3),
                      *[ProgressEvent(kind=kind, unit="files", item=file) for file in files
                        for kind in (ProgressKind.STARTED, ProgressKind.FINISHED)]]


def test_probe_reports_each_address_as_it_starts_and_finishes() -> None:
    ports = [closed_port(), closed_port()]
    events: list[ProgressEvent] = []
    report = probe_and_judge([f"127.0.0.1:{port}" for port in ports], options=ProbeOptions(timeout=5, sweep=False),
                             progress=events.append)
    labels = {f"127.0.0.1:{port}" for port in ports}
    assert events[0] == ProgressEvent(kind=ProgressKind.TOTAL, unit="addresses", count=2)
    assert {e.item for e in events[1:]} == labels and len(events) == 5
    for label in labels:  # each started before it finished, once each
        kinds = [e.kind for e in events if e.item == label]
        assert kinds == [ProgressKind.STARTED, ProgressKind.FINISHED]
    assert {p.label for p in report.evidence.probes} == labels and report.partial is None


def test_nothing_is_written_to_a_stderr_that_is_not_a_terminal() -> None:
    check = start("check", "founding-incident", "--now", "2016-02-20", cwd=CASES, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    out, err = check.communicate(timeout=GUARD)
    assert err == b"" and b"FAIL" in out
    probe = start("probe", f"127.0.0.1:{closed_port()}", "--timeout", "5", "--no-sweep", stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    out, err = probe.communicate(timeout=GUARD)
    assert err == b"" and b"refused" in out and probe.returncode == 3


def test_a_silent_address_is_named_on_the_terminal_while_the_probe_waits() -> None:
    terminal = Terminal(columns=100)
    with SilentServer() as server:
        process = start("probe", f"127.0.0.1:{server.port}", "--timeout", "60", "--no-sweep",
                        stdout=subprocess.PIPE, stderr=terminal.slave)
        terminal.start_reading()
        shown = terminal.wait_for(f"waiting on 127.0.0.1:{server.port} for ".encode())
        process.send_signal(signal.SIGINT)
        out = process.communicate(timeout=GUARD)[0].decode()
    seen = terminal.finish().decode(errors="replace")
    assert b"addresses probed" in shown and b"0/1" in shown
    assert process.returncode == 130 and "partial: interrupted after 0 of 1 addresses" in out
    assert "\x1b[" not in out  # the report on the pipe stays plain; the bar went to the terminal
    assert "interrupted: the report covers 0 of 1 addresses" in seen


def test_the_address_in_flight_longest_is_the_one_named() -> None:
    now = [100.0]
    in_flight = InFlight(clock=lambda: now[0])
    assert in_flight.longest() is None and waiting_words(None, "waiting on") == ""
    in_flight.start("a:25")
    now[0] = 103.0
    in_flight.start("b:25")
    now[0] = 115.4
    assert in_flight.longest() == ("a:25", 115.4 - 100.0)
    assert waiting_words(in_flight.longest(), "waiting on") == "waiting on a:25 for 15 s"
    in_flight.finish("a:25")
    assert waiting_words(in_flight.longest(), "waiting on") == "waiting on b:25 for 12 s"
    in_flight.finish("b:25")
    in_flight.finish("never-started")  # harmless
    assert in_flight.longest() is None


@given(st.text(max_size=300))
def test_the_item_beside_the_bar_is_inert_and_bounded(item: str) -> None:
    words = waiting_words((item, 3.0), "reading")
    shown = words.removeprefix("reading ").removesuffix(" for 3 s")
    assert len(shown) <= MAX_ITEM
    assert not any(ch in shown for ch in "\x1b\n\r\x07\u202e")


def test_the_bar_steps_aside_for_a_pfx_password_prompt(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from factory import issue, name, rsa_key

    leaf = issue(name("mail.contoso.com"), dns=("mail.contoso.com",), key=rsa_key(slot=3))
    (tmp_path / "ex1").mkdir()
    (tmp_path / "ex1" / "certs.txt").write_text(format_list(certificate()))
    (tmp_path / "ex1" / "new.pfx").write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", leaf.key, leaf.cert, None, BestAvailableEncryption(b"pw")))
    terminal = Terminal()
    process = start("check", str(tmp_path), "--format", "json", stdin=terminal.slave, stderr=terminal.slave,
                    stdout=subprocess.PIPE, controlling=terminal)
    terminal.start_reading()
    before = terminal.wait_for(b"new.pfx: ")
    bar, prompt = before.split(b"Password for ")
    assert b"files read" in bar  # the bar was up...
    assert bar.endswith(b"\x1b[?25h") or b"\x1b[?25h" in bar[bar.rindex(b"files read"):]  # ...then stopped (cursor back)
    assert prompt.endswith(b"new.pfx: ") and b"\x1b" not in prompt  # the prompt alone on its line
    terminal.type(b"pw\n")
    out = process.communicate(timeout=GUARD)[0].decode()
    terminal.finish()
    assert process.returncode in (0, 1)
    assert '"thumbprint"' in out and "new.pfx" in out and "could not be read" not in out
