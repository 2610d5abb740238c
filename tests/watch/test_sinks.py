"""Alert delivery: the webhook bodies (JSON, Teams, Slack), the command sink, the log line, and deduplication."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webhook import Receiver

from hybridtls.errors import UsageError
from hybridtls.model import Severity
from hybridtls.report.markdown import text as markdown_text
from hybridtls.watch.history import History
from hybridtls.watch.log import Event, line
from hybridtls.watch.model import Alert, AlertKind
from hybridtls.watch.sinks import (
    SCHEMA,
    CommandSink,
    Dispatcher,
    SinkFailed,
    WebhookSink,
    alert_document,
    slack_body,
    teams_body,
)

AT = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
FIX = "Set-ReceiveConnector -Identity 'EXCAS1\\Default Frontend EXCAS1' -TlsCertificateName '<I>CN=CA<S>CN=mail'"


def alert(**changes: object) -> Alert:
    values: dict[str, object] = dict(
        kind=AlertKind.CERTIFICATE_CHANGED, severity=Severity.WARNING, label="mx.contoso.test[127.0.0.2]:25",
        host="mx.contoso.test", address="127.0.0.2", port=25,
        summary="the certificate served on mx.contoso.test[127.0.0.2]:25 changed",
        before=(("thumbprint", "AA" * 20), ("issuer", "CN=Old CA")), after=(("thumbprint", "BB" * 20),),
        fix=FIX, finding_key=None, round_number=7, raised_at=AT)
    values.update(changes)
    return Alert(**values)  # type: ignore[arg-type]


def test_the_json_body_carries_every_documented_key() -> None:
    body = alert_document(alert())
    assert body == {
        "schema": SCHEMA, "kind": "certificate_changed", "severity": "warning",
        "address": "mx.contoso.test[127.0.0.2]:25", "host": "mx.contoso.test", "ip": "127.0.0.2", "port": 25,
        "summary": "the certificate served on mx.contoso.test[127.0.0.2]:25 changed",
        "before": {"thumbprint": "AA" * 20, "issuer": "CN=Old CA"}, "after": {"thumbprint": "BB" * 20},
        "fix": FIX, "finding_key": None, "round": 7, "time": "2026-11-30T10:00:00Z"}


def test_the_documented_body_is_the_one_in_docs() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "watch.md").read_text(encoding="utf-8")
    for key in alert_document(alert()):
        assert f'"{key}"' in docs, key


def test_teams_body_is_an_adaptive_card_with_the_fix() -> None:
    body = teams_body(alert())
    card = body["attachments"][0]["content"]
    assert body["type"] == "message" and card["type"] == "AdaptiveCard"
    texts = [block.get("text") for block in card["body"]]
    assert markdown_text(FIX) in texts and "EXCAS1\\\\Default" in markdown_text(FIX)  # renders as typed
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Address"] == "mx.contoso.test\\[127.0.0.2\\]:25" and facts["Now: thumbprint"] == "BB" * 20


def test_slack_body_escapes_its_control_characters_and_fences_the_fix() -> None:
    hostile = alert(summary="<!channel> & <https://evil.example|click>", fix="Get-X\n```\n<@U123>")
    body = slack_body(hostile)
    text = json.dumps(body)
    assert "<!channel>" not in text and "<@U123>" not in text and "&lt;!channel&gt; &amp;" in text
    fenced = body["blocks"][-1]["text"]["text"]
    assert fenced.startswith("```") and fenced.endswith("```") and fenced[3:-3].count("```") == 0


def test_untrusted_text_is_inert_in_every_shown_body() -> None:
    """Teams and Slack show the text: nothing live in it. The JSON body keeps the values as read (a machine reads
    it, and JSON escapes control characters itself), as the JSON report does."""
    hostile = alert(summary="changed\u202e\x1b[31m\nFORGED: all clear", after=(("subject", "CN=a\x07b"),))
    for body in (teams_body(hostile), slack_body(hostile)):
        text = json.dumps(body, ensure_ascii=False)
        assert "\u202e" not in text and "\x1b" not in text and "\x07" not in text
        assert "\\u202e" in text
    assert alert_document(hostile)["summary"] == hostile.summary


def test_the_webhook_posts_the_chosen_body() -> None:
    with Receiver() as receiver:
        for fmt in ("json", "teams", "slack"):
            result = asyncio.run(WebhookSink(receiver.url, fmt).deliver(alert()))
            assert result.startswith("HTTP 200")
        assert receiver.bodies[0]["kind"] == "certificate_changed"
        assert receiver.bodies[1]["type"] == "message"
        assert "blocks" in receiver.bodies[2]
        assert receiver.headers[0]["Content-Type"].startswith("application/json")


def test_a_failing_webhook_says_why_in_one_line() -> None:
    with Receiver(status=500, answer=b"boom\n" * 100_000) as receiver:
        with pytest.raises(SinkFailed, match=r"HTTP 500") as caught:
            asyncio.run(WebhookSink(receiver.url).deliver(alert()))
    assert len(str(caught.value)) < 400


def test_an_unreachable_webhook_fails_within_its_timeout() -> None:
    with pytest.raises(SinkFailed, match="URLError|refused"):
        asyncio.run(WebhookSink("http://127.0.0.1:9/hook", timeout=2).deliver(alert()))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/", "mx.contoso.test"])
def test_only_http_webhooks_are_taken(url: str) -> None:
    with pytest.raises(UsageError, match="not an http"):
        WebhookSink(url)


def test_the_command_gets_the_alert_as_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "alert with space.json"
    script = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_bytes(sys.stdin.buffer.read())"
    sink = CommandSink(f"{sys.executable} -c '{script}' '{out}'")
    assert asyncio.run(sink.deliver(alert())) == "exit 0"
    assert json.loads(out.read_text(encoding="utf-8")) == alert_document(alert())


def test_the_command_runs_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    sink = CommandSink(f"{sys.executable} -c 'import sys; sys.stdin.read()' ; touch {marker}")
    asyncio.run(sink.deliver(alert()))
    assert not marker.exists()


def test_a_failing_or_hanging_command_is_reported() -> None:
    with pytest.raises(SinkFailed, match="status 3"):
        asyncio.run(CommandSink(f"{sys.executable} -c 'import sys; sys.exit(3)'").deliver(alert()))
    with pytest.raises(SinkFailed, match="did not finish"):
        asyncio.run(CommandSink(f"{sys.executable} -c 'import time; time.sleep(30)'", timeout=0.5).deliver(alert()))
    with pytest.raises(SinkFailed, match="cannot run"):
        asyncio.run(CommandSink("/nonexistent/notify").deliver(alert()))


@pytest.mark.parametrize("command", ["", "   ", "notify 'unclosed"])
def test_a_bad_command_is_a_usage_error(command: str) -> None:
    with pytest.raises(UsageError):
        CommandSink(command)


def _dispatch(dispatcher: Dispatcher, alerts: list[Alert], now: datetime) -> int:
    return asyncio.run(dispatcher.dispatch(alerts, now))


def test_a_fault_that_comes_back_is_alerted_again(tmp_path: Path) -> None:
    """ok -> timeout -> ok -> timeout: each outage and each recovery is an event of its round, delivered."""
    events: list[Event] = []
    down = dict(kind=AlertKind.UNREACHABLE, after=(("outcome", "timeout"),), finding_key="HT-WIRE-001|a")
    up = dict(kind=AlertKind.RECOVERED, after=(("outcome", "ok"),), finding_key="HT-WIRE-001|a")
    with Receiver() as receiver, History.open(tmp_path / "w.db") as history:
        dispatcher = Dispatcher(history, [WebhookSink(receiver.url)], events.append)
        for number, change in enumerate((down, up, down, up), start=2):
            assert _dispatch(dispatcher, [alert(round_number=number, **change)], AT + timedelta(minutes=number)) == 1
        assert [(b["kind"], b["round"]) for b in receiver.bodies] == [
            ("unreachable", 2), ("recovered", 3), ("unreachable", 4), ("recovered", 5)]
    assert [e.kind for e in events].count("alert_repeat") == 0


def test_the_same_event_is_never_delivered_twice(tmp_path: Path) -> None:
    """The same round's alert again (the round probed again after a crash) is already sent, for each sink."""
    events: list[Event] = []
    with Receiver() as receiver, History.open(tmp_path / "w.db") as history:
        dispatcher = Dispatcher(history, [WebhookSink(receiver.url)], events.append)
        assert _dispatch(dispatcher, [alert()], AT) == 1
        assert _dispatch(Dispatcher(history, [WebhookSink(receiver.url)], events.append), [alert()], AT) == 0
        assert len(receiver.bodies) == 1
    assert [e.kind for e in events] == ["alert", "alert_sent", "alert_repeat"]


