"""Where alerts go: a webhook (JSON, Microsoft Teams or Slack bodies), a command, and the log.

Every delivery is bounded (an overall deadline, ``--alert-timeout``, whatever the other end does; at most
``MAX_RESPONSE_BYTES`` of a webhook's answer read) and a failed delivery is logged, never fatal. ``Dispatcher``
delivers each alert (an event: a change one round saw) to every sink once; what a sink did not take waits in the
history's outbox and is tried again at the start of the following rounds, for that sink only, until it is taken
or ``OUTBOX_TRIES`` tries or ``OUTBOX_AGE`` have passed. With ``--renotify`` a fault that holds is said again
("still: ...") once the last delivery about it is that old. docs/watch.md shows the bodies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shlex
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from hybridtls.errors import UsageError
from hybridtls.report.escape import inert
from hybridtls.report.markdown import text as markdown_text
from hybridtls.watch.log import Event, Logger
from hybridtls.watch.model import ALERT_FORMATS, STILL, AlertKind

if TYPE_CHECKING:
    from hybridtls.watch.history import History
    from hybridtls.watch.model import Alert

SCHEMA = "hybridtls-watch-alert/1"
MAX_RESPONSE_BYTES = 64 * 1024
DEFAULT_TIMEOUT = 10.0
SLACK_SECTION = 3000  # Slack refuses a section whose text is longer
CONCURRENT_DELIVERIES = 8  # deliveries of one round under way at once
ROUND_BUDGET = 120.0  # seconds a round's deliveries may take in all; what is left waits in the outbox
OUTBOX_TRIES = 100  # an alert a sink never takes is given up after this many tries ...
OUTBOX_AGE = timedelta(hours=24)  # ... or this long after its first
ENDINGS = frozenset({AlertKind.RECOVERED, AlertKind.FINDING_CLEARED})  # kinds that close a fault, never reminded
MAX_HUNG_POSTS = 4  # abandoned webhook POSTs still hanging on one sink before it is not tried until they end


class SinkFailed(Exception):
    """A delivery did not succeed; the message says why, on one line."""


class Sink(Protocol):
    name: str  # what the log calls it: "webhook", "command"

    @property
    def ident(self) -> str:
        """Which sink this is, stable across restarts (the outbox keeps what it has not taken under it)."""
        ...

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
    facts = [{"title": "Address", "value": markdown_text(alert.label)},
             {"title": "Severity", "value": alert.severity.value},
             {"title": "Round", "value": str(alert.round_number)}, {"title": "Time", "value": _iso(alert.raised_at)}]
    facts += [{"title": f"Before: {markdown_text(key)}", "value": markdown_text(value)} for key, value in alert.before]
    facts += [{"title": f"Now: {markdown_text(key)}", "value": markdown_text(value)} for key, value in alert.after]
    body: list[dict[str, Any]] = [  # TextBlocks and FactSets render Markdown: every value is escaped for it
        {"type": "TextBlock", "text": markdown_text(alert.summary), "weight": "Bolder", "wrap": True},
        {"type": "FactSet", "facts": facts},
    ]
    if alert.fix:
        body += [{"type": "TextBlock", "text": "Fix", "weight": "Bolder"},
                 {"type": "TextBlock", "text": "\n".join(markdown_text(line) for line in alert.fix.splitlines()),
                  "fontType": "Monospace", "wrap": True}]  # escaped line by line: it renders as typed
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
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(changes))}})
    if alert.fix:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": _cut(_slack(alert.fix, fenced=True), fence="```")}})
    return {"text": _slack(f"{alert.summary} ({alert.label})"), "blocks": blocks}


def _cut(text: str, *, fence: str = "") -> str:
    """``text`` (inside ``fence``) within Slack's SLACK_SECTION characters, saying so when it was cut."""
    if len(text) + 2 * len(fence) <= SLACK_SECTION:
        return f"{fence}{text}{fence}"
    note = f"\n… (cut: {len(text)} characters, see the log or the JSON alert)"
    kept = text[:SLACK_SECTION - 2 * len(fence) - len(note)]
    amp = kept.rfind("&")
    if amp >= 0 and ";" not in kept[amp:]:  # never half an escape (&lt;)
        kept = kept[:amp]
    return f"{fence}{kept}{fence}{note}"


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

    @property
    def ident(self) -> str:  # the URL is a secret for Teams and Slack: only its digest is kept
        return f"webhook:{hashlib.sha256(self.url.encode()).hexdigest()[:16]}"

    def __post_init__(self) -> None:
        self._hung = 0  # POSTs whose thread has not ended (abandoned ones included)
        self._lock = threading.Lock()
        if not self.url.lower().startswith(("http://", "https://")):
            raise UsageError(f"--alert-webhook {self.url!r} is not an http:// or https:// URL")
        if self.format not in BODIES:
            raise UsageError(f"--alert-format {self.format!r} is not one of {', '.join(ALERT_FORMATS)}")

    async def deliver(self, alert: Alert) -> str:
        """POST within ``timeout`` seconds in all. urllib's timeout is per socket operation (a server trickling a
        byte a second would hold it for hours): the POST runs in a daemon thread, abandoned at the deadline, so
        neither the round nor the process's exit waits for it; at most MAX_HUNG_POSTS are left hanging."""
        body = json.dumps(BODIES[self.format](alert), ensure_ascii=False).encode("utf-8")
        if self._hung >= MAX_HUNG_POSTS:
            raise SinkFailed(f"{self._hung} earlier deliveries to this webhook still hang; not tried")
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        def settle(result: str | None, error: BaseException | None) -> None:
            if answer.done():
                return
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(result or "")

        def post() -> None:
            try:
                result, error = self._post(body), None
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:  # the loop has closed: nobody waits any more
                pass

        def post_counted() -> None:
            try:
                post()
            finally:
                with self._lock:
                    self._hung -= 1

        with self._lock:
            self._hung += 1
        threading.Thread(target=post_counted, name="hybridtls-webhook", daemon=True).start()
        try:
            return await asyncio.wait_for(answer, self.timeout)
        except asyncio.TimeoutError:
            raise SinkFailed(f"no answer within {self.timeout:g} s; abandoned") from None

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

    @property
    def ident(self) -> str:
        return f"command:{hashlib.sha256(self.command.encode()).hexdigest()[:16]}"

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
        except asyncio.CancelledError:  # the round's time for alerts ran out: no command outlives it
            process.kill()
            raise
        if process.returncode != 0:
            raise SinkFailed(f"{self.argv[0]} exited with status {process.returncode}")
        return "exit 0"


