"""hybridtls as a real process: pipes closed early, a pseudo-terminal of a known width, Ctrl-C (SIGINT), and a
silent loopback SMTP server that accepts and says nothing."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
GUARD = 120.0  # seconds before a test gives up waiting: a hang fails the test, no duration is asserted


def environment(**extra: str) -> dict[str, str]:
    """This checkout's hybridtls, with none of the caller's colour or width settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES",
                                                            "TTY_COMPATIBLE", "CI")}
    env["PYTHONPATH"] = str(SRC)
    env.update(extra)
    return env


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python turns it into KeyboardInterrupt (not ignored as under &)


def start(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None, controlling: Terminal | None = None,
          **streams: object) -> subprocess.Popen[bytes]:
    """hybridtls in a new process; with ``controlling``, in its own session with that terminal as /dev/tty (where
    getpass prompts)."""
    def prepare() -> None:
        _sigint_default()
        if controlling is not None:
            os.setsid()
            os.close(os.open(controlling.name, os.O_RDWR))  # the first terminal a session leader opens is its own

    return subprocess.Popen([sys.executable, "-m", "hybridtls", *argv], env=env or environment(), cwd=cwd,
                            preexec_fn=prepare, **streams)  # type: ignore[call-overload, no-any-return]


class Terminal:
    """A pseudo-terminal of ``columns`` x 24: what the process writes to it is collected as it comes."""

    def __init__(self, columns: int = 80) -> None:
        self.master, self.slave = pty.openpty()
        self.name = os.ttyname(self.slave)
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self.seen = b""
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)

    def start_reading(self) -> None:
        os.close(self.slave)  # the child holds it now; the master then sees EOF when the child exits
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the other side closed
                chunk = b""
            with self.changed:
                self.seen += chunk
                self.changed.notify_all()
            if not chunk:
                return

    def wait_for(self, text: bytes) -> bytes:
        """Everything written so far, once ``text`` has appeared (fails after GUARD seconds without it)."""
        with self.changed:
            if not self.changed.wait_for(lambda: text in self.seen, timeout=GUARD):
                raise AssertionError(f"{text!r} never appeared; the terminal showed {self.seen[-2000:]!r}")
            return self.seen

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def finish(self) -> bytes:
        self.reader.join(GUARD)
        os.close(self.master)
        return self.seen


class SilentServer:
    """Accepts SMTP connections on 127.0.0.1 and never says a word; ``accepted`` is set at the first one."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = threading.Event()
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.accepted.set()

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.socket.close()
        for connection in self.connections:
            connection.close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])