def test_a_failed_delivery_waits_in_the_outbox_and_is_retried_for_that_sink_only(tmp_path: Path) -> None:
    events: list[Event] = []
    out = tmp_path / "taken.jsonl"
    script = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read())"
    command = CommandSink(f"{sys.executable} -c \"{script}\" '{out}'")
    with Receiver(status=500) as failing, History.open(tmp_path / "w.db") as history:
        dispatcher = Dispatcher(history, [WebhookSink(failing.url), command], events.append)
        assert _dispatch(dispatcher, [alert()], AT) == 1  # the command took it
        assert len(failing.bodies) == 1 and len(out.read_text().splitlines()) == 1
        assert [sink for _, sink, _, _ in history.waiting()] == [WebhookSink(failing.url).ident]
        failing.status = 200
        assert asyncio.run(dispatcher.retry(AT + timedelta(minutes=5))) == 1
        assert len(failing.bodies) == 2 and failing.bodies[1]["round"] == 7
        assert len(out.read_text().splitlines()) == 1, "the command is not given it again"
        assert history.waiting() == []
    assert "tried again next round" in next(e.message for e in events if e.kind == "sink_failed")


def test_the_outbox_gives_up_after_a_day_and_says_so(tmp_path: Path) -> None:
    events: list[Event] = []
    with History.open(tmp_path / "w.db") as history:
        dispatcher = Dispatcher(history, [WebhookSink("http://127.0.0.1:9/hook", timeout=2)], events.append)
        assert _dispatch(dispatcher, [alert()], AT) == 0
        assert asyncio.run(dispatcher.retry(AT + timedelta(hours=1))) == 0
        assert [tries for _, _, _, tries in history.waiting()] == [2]
        asyncio.run(dispatcher.retry(AT + timedelta(hours=25)))
        assert history.waiting() == []
    [dropped] = [e for e in events if e.kind == "alert_dropped"]
    assert "given up" in dropped.message and "2 tries" in dropped.message


