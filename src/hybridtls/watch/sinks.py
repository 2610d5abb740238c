"""Where alerts go: a webhook (JSON, Microsoft Teams or Slack bodies), a command, and the log.

Every delivery is bounded (a timeout; at most ``MAX_RESPONSE_BYTES`` of a webhook's answer read) and a failed
delivery is logged, never fatal. ``Dispatcher`` sends each alert once: again only when its state changes or
after ``--renotify``, remembered in the history so that a restart does not send it twice. docs/watch.md shows
the bodies.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from hybridtls.errors import UsageError
from hybridtls.report.escape import inert
from hybridtls.watch.log import Event, Logger

if TYPE_CHECKING:
    from hybridtls.watch.history import History
    from hybridtls.watch.model import Alert

SCHEMA = "hybridtls-watch-alert/1"
FORMATS = ("json", "teams", "slack")
MAX_RESPONSE_BYTES = 64 * 1024
DEFAULT_TIMEOUT = 10.0


class SinkFailed(Exception):
    """A delivery did not succeed; the message says why, on one line."""


class Sink(Protocol):
    name: str

    async def deliver(self, alert: Alert) -> str:
        """Deliver one alert; returns what happened (``HTTP 200``, ``exit 0``); SinkFailed when it did not."""
        ...


def alert_document(alert: Alert) -> dict[str, Any]:
    """The JSON body of an alert (the webhook's ``json`` format and the command's standard input)."""
    return {
        "schema": SCHEMA,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "address": alert.label,
        "host": alert.host,
        "ip": alert.address,
        "port": alert.port,
        "summary": alert.summary,
        "before": dict(alert.before),
        "after": dict(alert.after),
        "fix": alert.fix,
        "finding_key": alert.finding_key,
        "round": alert.round_number,
        "time": _iso(alert.raised_at),
    }


def teams_body(alert: Alert) -> dict[str, Any]:
    """A Microsoft Teams incoming webhook (Workflows) message: one Adaptive Card."""
    facts = [{"title": "Address", "value": _shown(alert.label)}, {"title": "Severity", "value": alert.severity.value},
             {"title": "Round", "value": str(alert.round_number)}, {"title": "Time", "value": _iso(alert.raised_at)}]
    facts += [{"title": f"Before: {key}", "value": _shown(value)} for key, value in alert.before]
    facts += [{"title": f"Now: {key}", "value": _shown(value)} for key, value in alert.after]
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _shown(alert.summary), "weight": "Bolder", "wrap": True},
        {"type": "FactSet", "facts": facts},
    ]
    if alert.fix:
        body += [{"type": "TextBlock", "text": "Fix", "weight": "Bolder"},
                 {"type": "TextBlock", "text": inert(alert.fix), "fontType": "Monospace", "wrap": True}]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack incoming webhook message: ``text`` for notifications, blocks for the details and the fix."""
    changes = [f"*{_slack(k)}*: {_slack(v)}" for k, v in alert.before] + \
              [f"*now {_slack(k)}*: {_slack(v)}" for k, v in alert.after]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack(alert.summary)}*\n"
                                     f"{_slack(alert.label)} · {alert.severity.value} · round {alert.round_number}"}},
    ]
    if changes:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(changes)[:2900]}})
    if alert.fix:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "```" + _slack(alert.fix, fenced=True)[:2800] + "```"}})
    return {"text": _slack(f"{alert.summary} ({alert.label})"), "blocks": blocks}


BODIES = {"json": alert_document, "teams": teams_body, "slack": slack_body}


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _shown(text: str) -> str:
    return inert(text, single_line=True)


def _slack(text: str, *, fenced: bool = False) -> str:
    """Slack's three control characters escaped; backticks broken so a value cannot close the fence."""
    shown = inert(text) if fenced else _shown(text)
    shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return shown.replace("```", "`\u200b``") if fenced else shown


