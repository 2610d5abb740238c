"""``hybridtls watch`` on the command line: errors in one line, --once for cron, the log, the history view."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from conftest import run_cli

from hybridtls.cli.watch import default_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("argv", "said"), [
    ((), "nothing to watch"),
    (("mx.contoso.test", "--interval", "0m"), "--interval '0m' must be longer than zero"),
    (("mx.contoso.test", "--interval", "often"), "--interval 'often' is not a duration"),
    (("mx.contoso.test", "--keep", "1y"), "--keep '1y' is not a duration"),
    (("mx.contoso.test", "--since", "7d"), "--since is for 'hybridtls watch history'"),
    (("mx.contoso.test", "--alert-webhook", "file:///etc/passwd"), "is not an http:// or https:// URL"),
    (("mx.contoso.test", "--alert-command", "notify 'open"), "--alert-command"),
    (("mx.contoso.test", "--metrics", "9925"), "--metrics '9925' is not HOST:PORT"),
    (("mx.contoso.test", "--concurrency", "0"), "must be positive"),
    (("history", "--since", "last tuesday"), "neither a duration"),
    (("mx.contoso.test", "--keep", "1000000d"), "--keep '1000000d' is longer than 36500 days"),
    (("history", "--since", "1000000d"), "--since '1000000d' is longer than 36500 days"),
    (("mx.contoso.test", "--renotify", "99999999999h"), "is longer than 36500 days"),
    (("mx.contoso.test", "--alert-timeout", "inf"), "--alert-timeout inf is not between 0 and 120 seconds"),
    (("mx.contoso.test", "--alert-timeout", "0"), "--alert-timeout 0 is not between"),
])
def test_bad_usage_is_one_line_and_status_2(argv: tuple[str, ...], said: str, tmp_path: Path) -> None:
    run = run_cli("watch", *argv, "--db", str(tmp_path / "w.sqlite"))
    assert run.code == 2 and said in run.err, run.err
    assert "Traceback" not in run.err and run.err.startswith("hybridtls: error: ")


def test_a_target_swallowed_by_from_is_explained(tmp_path: Path) -> None:
    run = run_cli("watch", "--from", str(tmp_path), "mail.contoso.com", "--db", str(tmp_path / "w.sqlite"))
    assert run.code == 2 and "--from mail.contoso.com: no such file or folder" in run.err
    assert "put it after the targets" in run.err


def test_from_evidence_without_endpoints_names_what_was_read(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    run = run_cli("watch", "--from", str(tmp_path), "--db", str(tmp_path / "w.sqlite"))
    assert run.code == 2 and f"--from {tmp_path}: nothing usable was read" in run.err


def test_once_logs_the_targets_and_the_round_and_exits_3_when_nothing_answers(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    port = closed_port()
    run = run_cli("watch", f"127.0.0.1:{port}", "--once", "--db", str(db), "--timeout", "2", "--no-sweep")
    assert run.code == 3, run.err
    lines = run.out.splitlines()
    assert lines[0].endswith(f"event=target target=127.0.0.1:{port} msg=\"from argument\"")
    assert any(" event=round round=1 addresses=1 alerts=" in text for text in lines), run.out
    assert db.exists()
    again = run_cli("watch", f"127.0.0.1:{port}", "--once", "--db", str(db), "--timeout", "2", "--no-sweep")
    assert any(" event=round round=2 " in text for text in again.out.splitlines()), again.out


def test_the_default_history_is_in_the_state_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_db() == tmp_path / "state" / "hybridtls" / "watch.sqlite"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_db() == tmp_path / ".local" / "state" / "hybridtls" / "watch.sqlite"


def test_history_without_a_history_says_so(tmp_path: Path) -> None:
    run = run_cli("watch", "history", "--db", str(tmp_path / "none.sqlite"))
    assert run.code == 2 and "no history there yet" in run.err


def test_history_shows_the_rounds_in_each_format(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    port = closed_port()
    for _ in range(2):
        assert run_cli("watch", f"127.0.0.1:{port}", "--once", "--db", str(db), "--timeout", "2",
                       "--no-sweep").code == 3
    text = run_cli("watch", "history", "--db", str(db))
    assert text.code == 0 and f"127.0.0.1:{port}" in text.out, text.err
    document = run_cli("watch", "history", "--db", str(db), "--format", "json")
    assert document.code == 0
    json.loads(document.out)
    page = tmp_path / "timeline.html"
    html = run_cli("watch", "history", "--db", str(db), "--format", "html", "--output", str(page))
    assert html.code == 0 and html.out == "" and "<svg" in page.read_text(encoding="utf-8")
    assert run_cli("watch", "history", "extra", "--db", str(db)).code == 2
