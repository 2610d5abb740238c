"""The watch history: rounds recorded whole and read back equal, numbers never reused, old files migrated, damaged
or foreign files named in one line, and a process killed mid-record leaving every round whole or absent."""

from __future__ import annotations

import gc
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import tracemalloc
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from watch_factory import observed, probe

from hybridtls.errors import UsageError
from hybridtls.model import ProbeOutcome, Severity
from hybridtls.watch.durations import format_duration, parse_duration
from hybridtls.watch.history import APPLICATION_ID, SCHEMA_VERSION, History
from hybridtls.watch.model import Alert, AlertKind, FindingMark, Observation, Round, ServedCertificate

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)


def simple_round(number: int, at: datetime = T0, *, addresses: int = 2, der: bytes = b"leaf") -> Round:
    leaf_der = der + b"-" + str(number).encode()
    sha = hashlib.sha256(leaf_der).hexdigest()
    leaf = ServedCertificate(sha256=sha, thumbprint="AB" * 20, serial_number="01", subject="CN=mail.contoso.com",
                             issuer="CN=CA", names=("mail.contoso.com",), not_before=at - timedelta(days=9),
                             not_after=at + timedelta(days=90), client_auth=True)
    inter = hashlib.sha256(b"intermediate").hexdigest()
    mark = FindingMark(key="HT-X|address=a", check_id="HT-X", severity=Severity.WARNING, message=f"m{number % 2}",
                       remediation="Get-Thing")
    observations = tuple(Observation(host="mail.contoso.com", address=f"192.0.2.{i}", port=25, outcome="ok",
                                     observed_at=at, leaf=leaf, chain_sha256=(sha, inter),
                                     chain_der=(leaf_der, b"intermediate"), chain_end="trusted",
                                     versions_accepted=(("TLSv1.2", True), ("TLSv1.1", False), ("TLSv1", None)),
                                     findings=(mark,) * (i % 2))
                         for i in range(addresses))
    return Round(number=number, started_at=at, finished_at=at + timedelta(seconds=20), observations=observations,
                 findings=(mark,))


def test_a_real_round_reads_back_equal_and_recording_it_again_replaces_it(tmp_path: Path) -> None:
    real = observed(probe("192.0.2.1"), probe("192.0.2.2", outcome=ProbeOutcome.REFUSED), number=1)
    with History.open(tmp_path / "w.db") as history:
        history.record(real)
        history.record(real)
        assert list(history.rounds()) == [real]
        assert history.last_round() == real
        leaf = real.observations[0]
        assert history.certificate_der(leaf.chain_sha256[1]) == leaf.chain_der[1]
        (count,) = history._db.execute("SELECT COUNT(*) FROM observations").fetchone()
        assert count == 2
        (states,) = history._db.execute("SELECT COUNT(*) FROM states").fetchone()
        assert states == 2


