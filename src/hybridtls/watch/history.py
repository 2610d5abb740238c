"""The watch's history: every round in one SQLite file, written whole or not at all.

One file, WAL mode (``watch history`` reads while the watch writes), its schema version in ``PRAGMA user_version``
and its owner in ``PRAGMA application_id``, so another program's database or a file that is no database at all is
named, never written to. A newer file than this hybridtls knows is refused; an older one is brought up to date by
the migrations below, each in the transaction that records its version.

What is kept per round and address: the outcome, the facts of the leaf, the chain as served (by SHA-256; each
certificate is stored once, with its DER when the round carried it), the TLS versions, and the findings by key.
An address that says the same as last time costs one small row: what it said is a *state*, stored once and
referred to by every round that saw it (each distinct certificate and finding text is stored once too), so a
steady estate watched every five minutes for 90 days stays a few megabytes. A round is recorded in one
transaction: a process killed in the middle leaves the round whole or absent. Nothing is cached in the process:
memory does not grow with the rounds, and ``rounds()`` reads them a page at a time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from hybridtls.errors import UsageError
from hybridtls.model import Severity
from hybridtls.watch.model import (
    Alert,
    AlertKind,
    FindingMark,
    Observation,
    Round,
    ServedCertificate,
    epoch,
    flag,
)

APPLICATION_ID = 0x48544C57  # "HTLW": a hybridtls watch history
_PAGE = 32  # rounds read at a time by rounds()
OUTBOX_READ = 1000  # deliveries waiting read at a time (the oldest first)

# Each entry brings the schema from its index to index + 1. Never edit one that has shipped: add the next.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: rounds; what each address said, as states stored once; certificates by SHA-256; findings; alerts sent
        f"PRAGMA application_id = {APPLICATION_ID}",
        "CREATE TABLE rounds (number INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, "
        "started_epoch REAL NOT NULL, complete INTEGER NOT NULL)",
        "CREATE INDEX rounds_by_time ON rounds (started_epoch)",
        "CREATE TABLE certificates (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, thumbprint TEXT, "
        "serial_number TEXT, subject TEXT, issuer TEXT, names TEXT, not_before TEXT, not_after TEXT, "
        "client_auth INTEGER)",
        "CREATE TABLE marks (id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, key TEXT NOT NULL, "
        "check_id TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, remediation TEXT NOT NULL)",
        "CREATE TABLE states (id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, host TEXT NOT NULL, "
        "address TEXT NOT NULL, port INTEGER NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, "
        "starttls_offered INTEGER, tls_version TEXT, versions TEXT NOT NULL, leaf INTEGER, chain_end TEXT, "
        "chain_expiry TEXT, name_covered INTEGER, expected_cert_matches INTEGER)",
        "CREATE INDEX states_by_leaf ON states (leaf)",
        "CREATE TABLE state_chains (state INTEGER NOT NULL, position INTEGER NOT NULL, certificate INTEGER NOT NULL, "
        "PRIMARY KEY (state, position)) WITHOUT ROWID",
        "CREATE INDEX state_chains_by_certificate ON state_chains (certificate)",
        "CREATE TABLE state_marks (state INTEGER NOT NULL, position INTEGER NOT NULL, mark INTEGER NOT NULL, "
        "PRIMARY KEY (state, position)) WITHOUT ROWID",
        "CREATE INDEX state_marks_by_mark ON state_marks (mark)",
        "CREATE TABLE observations (round INTEGER NOT NULL, slot INTEGER NOT NULL, state INTEGER NOT NULL, "
        "observed_at TEXT NOT NULL, elapsed_ms INTEGER NOT NULL, PRIMARY KEY (round, slot)) WITHOUT ROWID",
        "CREATE INDEX observations_by_state ON observations (state)",
        "CREATE TABLE round_marks (round INTEGER NOT NULL, position INTEGER NOT NULL, mark INTEGER NOT NULL, "
        "PRIMARY KEY (round, position)) WITHOUT ROWID",
        "CREATE INDEX round_marks_by_mark ON round_marks (mark)",
        "CREATE TABLE alerts_sent (dedupe_key TEXT PRIMARY KEY, sent_at TEXT NOT NULL, sent_epoch REAL NOT NULL, "
        "state TEXT NOT NULL)",
    ),
    (  # 2: the certificates' DER (history can show them again); a round counter that pruning cannot wind back
        "ALTER TABLE certificates ADD COLUMN der BLOB",
        "ALTER TABLE states ADD COLUMN der_kept INTEGER NOT NULL DEFAULT 0",
        "CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), next_round INTEGER NOT NULL)",
        "INSERT INTO counter VALUES (1, COALESCE((SELECT MAX(number) FROM rounds), 0) + 1)",
    ),
    (  # 3: each alert's delivery per sink (done, or waiting in the outbox to be tried again); alerts_sent now
       # keyed by the fault an alert is about (what --renotify counts from), its state column the alert's kind
        "CREATE TABLE deliveries (event_key TEXT NOT NULL, sink TEXT NOT NULL, alert TEXT NOT NULL, "
        "first_epoch REAL NOT NULL, tries INTEGER NOT NULL, delivered_epoch REAL, error TEXT NOT NULL, "
        "PRIMARY KEY (event_key, sink)) WITHOUT ROWID",
        "CREATE INDEX deliveries_waiting ON deliveries (delivered_epoch, first_epoch)",
        "DELETE FROM alerts_sent",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_STATE_COLUMNS = ("host, address, port, outcome, detail, starttls_offered, tls_version, versions, leaf, chain_end, "
                  "chain_expiry, name_covered, expected_cert_matches, der_kept")
_CERTIFICATE_COLUMNS = "thumbprint, serial_number, subject, issuer, names, not_before, not_after, client_auth"


class History:
    """The rounds of one watch, in one SQLite file. One caller at a time (the watch loop, or a reader)."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> History:
        """Open ``path``, creating it (unless ``create`` is False: a reader such as ``watch history``) or bringing
        an older schema up to date; a UsageError naming the file when it is not a hybridtls watch history (another
        program's database, a damaged file, a newer schema)."""
        name = str(path)
        if not create and name != ":memory:" and not Path(name).is_file():
            raise UsageError(f"there is no watch history at {name}", hint="give the --history file a watch wrote")
        try:
            connection = sqlite3.connect(name, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise UsageError(f"cannot open the watch history {name}: {exc}") from None
        history = cls(connection, name)
        try:
            with history._guard("cannot open the watch history"):
                connection.execute("PRAGMA busy_timeout = 10000")
                history._migrate()
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")  # in WAL: atomic and durable across a killed process
        except UsageError:
            connection.close()
            raise
        return history

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def next_round_number(self) -> int:
        """The number the next round is recorded under: one no recorded round of this file has had, across
        restarts and pruning. Taken only by ``record``: a round lost before it was recorded (a killed process) is
        probed again under the same number, so its alerts are the same events and are not delivered twice."""
        with self._guard("cannot number the next round"):
            (number,) = self._db.execute("SELECT next_round FROM counter").fetchone()
        return int(number)

    def record(self, round_: Round) -> None:
        """Keep ``round_`` whole, in one transaction. Recording a number again replaces that round: never two."""
        with self._guard(f"cannot record round {round_.number}"), self._transaction():
            self._forget((round_.number,))
            self._db.execute("INSERT INTO rounds VALUES (?, ?, ?, ?, ?)", (
                round_.number, round_.started_at.isoformat(), round_.finished_at.isoformat(),
                epoch(round_.started_at), int(round_.complete)))
            for slot, observation in enumerate(round_.observations):
                self._db.execute("INSERT INTO observations VALUES (?, ?, ?, ?, ?)", (
                    round_.number, slot, self._state(observation), observation.observed_at.isoformat(),
                    observation.elapsed_ms))
            for position, mark in enumerate(round_.findings):
                self._db.execute("INSERT INTO round_marks VALUES (?, ?, ?)", (round_.number, position, self._mark(mark)))
            self._db.execute("UPDATE counter SET next_round = MAX(next_round, ?)", (round_.number + 1,))

    def last_round(self) -> Round | None:
        with self._guard("cannot read the last round"):
            row = self._db.execute("SELECT * FROM rounds ORDER BY number DESC LIMIT 1").fetchone()
            return self._round(row) if row else None

    def rounds(self, since: datetime | None = None) -> Iterator[Round]:
        """The rounds that began at or after ``since`` (all without it), oldest first, read a page at a time."""
        after, start = 0, epoch(since) if since is not None else float("-inf")
        while True:
            with self._guard("cannot read the rounds"):
                page = self._db.execute("SELECT * FROM rounds WHERE number > ? AND started_epoch >= ? "
                                        "ORDER BY number LIMIT ?", (after, start, _PAGE)).fetchall()
                rounds = [self._round(row) for row in page]
            yield from rounds
            if len(page) < _PAGE:
                return
            after = page[-1][0]

    def last_told(self, fault_key: str) -> tuple[datetime, AlertKind] | None:
        """When an alert about this fault (``Alert.fault_key``) was last delivered, and of which kind it was."""
        with self._guard("cannot read the alerts sent"):
            row = self._db.execute("SELECT sent_at, state FROM alerts_sent WHERE dedupe_key = ?",
                                   (fault_key,)).fetchone()
        if row is None:
            return None
        try:
            kind = AlertKind(row[1])
        except ValueError:
            return None
        return datetime.fromisoformat(row[0]), kind

    def delivered(self, alert: Alert, sink: str) -> bool:
        """``alert`` (this very event) reached ``sink`` already."""
        with self._guard("cannot read the deliveries"):
            row = self._db.execute("SELECT 1 FROM deliveries WHERE event_key = ? AND sink = ? AND delivered_epoch "
                                   "IS NOT NULL", (alert.dedupe_key, sink)).fetchone()
        return row is not None

    def mark_delivered(self, alert: Alert, sink: str, at: datetime) -> None:
        """``alert`` reached ``sink`` (``"log"`` when there is no sink): never delivered there again, out of the
        outbox, and the last word about its fault."""
        with self._guard("cannot record an alert sent"), self._transaction():
            self._db.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, 0, ?, '') ON CONFLICT (event_key, sink) "
                             "DO UPDATE SET delivered_epoch = excluded.delivered_epoch",
                             (alert.dedupe_key, sink, _alert_json(alert), epoch(at), epoch(at)))
            self._db.execute("INSERT OR REPLACE INTO alerts_sent VALUES (?, ?, ?, ?)",
                             (alert.fault_key, at.isoformat(), epoch(at), alert.kind.value))

    def queue(self, alert: Alert, sink: str, at: datetime, error: str) -> int:
        """``alert`` did not reach ``sink``: keep it in the outbox, one try more. Returns the tries so far."""
        with self._guard("cannot keep an alert to try again"), self._transaction():
            self._db.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, 1, NULL, ?) ON CONFLICT (event_key, sink) "
                             "DO UPDATE SET tries = tries + 1, error = excluded.error",
                             (alert.dedupe_key, sink, _alert_json(alert), epoch(at), error[:500]))
            (tries,) = self._db.execute("SELECT tries FROM deliveries WHERE event_key = ? AND sink = ?",
                                        (alert.dedupe_key, sink)).fetchone()
        return int(tries)

    def waiting(self) -> list[tuple[Alert, str, float, int]]:
        """The outbox, oldest first (at most OUTBOX_READ): each alert, the sink it has not reached, when it was
        first tried (seconds since 1970) and how many times."""
        with self._guard("cannot read the outbox"):
            rows = self._db.execute("SELECT alert, sink, first_epoch, tries FROM deliveries WHERE delivered_epoch "
                                    "IS NULL ORDER BY first_epoch LIMIT ?", (OUTBOX_READ,)).fetchall()
        return [(_alert_from(text), sink, float(first), int(tries)) for text, sink, first, tries in rows]

    def give_up(self, alert: Alert, sink: str) -> None:
        """Take ``alert`` out of the outbox for ``sink``, undelivered."""
        with self._guard("cannot empty the outbox"):
            self._db.execute("DELETE FROM deliveries WHERE event_key = ? AND sink = ?", (alert.dedupe_key, sink))

    def last_leaves(self) -> dict[tuple[str, str, int], tuple[str, datetime]]:
        """Per address (host, address, port): the leaf it served last (SHA-256) and when the round that first
        served it, since another leaf, finished. One pass over the kept rounds, grouped in SQLite: the answer
        grows with the addresses and their certificates, never with the rounds."""
        with self._guard("cannot read the certificates served"):
            runs = self._db.execute(
                "SELECT s.host, s.address, s.port, c.sha256, MAX(o.round) FROM observations o "
                "JOIN states s ON s.id = o.state JOIN certificates c ON c.id = s.leaf "
                "GROUP BY s.host, s.address, s.port, c.sha256").fetchall()
            latest: dict[tuple[str, str, int], tuple[int, str, int]] = {}  # last round, its leaf, the other's last
            for host, address, port, sha256, last in runs:
                where = (host, address, port)
                top, leaf, other = latest.get(where, (0, "", 0))
                latest[where] = (last, sha256, max(other, top)) if last > top else (top, leaf, max(other, last))
            found: dict[tuple[str, str, int], tuple[str, datetime]] = {}
            for (host, address, port), (_, sha256, other) in latest.items():
                (since,) = self._db.execute(
                    "SELECT r.finished_at FROM observations o JOIN rounds r ON r.number = o.round "
                    "JOIN states s ON s.id = o.state JOIN certificates c ON c.id = s.leaf WHERE s.host = ? AND "
                    "s.address = ? AND s.port = ? AND c.sha256 = ? AND o.round > ? ORDER BY o.round LIMIT 1",
                    (host, address, port, sha256, other)).fetchone()
                found[(host, address, port)] = (sha256, datetime.fromisoformat(since))
        return found

    def prune(self, older_than: datetime) -> int:
        """Forget the rounds that began before ``older_than`` (never the newest, which the next round is compared
        with), the certificates and findings only they referred to, and alerts last sent before it. Returns the
        number of rounds forgotten."""
        cutoff = epoch(older_than)
        with self._guard("cannot prune the watch history"), self._transaction():
            numbers = [number for (number,) in self._db.execute(
                "SELECT number FROM rounds WHERE started_epoch < ? AND number < (SELECT MAX(number) FROM rounds)",
                (cutoff,))]
            for start in range(0, len(numbers), 500):
                self._forget(numbers[start:start + 500])
            self._db.execute("DELETE FROM states WHERE id NOT IN (SELECT state FROM observations)")
            for table in ("state_chains", "state_marks"):
                self._db.execute(f"DELETE FROM {table} WHERE state NOT IN (SELECT id FROM states)")
            self._db.execute("DELETE FROM certificates WHERE id NOT IN (SELECT certificate FROM state_chains) "
                             "AND id NOT IN (SELECT leaf FROM states WHERE leaf IS NOT NULL)")
            self._db.execute("DELETE FROM marks WHERE id NOT IN (SELECT mark FROM round_marks) "
                             "AND id NOT IN (SELECT mark FROM state_marks)")
            self._db.execute("DELETE FROM alerts_sent WHERE sent_epoch < ?", (cutoff,))
            self._db.execute("DELETE FROM deliveries WHERE delivered_epoch < ?", (cutoff,))
        return len(numbers)

    # -- writing

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        (application,) = self._db.execute("PRAGMA application_id").fetchone()
        (tables,) = self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        if application != APPLICATION_ID and (application or version or tables):
            raise UsageError(f"{self.path} is an SQLite database of another program, not a hybridtls watch history",
                             hint="give --history a new file name, or the file an earlier watch wrote")
        if version > SCHEMA_VERSION:
            raise UsageError(f"{self.path} was written by a newer hybridtls (history schema {version}; this one "
                             f"reads up to {SCHEMA_VERSION})", hint="upgrade hybridtls to read it")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                for statement in MIGRATIONS[target - 1]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {target}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise UsageError(f"{self.path}: {what}: {' '.join(str(exc).split()) or type(exc).__name__}",
                             hint="if the file is damaged, move it aside and start a new history") from None

    def _forget(self, numbers: Sequence[int]) -> None:
        marks = ", ".join("?" * len(numbers))
        for table in ("round_marks", "observations"):
            self._db.execute(f"DELETE FROM {table} WHERE round IN ({marks})", tuple(numbers))
        self._db.execute(f"DELETE FROM rounds WHERE number IN ({marks})", tuple(numbers))

    def _state(self, seen: Observation) -> int:
        """The id of what ``seen`` said (all but when and how fast), stored the first time it is said."""
        der_kept = bool(seen.chain_der) and len(seen.chain_der) == len(seen.chain_sha256)
        values = [seen.host, seen.address, seen.port, seen.outcome, seen.detail, flag(seen.starttls_offered),
                  seen.tls_version, json.dumps([[version, accepted] for version, accepted in seen.versions_accepted]),
                  seen.leaf.sha256 if seen.leaf else None, seen.chain_end,
                  seen.chain_expiry.isoformat() if seen.chain_expiry else None, flag(seen.name_covered),
                  flag(seen.expected_cert_matches), int(der_kept)]
        digest = _digest([*values, seen.chain_sha256, [_mark_digest(mark) for mark in seen.findings]])
        row = self._db.execute("SELECT id FROM states WHERE digest = ?", (digest,)).fetchone()
        if row:  # said before: its certificates and findings are stored already
            return int(row[0])
        values[8] = self._certificate_id(seen.leaf.sha256, seen.leaf) if seen.leaf else None
        state = self._db.execute(f"INSERT INTO states (digest, {_STATE_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                                 (digest, *values)).lastrowid
        assert state is not None
        self._db.executemany("INSERT INTO state_chains VALUES (?, ?, ?)", [
            (state, position, self._certificate_id(sha256, der=seen.chain_der[position] if der_kept else None))
            for position, sha256 in enumerate(seen.chain_sha256)])
        self._db.executemany("INSERT INTO state_marks VALUES (?, ?, ?)",
                             [(state, position, self._mark(mark)) for position, mark in enumerate(seen.findings)])
        return state

    def _certificate_id(self, sha256: str, leaf: ServedCertificate | None = None, der: bytes | None = None) -> int:
        """A certificate's id; its facts (from a leaf) and its DER are filled in when first known."""
        facts = (None,) * 8 if leaf is None else (
            leaf.thumbprint, leaf.serial_number, leaf.subject, leaf.issuer, json.dumps(leaf.names),
            leaf.not_before.isoformat(), leaf.not_after.isoformat(), flag(leaf.client_auth))
        self._db.execute(
            f"INSERT INTO certificates (sha256, {_CERTIFICATE_COLUMNS}, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (sha256) DO UPDATE SET der = COALESCE(certificates.der, excluded.der), "
            "thumbprint = COALESCE(certificates.thumbprint, excluded.thumbprint), serial_number = "
            "COALESCE(certificates.serial_number, excluded.serial_number), subject = COALESCE(certificates.subject, "
            "excluded.subject), issuer = COALESCE(certificates.issuer, excluded.issuer), names = "
            "COALESCE(certificates.names, excluded.names), not_before = COALESCE(certificates.not_before, "
            "excluded.not_before), not_after = COALESCE(certificates.not_after, excluded.not_after), client_auth = "
            "CASE WHEN certificates.thumbprint IS NULL THEN excluded.client_auth ELSE certificates.client_auth END",
            (sha256, *facts, der))
        (certificate,) = self._db.execute("SELECT id FROM certificates WHERE sha256 = ?", (sha256,)).fetchone()
        return int(certificate)

    def _mark(self, mark: FindingMark) -> int:
        digest = _mark_digest(mark)
        self._db.execute("INSERT OR IGNORE INTO marks (digest, key, check_id, severity, message, remediation) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (digest, *_mark_fields(mark)))
        (mark_id,) = self._db.execute("SELECT id FROM marks WHERE digest = ?", (digest,)).fetchone()
        return int(mark_id)

    # -- reading

    def _round(self, row: tuple[object, ...]) -> Round:
        number, started_at, finished_at, _, complete = row
        assert isinstance(number, int) and isinstance(started_at, str) and isinstance(finished_at, str)
        states: dict[int, Observation] = {}  # what this round's addresses said, each read once
        observations = []
        for state, observed_at, elapsed_ms in self._db.execute(
                "SELECT state, observed_at, elapsed_ms FROM observations WHERE round = ? ORDER BY slot",
                (number,)).fetchall():
            if state not in states:
                states[state] = self._read_state(state)
            observations.append(replace(states[state], observed_at=datetime.fromisoformat(observed_at),
                                        elapsed_ms=elapsed_ms))
        findings = tuple(self._marks("SELECT m.key, m.check_id, m.severity, m.message, m.remediation FROM round_marks r "
                                     "JOIN marks m ON m.id = r.mark WHERE r.round = ? ORDER BY r.position", number))
        return Round(number=number, started_at=datetime.fromisoformat(started_at),
                     finished_at=datetime.fromisoformat(finished_at), observations=tuple(observations),
                     findings=findings, complete=bool(complete))

    def _marks(self, query: str, key: int) -> list[FindingMark]:
        return [FindingMark(key=mark_key, check_id=check_id, severity=Severity(severity), message=message,
                            remediation=remediation)
                for mark_key, check_id, severity, message, remediation in self._db.execute(query, (key,))]

    def _read_state(self, state: int) -> Observation:
        (host, address, port, outcome, detail, starttls, tls_version, versions, leaf, chain_end, chain_expiry,
         name_covered, expected, der_kept) = self._db.execute(
            f"SELECT {_STATE_COLUMNS} FROM states WHERE id = ?", (state,)).fetchone()
        chain = self._db.execute("SELECT c.sha256, c.der FROM state_chains s JOIN certificates c ON c.id = "
                                 "s.certificate WHERE s.state = ? ORDER BY s.position", (state,)).fetchall()
        ders = [der for _, der in chain]
        return Observation(
            host=host, address=address, port=port, outcome=outcome, detail=detail,
            observed_at=datetime.min, starttls_offered=_unflag(starttls), tls_version=tls_version,
            versions_accepted=tuple((str(v), a) for v, a in json.loads(versions)),
            leaf=self._leaf(leaf) if leaf is not None else None,
            chain_sha256=tuple(sha256 for sha256, _ in chain),
            chain_der=tuple(bytes(d) for d in ders) if der_kept and None not in ders else (),
            chain_end=chain_end,
            chain_expiry=datetime.fromisoformat(chain_expiry) if chain_expiry is not None else None,
            name_covered=_unflag(name_covered), expected_cert_matches=_unflag(expected),
            findings=tuple(self._marks("SELECT m.key, m.check_id, m.severity, m.message, m.remediation FROM "
                                       "state_marks s JOIN marks m ON m.id = s.mark WHERE s.state = ? "
                                       "ORDER BY s.position", state)))

    def _leaf(self, certificate: int) -> ServedCertificate | None:
        row = self._db.execute(f"SELECT sha256, {_CERTIFICATE_COLUMNS} FROM certificates WHERE id = ?",
                               (certificate,)).fetchone()
        if row is None or row[1] is None:
            return None
        sha256, thumbprint, serial, subject, issuer, names, not_before, not_after, client_auth = row
        return ServedCertificate(sha256=sha256, thumbprint=thumbprint, serial_number=serial, subject=subject,
                                 issuer=issuer, names=tuple(json.loads(names)),
                                 not_before=datetime.fromisoformat(not_before),
                                 not_after=datetime.fromisoformat(not_after), client_auth=_unflag(client_auth))

    def certificate_der(self, sha256: str) -> bytes | None:
        """The DER of a certificate some round served, when it was kept."""
        with self._guard("cannot read a certificate"):
            row = self._db.execute("SELECT der FROM certificates WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None


def _digest(values: Sequence[object]) -> str:
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


def _alert_json(alert: Alert) -> str:
    return json.dumps({"kind": alert.kind.value, "severity": alert.severity.value, "label": alert.label,
                       "host": alert.host, "address": alert.address, "port": alert.port, "summary": alert.summary,
                       "before": alert.before, "after": alert.after, "fix": alert.fix,
                       "finding_key": alert.finding_key, "round": alert.round_number,
                       "raised_at": alert.raised_at.isoformat()})


def _alert_from(text: str) -> Alert:
    d = json.loads(text)
    return Alert(kind=AlertKind(d["kind"]), severity=Severity(d["severity"]), label=d["label"], host=d["host"],
                 address=d["address"], port=d["port"], summary=d["summary"],
                 before=tuple((str(k), str(v)) for k, v in d["before"]),
                 after=tuple((str(k), str(v)) for k, v in d["after"]), fix=d["fix"], finding_key=d["finding_key"],
                 round_number=d["round"], raised_at=datetime.fromisoformat(d["raised_at"]))


def _mark_fields(mark: FindingMark) -> tuple[str, str, str, str, str]:
    return mark.key, mark.check_id, mark.severity.value, mark.message, mark.remediation


def _mark_digest(mark: FindingMark) -> str:
    return _digest(_mark_fields(mark))


def _unflag(value: object) -> bool | None:
    return None if value is None else bool(value)