class Dispatcher:
    """Each alert to every sink and to the log, once; what a sink did not take is tried again at the start of
    the next rounds (``retry``); ``remind`` says again a fault that holds, after ``renotify``."""

    def __init__(self, history: History, sinks: Sequence[Sink], log: Logger, *,
                 renotify: timedelta | None = None, budget: float = ROUND_BUDGET) -> None:
        self.history = history
        self.sinks = tuple(sinks)
        self.log = log
        self.renotify = renotify
        self.budget = budget
        self._ends: float | None = None  # when this round's time for alerts is up (loop time); None: per call

    def start_round(self) -> None:
        """From now on the round's retries, alerts and reminders share one budget of ``budget`` seconds."""
        self._ends = asyncio.get_running_loop().time() + self.budget

    async def dispatch(self, alerts: Sequence[Alert], now: datetime) -> int:
        """Deliver each alert to every sink that has not taken it (a round re-run after a crash raises the same
        events: they are not delivered twice); returns how many alerts reached at least one sink (or the log)."""
        due: list[tuple[Alert, tuple[Sink, ...]]] = []
        for alert in alerts:
            fields = _fields(alert)
            left = tuple(sink for sink in self.sinks if not self.history.delivered(alert, sink.ident))
            if not left and (self.sinks or self.history.delivered(alert, "log")):
                self.log(Event(kind="alert_repeat", message=f"{alert.summary} (already sent)", fields=fields, at=now))
                continue
            self.log(Event(kind="alert", message=alert.summary, fields=fields, at=now))
            if not self.sinks:
                self.history.mark_delivered(alert, "log", now)
            due.append((alert, left))
        taken = await self._deliver([(alert, sink) for alert, left in due for sink in left], now, queue=True)
        return sum(1 for alert, left in due if not left or any((alert.dedupe_key, s.ident) in taken for s in left))

    async def retry(self, now: datetime) -> int:
        """Try again what sinks did not take in earlier rounds, each for the sinks that did not take it; give up
        (logged) after OUTBOX_TRIES tries or OUTBOX_AGE. Returns how many deliveries succeeded."""
        by_ident = {sink.ident: sink for sink in self.sinks}
        jobs: list[tuple[Alert, Sink]] = []
        for alert, ident, first, tries in self.history.waiting():
            sink = by_ident.get(ident)
            age = now.timestamp() - first
            if sink is None or tries >= OUTBOX_TRIES or age >= OUTBOX_AGE.total_seconds():
                why = "its sink is no longer configured" if sink is None else \
                    f"not delivered after {tries} tries over {age / 3600:.1f} h"
                self.log(Event(kind="alert_dropped", message=f"{alert.summary}: given up, {why}",
                               fields=(*_fields(alert), ("sink", sink.name if sink else ident)), at=now))
                self.history.give_up(alert, ident)
                continue
            jobs.append((alert, sink))
        return len(await self._deliver(jobs, now, queue=True))

    async def remind(self, open_faults: Sequence[Alert], told_now: Sequence[Alert], now: datetime) -> int:
        """With ``renotify``: each fault still open whose last delivery is older than it (and not told this
        round) is said again, of the kind it was told as, its summary "still: ...". A reminder that no sink takes
        is not kept: the next round reminds again."""
        if self.renotify is None:
            return 0
        skip = {alert.fault_key for alert in told_now} | {alert.fault_key for alert, *_ in self.history.waiting()}
        reminders = []
        for fault in open_faults:
            if fault.fault_key in skip:  # told this round, or still waiting in the outbox
                continue
            last = self.history.last_told(fault.fault_key)
            if last is not None and now - last[0] < self.renotify:
                continue
            kind = last[1] if last is not None and last[1] not in ENDINGS else fault.kind
            reminders.append(replace(fault, summary=STILL + fault.summary, kind=kind))
        for alert in reminders:
            self.log(Event(kind="alert_reminder", message=alert.summary, fields=_fields(alert), at=now))
            if not self.sinks:
                self.history.mark_delivered(alert, "log", now)
        taken = await self._deliver([(alert, sink) for alert in reminders for sink in self.sinks], now, queue=False)
        return len(reminders) if not self.sinks else len({key for key, _ in taken})

    async def _deliver(self, jobs: Sequence[tuple[Alert, Sink]], now: datetime, *,
                       queue: bool) -> set[tuple[str, str]]:
        """Each (alert, sink), CONCURRENT_DELIVERIES at a time, within the round's budget; what fails or is not
        reached in time is queued in the outbox (with ``queue``). Returns the (event, sink) pairs delivered."""
        taken: set[tuple[str, str]] = set()
        limit = asyncio.Semaphore(CONCURRENT_DELIVERIES)

        async def one(alert: Alert, sink: Sink) -> None:
            fields = (*_fields(alert), ("sink", sink.name))
            async with limit:
                try:
                    result = await sink.deliver(alert)
                except SinkFailed as exc:
                    failure = str(exc)
                except Exception as exc:  # noqa: BLE001 - a sink's failure is logged; the others go on
                    failure = f"{type(exc).__name__}: {exc}"
                else:
                    self.history.mark_delivered(alert, sink.ident, now)
                    taken.add((alert.dedupe_key, sink.ident))
                    self.log(Event(kind="alert_sent", message=result, fields=fields, at=now))
                    return
            tries = self.history.queue(alert, sink.ident, now, failure) if queue else 0
            retry = f" (try {tries}; tried again next round)" if queue else ""
            self.log(Event(kind="sink_failed", message=failure + retry, fields=fields, at=now))

        tasks = [asyncio.ensure_future(one(alert, sink)) for alert, sink in jobs]
        if not tasks:
            return taken
        left = self.budget if self._ends is None else max(0.0, self._ends - asyncio.get_running_loop().time())
        _, late = await asyncio.wait(tasks, timeout=left)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for (alert, sink), task in zip(jobs, tasks, strict=True):
            if task in late and queue:
                self.history.queue(alert, sink.ident, now, f"the round's {self.budget:g} s for alerts ran out")
                self.log(Event(kind="sink_failed", message=f"not done within the round's {self.budget:g} s "
                               "for alerts; tried again next round", fields=(*_fields(alert), ("sink", sink.name)), at=now))
        return taken


def _fields(alert: Alert) -> tuple[tuple[str, str], ...]:
    return (("round", str(alert.round_number)), ("kind", alert.kind.value), ("severity", alert.severity.value),
            ("address", alert.label))