def test_with_no_sink_the_log_is_the_delivery(tmp_path: Path) -> None:
    events: list[Event] = []
    with History.open(tmp_path / "w.db") as history:
        assert _dispatch(Dispatcher(history, [], events.append), [alert()], AT) == 1
        assert [e.kind for e in events] == ["alert"] and history.delivered(alert(), "log")
        assert history.waiting() == []


def test_a_log_line_is_one_line_of_key_value_pairs() -> None:
    event = Event(kind="alert", message='changed "here"\nFORGED line', at=AT,
                  fields=(("address", "mx[127.0.0.2]:25"), ("kind", "certificate_changed")))
    text = line(event)
    assert "\n" not in text
    assert text == ('2026-11-30T10:00:00Z event=alert address=mx[127.0.0.2]:25 kind=certificate_changed '
                    'msg="changed \\"here\\"\\\\nFORGED line"')


@given(st.text(max_size=200), st.text(max_size=50))
def test_any_value_stays_on_its_line_and_reads_back(message: str, value: str) -> None:
    text = line(Event(kind="notice", message=message, fields=(("k", value),)))
    assert "\n" not in text and "\r" not in text and "\u2028" not in text
    assert text.startswith("event=notice k=")


class Trickle:
    """A webhook on 127.0.0.1 that answers with headers, then a byte every half second for two minutes: each
    read gets a byte well within a per-read timeout of a second, so only an overall deadline stops it."""

    def __init__(self) -> None:
        import socket
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"

    def _serve(self) -> None:
        import threading

        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn) -> None:  # type: ignore[no-untyped-def]
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 240\r\n\r\n")
                for _ in range(240):
                    if self.stopped.wait(0.5):
                        return
                    conn.sendall(b".")
            except OSError:
                return

    def __enter__(self) -> Trickle:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.listener.close()


