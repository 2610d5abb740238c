"""``hybridtls watch``: probe every hybrid endpoint each interval, keep the history, alert on change; and
``hybridtls watch history``: what changed when.

The watch logs one line per event to standard output (systemd's journal takes them as they come); the history
view writes to standard output or --output.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from hybridtls.cli.common import (
    ExitStatus,
    add_input_options,
    add_probe_options,
    parse_fail_on,
    password_source,
    probe_options,
    trust_options,
    write_text_whole,
)
from hybridtls.errors import UsageError
from hybridtls.watch.model import ALERT_FORMATS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import timedelta

    from hybridtls.watch.log import Logger
    from hybridtls.watch.loop import RoundHook, RoundResult, WatchSettings
    from hybridtls.watch.metrics import MetricsServer
    from hybridtls.watch.model import Round
    from hybridtls.watch.sinks import Sink
    from hybridtls.watch.targets import WatchTarget

NAME = "watch"
HISTORY = "history"  # ``hybridtls watch history``: a host named "history" is written history:25
HISTORY_FORMATS = ("terminal", "json", "html")
MAX_ALERT_TIMEOUT = 120  # seconds: as long as a round's alerts may take in all (watch.sinks.ROUND_BUDGET)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        NAME, help="probe every hybrid endpoint on a schedule, keep the history, alert when something changes",
        description="Probe every address behind the names given (or derived --from the evidence) each interval, "
                    "as 'probe' does; keep every round in a SQLite history; alert (webhook, command, log) when the "
                    "certificate served changes, a node differs from its siblings, the chain degrades, a finding "
                    "appears or clears, or expiry nears. 'hybridtls watch history' shows what changed when.",
        epilog="hybridtls watch history [--db PATH] [--since DURATION|DATE] [--format terminal|json|html] "
               "[--output FILE]",
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help="host[:port], IPv4 or [IPv6][:port] (port 25); or the word 'history'")
    parser.add_argument("--from", dest="evidence", action="extend", nargs="+", default=[], metavar="EVIDENCE",
                        help="derive the targets from saved connector and hybrid configuration output (as 'check' "
                             "reads it)")
    parser.add_argument("--interval", default="5m", metavar="DURATION", help="time between rounds (default: 5m)")
    parser.add_argument("--db", metavar="PATH", help="the history (default: $XDG_STATE_HOME/hybridtls/watch.sqlite)")
    parser.add_argument("--keep", default="90d", metavar="DURATION",
                        help="prune rounds older than this each round (default: 90d; 'forever' keeps them)")
    parser.add_argument("--metrics", metavar="HOST:PORT", help="serve Prometheus /metrics here")
    parser.add_argument("--alert-webhook", action="append", default=[], metavar="URL",
                        help="POST each alert here (repeatable)")
    parser.add_argument("--alert-format", choices=ALERT_FORMATS, default="json",
                        help="the webhook body: json (documented in docs/watch.md), teams or slack (default: json)")
    parser.add_argument("--alert-command", action="append", default=[], metavar="CMD",
                        help="run CMD (no shell) with each alert as JSON on standard input (repeatable)")
    parser.add_argument("--alert-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="seconds a webhook or command may take in all, whatever the other end does (default: 10)")
    parser.add_argument("--renotify", metavar="DURATION",
                        help="remind of a fault that holds once its last alert is this old (default: said once, when it appears)")
    parser.add_argument("--once", action="store_true",
                        help="one round, then exit 1 on findings at or above --fail-on (for cron and CI)")
    parser.add_argument("--fail-on", choices=("error", "warning", "info", "never"), default="warning",
                        help="with --once: exit 1 when a finding is at or above this severity (default: warning)")
    add_probe_options(parser)
    add_input_options(parser)
    parser.add_argument("--password-file", metavar="FILE",
                        help="the PFX password for --from evidence (else $HYBRIDTLS_PFX_PASSWORD)")
    history = parser.add_argument_group("history", "for 'hybridtls watch history'")
    history.add_argument("--since", metavar="DURATION|DATE",
                         help="rounds since this long ago (7d) or this date (YYYY-MM-DD[THH:MM], UTC)")
    history.add_argument("--format", choices=HISTORY_FORMATS, default="terminal", help="default: terminal")
    history.add_argument("--output", "-o", metavar="FILE", help="write the history to FILE instead of standard output")


def default_db() -> Path:
    """$XDG_STATE_HOME/hybridtls/watch.sqlite, else ~/.local/state/hybridtls/watch.sqlite."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "hybridtls" / "watch.sqlite"


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.targets[:1] == [HISTORY]:
        return _history(args, out)
    for option, given in (("--since", args.since), ("--output", args.output)):
        if given:
            raise UsageError(f"{option} is for 'hybridtls watch history'", hint="hybridtls watch history --help")
    return _watch(args, out)


