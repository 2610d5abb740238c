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


class FakeHistory:
    """alert_sent / mark_sent as History keeps them."""

    def __init__(self) -> None:
        self.sent: dict[str, tuple[datetime, str]] = {}

    def alert_sent(self, key: str) -> tuple[datetime, str] | None:
        return self.sent.get(key)

    def mark_sent(self, item: Alert, at: datetime) -> None:
        self.sent[item.dedupe_key] = (at, item.state)


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
    assert FIX in texts
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Address"] == "mx.contoso.test[127.0.0.2]:25" and facts["Now: thumbprint"] == "BB" * 20


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


def test_an_alert_is_sent_once_then_again_on_change_or_after_renotify() -> None:
    events: list[Event] = []
    with Receiver() as receiver:
        dispatcher = Dispatcher(FakeHistory(), [WebhookSink(receiver.url)], events.append,  # type: ignore[arg-type]
                                renotify=timedelta(hours=1))
        assert _dispatch(dispatcher, [alert()], AT) == 1
        assert _dispatch(dispatcher, [alert(round_number=8)], AT + timedelta(minutes=5)) == 0
        assert _dispatch(dispatcher, [alert(after=(("thumbprint", "CC" * 20),))], AT + timedelta(minutes=10)) == 1
        assert _dispatch(dispatcher, [alert(after=(("thumbprint", "CC" * 20),))], AT + timedelta(minutes=20)) == 0
        assert _dispatch(dispatcher, [alert(after=(("thumbprint", "CC" * 20),))], AT + timedelta(hours=2)) == 1
        assert len(receiver.bodies) == 3
    kinds = [e.kind for e in events]
    assert kinds.count("alert") == 3 and kinds.count("alert_repeat") == 2 and kinds.count("alert_sent") == 3


def test_a_failed_delivery_is_logged_and_tried_again_next_time() -> None:
    events: list[Event] = []
    history = FakeHistory()
    dispatcher = Dispatcher(history, [WebhookSink("http://127.0.0.1:9/hook", timeout=2)], events.append)  # type: ignore[arg-type]
    assert _dispatch(dispatcher, [alert()], AT) == 0
    assert [e.kind for e in events] == ["alert", "sink_failed"]
    assert history.sent == {}
    assert dispatcher.due(alert(), AT)


def test_with_no_sink_the_log_is_the_delivery() -> None:
    events: list[Event] = []
    history = FakeHistory()
    assert _dispatch(Dispatcher(history, [], events.append), [alert()], AT) == 1  # type: ignore[arg-type]
    assert [e.kind for e in events] == ["alert"] and alert().dedupe_key in history.sent


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