def test_a_trickling_webhook_is_abandoned_at_its_deadline_and_the_process_exits(tmp_path: Path) -> None:
    """A whole ``watch --once`` whose webhook answers a byte a second: the delivery is abandoned after
    --alert-timeout, the round is recorded and the process exits (the subprocess timeout is only a guard: the
    trickle lasts two minutes, an unbounded delivery outlives it)."""
    import os
    import socket
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    with Trickle() as server:
        run = subprocess.run([sys.executable, "-m", "hybridtls", "watch", f"127.0.0.1:{port}", "--once",
                              "--db", str(tmp_path / "w.sqlite"), "--alert-webhook", server.url,
                              "--alert-timeout", "1", "--timeout", "2"],
                             capture_output=True, text=True, env=env, timeout=100)
    assert "event=sink_failed" in run.stdout and "abandoned" in run.stdout, run.stdout + run.stderr
    assert "event=round" in run.stdout and run.returncode == 3  # every probe failed: the round ran to its end
    with History.open(tmp_path / "w.sqlite") as history:
        assert [r.number for r in history.rounds()] == [1] and len(history.waiting()) >= 1


def test_markdown_in_a_certificate_subject_is_not_a_link_in_teams() -> None:
    hostile = "CN=[Renew now](https://evil.example) **urgent** <b>x</b>"
    body = teams_body(alert(summary=f"serves {hostile}", after=(("subject", hostile),)))
    card = body["attachments"][0]["content"]
    shown = [card["body"][0]["text"], *(f["value"] for f in card["body"][1]["facts"])]
    import re

    live = re.compile(r"(?<!\\)(\[Renew|\*\*urgent|<b>)")  # a bracket, a star or a tag no backslash makes inert
    assert live.search(hostile)
    for text in shown:
        assert not live.search(text), text
    assert "\\[Renew now\\](https://evil.example)" in card["body"][0]["text"]
    fix = teams_body(alert(fix=f"# {hostile}\nGet-ExchangeCertificate | Where Subject -eq '{hostile}'"))
    [shown_fix] = [b["text"] for b in fix["attachments"][0]["content"]["body"] if b.get("fontType") == "Monospace"]
    assert not live.search(shown_fix) and len(shown_fix.splitlines()) == 2, shown_fix


def test_slack_sections_are_cut_to_3000_characters_and_say_so() -> None:
    long = alert(after=tuple((f"name{i}", "<&>" * 200) for i in range(20)), fix="Get-X " + "y" * 5000)
    body = slack_body(long)
    for block in body["blocks"]:
        assert len(block["text"]["text"]) <= 3000
    changes, fix = body["blocks"][1]["text"]["text"], body["blocks"][2]["text"]["text"]
    assert "cut:" in changes and "cut:" in fix
    assert fix.startswith("```") and fix.split("\n…")[0].endswith("```")
    kept = changes.split("\n…")[0]
    assert not kept.rstrip("&amp;lgt")[-1:] == "&" and kept.count("&") == kept.count(";")  # no half escape
    assert "cut:" not in slack_body(alert())["blocks"][1]["text"]["text"]


def test_a_round_shares_one_budget_for_its_alerts_and_what_is_left_waits(tmp_path: Path) -> None:
    """Ten alerts to a command that never ends, a 1 s budget for the round: the round goes on after the budget,
    not after ten timeouts, and every alert is in the outbox (the guard is the command's 60 s timeout)."""
    events: list[Event] = []
    hanging = CommandSink(f"{sys.executable} -c 'import time; time.sleep(60)'", timeout=60)

    async def main(history: History) -> int:
        dispatcher = Dispatcher(history, [hanging], events.append, budget=1.0)
        dispatcher.start_round()
        return await dispatcher.dispatch([alert(round_number=n) for n in range(10)], AT)

    with History.open(tmp_path / "w.db") as history:
        assert asyncio.run(main(history)) == 0
        assert sorted(a.round_number for a, _, _, _ in history.waiting()) == list(range(10))
    assert sum(1 for e in events if e.kind == "sink_failed" and "not done within" in e.message) == 10