def _watch(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from hybridtls.watch.durations import parse_duration
    from hybridtls.watch.log import Event, line
    from hybridtls.watch.loop import WatchSettings
    from hybridtls.watch.targets import gather

    interval = parse_duration(args.interval, option="--interval")
    keep = None if args.keep == "forever" else parse_duration(args.keep, option="--keep")
    renotify = parse_duration(args.renotify, option="--renotify") if args.renotify else None
    probe = probe_options(args)
    probe.validate()
    found = gather(args.targets, targets_file=args.targets_file, evidence=args.evidence, expect_cert=args.expect_cert,
                   max_file_size=args.max_file_size, passwords=password_source(args.password_file),
                   allow_none=bool(args.mx))
    settings = WatchSettings(interval=interval, keep=keep, once=args.once, probe=probe, trust=trust_options(args),
                             fail_on=parse_fail_on(args.fail_on), spread=not args.once)
    sinks = _sinks(args)
    metrics = _metrics(args.metrics)

    def log(event: Event) -> None:
        out.write(line(event) + "\n")
        out.flush()

    now = datetime.now(timezone.utc)
    for target in found.targets:
        fields: tuple[tuple[str, str], ...] = (("target", f"{target.target.host}:{target.target.port}"),)
        if target.target.expected_name:
            fields += (("expect_name", target.target.expected_name),)
        log(Event(kind="target", message=f"from {target.target.source}", fields=fields, at=now))
    for notice in found.notices:
        log(Event(kind="notice", message=notice, at=now))
    try:
        result = asyncio.run(_serve(found.targets, _db(args.db), sinks, settings, log,
                                    [metrics.update] if metrics else [], renotify))
    finally:
        if metrics:
            metrics.close()
    if not args.once or result is None:
        return ExitStatus.CLEAN
    if not result.connected:
        return ExitStatus.ALL_PROBES_FAILED
    return ExitStatus.FINDINGS if result.failed else ExitStatus.CLEAN


async def _serve(targets: Sequence[WatchTarget], db: Path, sinks: Sequence[Sink], settings: WatchSettings,
                 log: Logger, hooks: Sequence[RoundHook], renotify: timedelta | None) -> RoundResult | None:
    from hybridtls.watch.history import History
    from hybridtls.watch.loop import Watch, install_signal_handlers
    from hybridtls.watch.sinks import Dispatcher

    history = History.open(db)
    try:
        watch = Watch(targets, history, Dispatcher(history, sinks, log, renotify=renotify), settings, log,
                      on_round=hooks)
        if not settings.once:
            install_signal_handlers(watch)
        return await watch.run()
    finally:
        history.close()


def _sinks(args: argparse.Namespace) -> list[Sink]:
    from hybridtls.watch.sinks import CommandSink, WebhookSink

    if not 0 < args.alert_timeout <= MAX_ALERT_TIMEOUT:  # NaN fails too
        raise UsageError(f"--alert-timeout {args.alert_timeout:g} is not between 0 and {MAX_ALERT_TIMEOUT} seconds")
    return [*(WebhookSink(url, args.alert_format, args.alert_timeout) for url in args.alert_webhook),
            *(CommandSink(command, args.alert_timeout) for command in args.alert_command)]


def _metrics(where: str | None) -> MetricsServer | None:
    if not where:
        return None
    host, sep, port = where.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--metrics {where!r} is not HOST:PORT")
    from hybridtls.watch.metrics import start_metrics_server

    try:
        return start_metrics_server(host.strip("[]") or "127.0.0.1", int(port))
    except OSError as exc:
        raise UsageError(f"--metrics {where}: cannot listen ({exc.strerror or exc})") from None


def _db(given: str | None) -> Path:
    path = Path(given) if given else default_db()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--db {path}: cannot create its folder ({exc.strerror or exc})") from None
    return path


def _history(args: argparse.Namespace, out: TextIO) -> int:
    from hybridtls.watch.history import History

    if args.targets[1:]:
        raise UsageError(f"'hybridtls watch history' takes no targets (got {' '.join(args.targets[1:])!r})")
    since = _since(args.since)
    db = Path(args.db) if args.db else default_db()
    if not db.exists():
        raise UsageError(f"--db {db}: no history there yet", hint="start a watch first, or give --db PATH")
    history = History.open(db)
    try:
        text = _history_text(args.format, history.rounds(since))
    finally:
        history.close()
    if args.output:
        write_text_whole(args.output, text)
    else:
        out.write(text)
    return ExitStatus.CLEAN


def _history_text(fmt: str, rounds: Iterable[Round]) -> str:
    from hybridtls.watch.timeline import changes_text, timeline_html, timeline_json

    return {"html": timeline_html, "json": timeline_json}.get(fmt, changes_text)(rounds)


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    from hybridtls.watch.durations import parse_duration

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        shown = text.strip().lower()
        if shown[:1].isdigit() and shown[-1:] in ("d", "h", "m", "s"):  # a duration: its own error if it is not
            return datetime.now(timezone.utc) - parse_duration(text, option="--since")
        raise UsageError(f"--since {text!r} is neither a duration (7d, 12h) nor a date (YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