def test_round_numbers_are_never_reused_across_restarts_and_pruning(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with History.open(path) as history:
        assert history.last_round() is None
        numbers = []
        for _ in range(3):
            assert history.next_round_number() == history.next_round_number()  # taken only by record
            numbers.append(history.next_round_number())
            history.record(simple_round(numbers[-1], T0 + timedelta(minutes=numbers[-1])))
        assert numbers == [1, 2, 3]
    with History.open(path) as history:
        assert history.next_round_number() == 4
        history.record(simple_round(9, T0 + timedelta(minutes=9)))  # a round numbered by hand moves the counter
        assert history.prune(T0 + timedelta(days=1)) == 3  # never the newest: the next round is compared with it
        assert [r.number for r in history.rounds()] == [9]
    with History.open(path) as history:
        assert history.next_round_number() == 10


def test_rounds_stream_page_by_page_oldest_first_and_since_filters(tmp_path: Path) -> None:
    with History.open(tmp_path / "w.db") as history:
        for n in range(1, 71):
            history.record(simple_round(n, T0 + timedelta(hours=n)))
        stream = history.rounds()
        assert next(stream).number == 1  # a generator: nothing read past the first page yet
        assert [r.number for r in history.rounds()] == list(range(1, 71))
        assert [r.number for r in history.rounds(since=T0 + timedelta(hours=40))] == list(range(40, 71))
        assert [r.number for r in history.rounds(since=T0.replace(tzinfo=None) + timedelta(hours=69))] == [69, 70]


def test_prune_forgets_old_rounds_and_what_only_they_referred_to(tmp_path: Path) -> None:
    with History.open(tmp_path / "w.db") as history:
        history.record(simple_round(1, T0, der=b"old"))
        history.record(simple_round(2, T0 + timedelta(days=100), der=b"new"))
        old = simple_round(1, T0, der=b"old").observations[0].chain_sha256
        assert history.certificate_der(old[0]) == b"old-1"
        alert = Alert(kind=AlertKind.RECOVERED, severity=Severity.INFO, label="x", host="x", address="", port=25,
                      summary="s", round_number=1, raised_at=T0)
        history.mark_delivered(alert, "log", T0)
        assert history.prune(T0 + timedelta(days=10)) == 1
        assert history.certificate_der(old[0]) is None  # only round 1 served it
        assert history.certificate_der(old[1]) == b"intermediate"  # round 2 still does
        assert history.last_told(alert.fault_key) is None and not history.delivered(alert, "log")
        (marks,) = history._db.execute("SELECT COUNT(*) FROM marks").fetchone()
        assert marks == 1  # the finding of round 2, stored once though shown on the round and an address
        assert [r.number for r in history.rounds()] == [2]


def test_nothing_grows_in_the_process_or_the_file_with_repeated_findings(tmp_path: Path) -> None:
    """Counted, not timed: Python memory held after 300 more rounds, and rows of finding text stored."""
    with History.open(tmp_path / "w.db") as history:
        for n in range(1, 31):
            history.record(simple_round(n, T0 + timedelta(minutes=n), addresses=20))
        assert sum(1 for _ in history.rounds()) == 30
        gc.collect()
        tracemalloc.start()
        held = tracemalloc.get_traced_memory()[0]
        steady = simple_round(31, T0, addresses=20)  # every address says the same from now on
        for n in range(31, 331):
            history.record(replace(steady, number=n, started_at=T0 + timedelta(minutes=n)))
        assert sum(1 for _ in history.rounds()) == 330
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - held
        tracemalloc.stop()
        assert grown < 96 * 1024  # far less than one round of 20 addresses: none of the 300 is kept
        (marks,) = history._db.execute("SELECT COUNT(*) FROM marks").fetchone()
        assert marks == 2  # the two finding texts, however many rounds and addresses show them
        (states,) = history._db.execute("SELECT COUNT(*) FROM states").fetchone()
        assert states == 20 * 30 + 20  # the 300 steady rounds: 20 states, one per address, referred to 300 times


def test_deliveries_and_the_last_word_about_a_fault_are_remembered(tmp_path: Path) -> None:
    alert = Alert(kind=AlertKind.UNREACHABLE, severity=Severity.ERROR, label="a", host="a", address="b",
                  port=25, summary="s", after=(("outcome", "timeout"),), finding_key="HT-WIRE-001|address=a",
                  round_number=1, raised_at=T0)
    with History.open(tmp_path / "w.db") as history:
        assert history.last_told(alert.fault_key) is None and not history.delivered(alert, "webhook:1")
        assert history.queue(alert, "webhook:1", T0, "HTTP 500") == 1
        assert history.queue(alert, "webhook:1", T0 + timedelta(minutes=5), "HTTP 502") == 2
        [(waiting, sink, first, tries)] = history.waiting()
        assert waiting == alert and sink == "webhook:1" and first == T0.timestamp() and tries == 2
        history.mark_delivered(alert, "webhook:1", T0 + timedelta(hours=1))
        assert history.waiting() == [] and history.delivered(alert, "webhook:1")
        assert not history.delivered(replace(alert, round_number=2), "webhook:1")  # another round: another event
        assert history.last_told(alert.fault_key) == (T0 + timedelta(hours=1), AlertKind.UNREACHABLE)


V1 = """
PRAGMA application_id = 1213484119;
CREATE TABLE rounds (number INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
  started_epoch REAL NOT NULL, complete INTEGER NOT NULL);
CREATE INDEX rounds_by_time ON rounds (started_epoch);
CREATE TABLE certificates (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, thumbprint TEXT, serial_number TEXT,
  subject TEXT, issuer TEXT, names TEXT, not_before TEXT, not_after TEXT, client_auth INTEGER);
CREATE TABLE marks (id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, key TEXT NOT NULL, check_id TEXT NOT NULL,
  severity TEXT NOT NULL, message TEXT NOT NULL, remediation TEXT NOT NULL);
CREATE TABLE states (id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, host TEXT NOT NULL, address TEXT NOT NULL,
  port INTEGER NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, starttls_offered INTEGER, tls_version TEXT,
  versions TEXT NOT NULL, leaf INTEGER, chain_end TEXT, chain_expiry TEXT, name_covered INTEGER,
  expected_cert_matches INTEGER);
CREATE INDEX states_by_leaf ON states (leaf);
CREATE TABLE state_chains (state INTEGER NOT NULL, position INTEGER NOT NULL, certificate INTEGER NOT NULL,
  PRIMARY KEY (state, position)) WITHOUT ROWID;
CREATE INDEX state_chains_by_certificate ON state_chains (certificate);
CREATE TABLE state_marks (state INTEGER NOT NULL, position INTEGER NOT NULL, mark INTEGER NOT NULL,
  PRIMARY KEY (state, position)) WITHOUT ROWID;
CREATE INDEX state_marks_by_mark ON state_marks (mark);
CREATE TABLE observations (round INTEGER NOT NULL, slot INTEGER NOT NULL, state INTEGER NOT NULL,
  observed_at TEXT NOT NULL, elapsed_ms INTEGER NOT NULL, PRIMARY KEY (round, slot)) WITHOUT ROWID;
CREATE INDEX observations_by_state ON observations (state);
CREATE TABLE round_marks (round INTEGER NOT NULL, position INTEGER NOT NULL, mark INTEGER NOT NULL,
  PRIMARY KEY (round, position)) WITHOUT ROWID;
CREATE INDEX round_marks_by_mark ON round_marks (mark);
CREATE TABLE alerts_sent (dedupe_key TEXT PRIMARY KEY, sent_at TEXT NOT NULL, sent_epoch REAL NOT NULL,
  state TEXT NOT NULL);
INSERT INTO rounds VALUES (7, '2026-11-01T08:00:00+00:00', '2026-11-01T08:00:20+00:00', 1793520000.0, 1);
INSERT INTO certificates VALUES (1, 'aa', 'AB', '01', 'CN=m', 'CN=CA', '["m"]', '2026-01-01T00:00:00',
  '2027-01-01T00:00:00', NULL), (2, 'bb', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO marks VALUES (1, 'd', 'HT-X|address=m', 'HT-X', 'error', 'msg', 'fix');
INSERT INTO states VALUES (1, 's', 'm', '192.0.2.1', 25, 'ok', '', 1, 'TLSv1.3', '[["TLSv1.2", true]]', 1, 'trusted',
  '2027-01-01T00:00:00', 1, NULL);
INSERT INTO state_chains VALUES (1, 0, 1), (1, 1, 2);
INSERT INTO state_marks VALUES (1, 0, 1);
INSERT INTO observations VALUES (7, 0, 1, '2026-11-01T08:00:01+00:00', 12);
INSERT INTO round_marks VALUES (7, 0, 1);
PRAGMA user_version = 1;
"""


def test_a_version_1_history_is_migrated_and_its_rounds_kept(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    old = sqlite3.connect(path)
    old.executescript(V1)
    old.close()
    with History.open(path) as history:
        assert history.schema_version == SCHEMA_VERSION == 3
        (kept,) = list(history.rounds())
        assert kept.number == 7 and kept.findings[0].severity is Severity.ERROR
        seen = kept.observations[0]
        assert seen.leaf is not None and seen.leaf.names == ("m",) and seen.leaf.client_auth is None
        assert seen.chain_sha256 == ("aa", "bb") and seen.chain_der == ()  # version 1 kept no DER
        assert seen.versions_accepted == (("TLSv1.2", True),) and seen.starttls_offered is True
        assert history.next_round_number() == 8  # the counter starts after the rounds version 1 had
        history.record(simple_round(8))
        assert [r.number for r in history.rounds()] == [7, 8]
        assert history.last_round() == simple_round(8)


def _one_line_usage_error(path: Path) -> str:
    with pytest.raises(UsageError) as caught:
        History.open(path)
    message = caught.value.message
    assert str(path) in message and "\n" not in message
    return message


def test_a_file_that_is_no_database_is_named_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not SQLite at all\n" * 100)
    assert "not a database" in _one_line_usage_error(path)
    assert path.read_bytes() == b"this is not SQLite at all\n" * 100


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE rounds (x)")
    other.commit()
    other.close()
    assert "another program" in _one_line_usage_error(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (0,)


def test_a_newer_history_and_a_directory_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()
    assert "newer hybridtls" in _one_line_usage_error(path)
    assert "cannot open" in _one_line_usage_error(tmp_path)
    with pytest.raises(UsageError, match="no watch history at"):
        History.open(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_a_damaged_history_is_named_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with History.open(path) as history:
        for n in range(1, 40):
            history.record(simple_round(n, addresses=20))
    data = bytearray(path.read_bytes())
    data[4096:12288] = b"\xff" * 8192  # pages of the tables, past the header
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError) as caught:
        with History.open(path) as history:
            list(history.rounds())
    assert str(path) in caught.value.message and "\n" not in caught.value.message


CHILD = textwrap.dedent("""
    import hashlib, itertools, sys
    from datetime import datetime, timedelta, timezone
    from hybridtls.model import Severity
    from hybridtls.watch.history import History
    from hybridtls.watch.model import FindingMark, Observation, Round

    def make(number):
        at = datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(minutes=number)
        mark = FindingMark(key=f"HT-X|n={number}", check_id="HT-X", severity=Severity.INFO, message="m" * 200)
        ders = tuple(f"{number}-{i}".encode() * 50 for i in range(3))
        shas = tuple(hashlib.sha256(d).hexdigest() for d in ders)
        return Round(number=number, started_at=at, finished_at=at, findings=(mark,), observations=tuple(
            Observation(host="h", address=f"10.0.{i // 256}.{i % 256}", port=25, outcome="ok", observed_at=at,
                        chain_sha256=shas, chain_der=ders, findings=(mark, mark)) for i in range(150)))

    history = History.open(sys.argv[1])
    if sys.argv[2] == "write":
        last = history.last_round()
        for number in itertools.count(last.number + 1 if last else 1):
            print("begin", number, flush=True)
            history.record(make(number))
            print("done", number, flush=True)
    else:
        for kept in history.rounds():
            assert kept == make(kept.number), kept.number
        print(" ".join(str(r.number) for r in history.rounds()))
""")


@pytest.mark.parametrize("after", [1, 2, 5])
def test_a_process_killed_while_recording_leaves_whole_rounds_only(tmp_path: Path, after: int) -> None:
    path = tmp_path / "w.db"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    recorded, took, chance = 0, 0.0, random.Random(after)
    for _ in range(4):  # killed, restarted where it stopped, killed again
        child = subprocess.Popen([sys.executable, str(script), str(path), "write"], stdout=subprocess.PIPE, env=env,
                                 text=True)
        assert child.stdout is not None
        for _ in range(after):
            assert child.stdout.readline().split()[0] == "begin"
            began = time.monotonic()
            recorded = int(child.stdout.readline().split()[1])
            took = time.monotonic() - began
        assert child.stdout.readline().split()[0] == "begin"
        time.sleep(chance.uniform(0, took))  # somewhere in recording the next round (a delay, never an assertion)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        check = sqlite3.connect(path)
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        check.close()
        reader = subprocess.run([sys.executable, str(script), str(path), "read"], capture_output=True, text=True,
                                env=env)
        assert reader.returncode == 0, reader.stderr[-2000:]  # every round read back equals what was recorded
        numbers = [int(n) for n in reader.stdout.split()]
        # every round reported recorded is there, and those it went on to record before the kill: once each
        assert len(numbers) >= recorded and numbers == list(range(1, len(numbers) + 1))
        recorded = numbers[-1]
    with History.open(path) as history:
        assert history.next_round_number() == recorded + 1


def test_durations_read_as_typed_and_refuse_what_is_not_one() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration(" 12H ") == timedelta(hours=12)
    assert parse_duration("5m") == timedelta(minutes=5)
    assert parse_duration("30s") == timedelta(seconds=30)
    for text in ("", "90", "d", "1.5h", "-5m", "5 m", "1w", "99999999d"):
        with pytest.raises(UsageError) as caught:
            parse_duration(text, option="--keep")
        assert caught.value.message.startswith("--keep") and caught.value.hint
    with pytest.raises(UsageError, match="longer than zero"):
        parse_duration("0s")
    assert parse_duration("36500d") == timedelta(days=36500)
    for text in ("36501d", "1000000d", "876001h", "999999999999999s"):  # each once overflowed a date after a round
        with pytest.raises(UsageError, match="longer than 36500 days"):
            parse_duration(text, option="--keep")
    assert [format_duration(parse_duration(t)) for t in ("90d", "36h", "90m", "61s")] == ["90d", "36h", "90m", "61s"]


# -- any round reads back equal

_TEXT = st.text(max_size=30)
_WHEN = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.one_of(st.none(), st.just(timezone.utc)))
_FLAG = st.one_of(st.none(), st.booleans())
_MARK = st.builds(FindingMark, key=_TEXT, check_id=_TEXT, severity=st.sampled_from(Severity), message=_TEXT,
                  remediation=_TEXT)


@st.composite
def _leaf(draw: st.DrawFn) -> ServedCertificate:
    fields = dict(thumbprint=draw(_TEXT), serial_number=draw(_TEXT), subject=draw(_TEXT), issuer=draw(_TEXT),
                  names=tuple(draw(st.lists(_TEXT, max_size=3))), not_before=draw(_WHEN), not_after=draw(_WHEN),
                  client_auth=draw(_FLAG))
    return ServedCertificate(sha256=hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest(), **fields)


@st.composite
def _observation(draw: st.DrawFn) -> Observation:
    ders = draw(st.lists(st.binary(min_size=1, max_size=8), max_size=3))
    return Observation(
        host=draw(_TEXT), address=draw(_TEXT), port=draw(st.integers(0, 65535)), outcome=draw(_TEXT),
        detail=draw(_TEXT), observed_at=draw(_WHEN), elapsed_ms=draw(st.integers(0, 10**9)),
        starttls_offered=draw(_FLAG), tls_version=draw(st.one_of(st.none(), _TEXT)),
        versions_accepted=tuple(draw(st.lists(st.tuples(_TEXT, _FLAG), max_size=4))),
        leaf=draw(st.one_of(st.none(), _leaf())), chain_sha256=tuple(hashlib.sha256(d).hexdigest() for d in ders),
        chain_der=tuple(ders) if draw(st.booleans()) else (), chain_end=draw(st.one_of(st.none(), _TEXT)),
        chain_expiry=draw(st.one_of(st.none(), _WHEN)), name_covered=draw(_FLAG), expected_cert_matches=draw(_FLAG),
        findings=tuple(draw(st.lists(_MARK, max_size=3))))


_ROUND = st.builds(Round, number=st.integers(1, 2**62), started_at=_WHEN, finished_at=_WHEN,
                   observations=st.lists(_observation(), max_size=4).map(tuple),
                   findings=st.lists(_MARK, max_size=3).map(tuple), complete=st.booleans())


@settings(max_examples=60)  # each example draws a whole round: the slow part is drawing, not SQLite
@given(rounds=st.lists(_ROUND, min_size=1, max_size=3, unique_by=lambda r: r.number))
def test_any_round_recorded_reads_back_equal(rounds: list[Round]) -> None:
    with History.open(":memory:") as history:
        for round_ in rounds:
            history.record(round_)
        assert list(history.rounds()) == sorted(rounds, key=lambda r: r.number)
        assert history.next_round_number() == max(r.number for r in rounds) + 1


_TEXT = st.text(max_size=40)
_ALERT = st.builds(
    Alert, kind=st.sampled_from(AlertKind), severity=st.sampled_from(Severity), label=_TEXT, host=_TEXT,
    address=_TEXT, port=st.integers(0, 65535), summary=_TEXT,
    before=st.lists(st.tuples(_TEXT, _TEXT), max_size=3).map(tuple),
    after=st.lists(st.tuples(_TEXT, _TEXT), max_size=3).map(tuple), fix=_TEXT,
    finding_key=st.none() | _TEXT, round_number=st.integers(1, 2**62), raised_at=_WHEN)


@settings(max_examples=80)
@given(alerts=st.lists(_ALERT, min_size=1, max_size=4, unique_by=lambda a: a.dedupe_key))
def test_any_alert_waits_in_the_outbox_and_reads_back_equal(alerts: list[Alert]) -> None:
    with History.open(":memory:") as history:
        for alert in alerts:
            history.queue(alert, "webhook:x", T0, "HTTP 500")
        assert sorted((a.dedupe_key, a) for a, _, _, _ in history.waiting()) == \
            sorted((a.dedupe_key, a) for a in alerts)