@dataclass
class WebhookSink:
    """POST the alert to a URL (http or https), in the chosen body format."""

    url: str
    format: str = "json"
    timeout: float = DEFAULT_TIMEOUT
    name: str = "webhook"

    def __post_init__(self) -> None:
        if not self.url.lower().startswith(("http://", "https://")):
            raise UsageError(f"--alert-webhook {self.url!r} is not an http:// or https:// URL")
        if self.format not in BODIES:
            raise UsageError(f"--alert-format {self.format!r} is not one of {', '.join(FORMATS)}")

    async def deliver(self, alert: Alert) -> str:
        body = json.dumps(BODIES[self.format](alert), ensure_ascii=False).encode("utf-8")
        return await asyncio.to_thread(self._post, body)

    def _post(self, body: bytes) -> str:
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8",
                                                  "User-Agent": "hybridtls-watch"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked
                answer = response.read(MAX_RESPONSE_BYTES)
                return f"HTTP {response.status}" + (f" {_shown(answer[:200].decode('utf-8', 'replace'))}"
                                                    if answer.strip() and response.status != 200 else "")
        except urllib.error.HTTPError as exc:
            answer = exc.read(MAX_RESPONSE_BYTES)[:200].decode("utf-8", "replace")
            raise SinkFailed(f"HTTP {exc.code} {exc.reason}: {answer}".strip()) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SinkFailed(f"{type(exc).__name__}: {reason}") from None


@dataclass
class CommandSink:
    """Run a command (no shell: the words of ``shlex.split``) with the alert as JSON on its standard input."""

    command: str
    timeout: float = DEFAULT_TIMEOUT
    name: str = "command"

    def __post_init__(self) -> None:
        try:
            self.argv = shlex.split(self.command)
        except ValueError as exc:
            raise UsageError(f"--alert-command {self.command!r}: {exc}") from None
        if not self.argv:
            raise UsageError("--alert-command is empty")

    async def deliver(self, alert: Alert) -> str:
        data = json.dumps(alert_document(alert), ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            process = await asyncio.create_subprocess_exec(*self.argv, stdin=asyncio.subprocess.PIPE,
                                                           stdout=asyncio.subprocess.DEVNULL,
                                                           stderr=asyncio.subprocess.DEVNULL)
        except OSError as exc:
            raise SinkFailed(f"cannot run {self.argv[0]}: {exc.strerror or exc}") from None
        try:
            await asyncio.wait_for(process.communicate(data), self.timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise SinkFailed(f"{self.argv[0]} did not finish within {self.timeout:g} s; killed") from None
        if process.returncode != 0:
            raise SinkFailed(f"{self.argv[0]} exited with status {process.returncode}")
        return "exit 0"


class Dispatcher:
    """Each alert to every sink, and to the log: sent again only when its state changed or after ``renotify``."""

    def __init__(self, history: History, sinks: Sequence[Sink], log: Logger, *,
                 renotify: timedelta | None = None) -> None:
        self.history = history
        self.sinks = tuple(sinks)
        self.log = log
        self.renotify = renotify

    def due(self, alert: Alert, now: datetime) -> bool:
        sent = self.history.alert_sent(alert.dedupe_key)
        if sent is None:
            return True
        when, state = sent
        return state != alert.state or (self.renotify is not None and now - when >= self.renotify)

    async def dispatch(self, alerts: Sequence[Alert], now: datetime) -> int:
        """Deliver what is due; returns how many alerts were sent."""
        sent = 0
        for alert in alerts:
            fields = (("round", str(alert.round_number)), ("kind", alert.kind.value),
                      ("severity", alert.severity.value), ("address", alert.label))
            if not self.due(alert, now):
                self.log(Event(kind="alert_repeat", message=f"{alert.summary} (already sent)", fields=fields, at=now))
                continue
            self.log(Event(kind="alert", message=alert.summary, fields=fields, at=now))
            results = await asyncio.gather(*(sink.deliver(alert) for sink in self.sinks), return_exceptions=True)
            delivered = not self.sinks or any(isinstance(r, str) for r in results)
            for sink, result in zip(self.sinks, results, strict=True):
                if isinstance(result, SinkFailed):
                    self.log(Event(kind="sink_failed", message=str(result), fields=(*fields, ("sink", sink.name)),
                                   at=now))
                elif isinstance(result, BaseException):
                    self.log(Event(kind="sink_failed", message=f"{type(result).__name__}: {result}",
                                   fields=(*fields, ("sink", sink.name)), at=now))
                else:
                    self.log(Event(kind="alert_sent", message=result, fields=(*fields, ("sink", sink.name)), at=now))
            if delivered:  # else the next raising of this alert tries again
                self.history.mark_sent(alert, now)
                sent += 1
        return sent
