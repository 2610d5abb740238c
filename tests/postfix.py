"""Real Postfix instances on loopback, one per scenario, for probe tests.

Each instance has its own configuration, queue and data directories under a temporary root, listens only on the
loopback address and port given, and is stopped at the end. Needs root and Debian's postfix package.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
# The installed master.cf, or the package's pristine copy when apt was told "No configuration".
MASTER_CF = next((p for p in (Path("/etc/postfix/master.cf"), Path("/usr/share/postfix/master.cf.dist")) if p.exists()),
                 Path("/etc/postfix/master.cf"))


def available() -> bool:
    return os.geteuid() == 0 and Path(POSTFIX).exists() and MASTER_CF.exists()


@dataclass
class Scenario:
    name: str
    address: str  # 127.0.0.x or ::1
    port: int
    chain_pem: bytes | None  # private key then certificates, as smtpd_tls_chain_files wants; None: no STARTTLS
    protocols: str = ">=TLSv1.2"
    hostname: str = "mx.contoso.test"
    legacy_tls: bool = False  # allow TLS 1.0/1.1 (OpenSSL security level 0)

    @property
    def listen(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


class Postfix:
    def __init__(self, root: Path, scenario: Scenario) -> None:
        self.scenario = scenario
        self.dir = root / scenario.name
        self.running = False

    def _postconf(self, *settings: str) -> None:
        subprocess.run(["postconf", "-c", str(self.dir), "-e", *settings], check=True, capture_output=True)

    def configure(self) -> None:
        s = self.scenario
        (self.dir / "queue").mkdir(parents=True, exist_ok=True)
        data = self.dir / "data"
        data.mkdir(exist_ok=True)
        shutil.chown(data, "postfix", "postfix")
        self.dir.chmod(0o755)
        (self.dir / "main.cf").write_text("compatibility_level = 3.6\n")
        master = MASTER_CF.read_text().splitlines()
        master = [f"{s.listen} inet n - n - - smtpd" if line.startswith("smtp ") and " inet " in line else line
                  for line in master]
        (self.dir / "master.cf").write_text("\n".join(master) + "\n")
        settings = [
            f"queue_directory={self.dir}/queue", f"data_directory={data}", "mail_owner=postfix",
            "inet_interfaces=loopback-only", "inet_protocols=all", f"myhostname={s.hostname}", "mydestination=",
            "relayhost=", "alias_maps=", "alias_database=", "mynetworks=127.0.0.0/8",
            f"maillog_file={self.dir}/maillog", f"maillog_file_prefixes={self.dir}", "smtpd_banner=$myhostname ESMTP",
            "smtpd_tls_session_cache_database=", "smtpd_tls_loglevel=1",
        ]
        if s.chain_pem is None:
            settings.append("smtpd_tls_security_level=none")
        else:
            chain = self.dir / "chain.pem"
            chain.write_bytes(s.chain_pem)
            chain.chmod(0o600)
            settings += ["smtpd_tls_security_level=may", f"smtpd_tls_chain_files={chain}",
                         f"smtpd_tls_protocols={s.protocols}", f"smtpd_tls_mandatory_protocols={s.protocols}"]
        if s.legacy_tls:
            conf = self.dir / "openssl.cnf"
            conf.write_text("postfix = postfix_settings\n[postfix_settings]\nssl_conf = ssl_settings\n"
                            "[ssl_settings]\nsystem_default = legacy\n[legacy]\nMinProtocol = TLSv1\n"
                            "CipherString = DEFAULT@SECLEVEL=0\n")
            settings += [f"tls_config_file={conf}", "tls_config_name=postfix", "tls_medium_cipherlist=DEFAULT@SECLEVEL=0",
                         "smtpd_tls_ciphers=medium"]
        self._postconf(*settings)
        subprocess.run(["postconf", "-c", str(self.dir), "-F", "*/*/chroot = n"], check=True, capture_output=True)

    def start(self) -> None:
        self._port_is_free()
        self.configure()
        subprocess.run([POSTFIX, "-c", str(self.dir), "start"], check=True, capture_output=True)
        self.running = True

    def _port_is_free(self) -> None:
        """Another run's Postfix on the same port would answer for this one, with other certificates."""
        family = socket.AF_INET6 if ":" in self.scenario.address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed run's TIME_WAIT is no owner
            try:
                sock.bind((self.scenario.address, self.scenario.port))
            except OSError as exc:
                raise RuntimeError(f"{self.scenario.listen} is taken ({exc.strerror}): is another test run's Postfix "
                                   "still up? ('ss -ltnp' names it)") from None

    def wait_ready(self, timeout: float = 20.0) -> None:
        family = socket.AF_INET6 if ":" in self.scenario.address else socket.AF_INET
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.socket(family, socket.SOCK_STREAM) as sock:
                    sock.settimeout(1)
                    sock.connect((self.scenario.address, self.scenario.port))
                    if sock.recv(4).startswith(b"220"):
                        return
            except OSError:
                time.sleep(0.1)
        log = (self.dir / "maillog").read_text(errors="replace")[-2000:] if (self.dir / "maillog").exists() else ""
        raise RuntimeError(f"postfix {self.scenario.name} did not start on {self.scenario.listen}: {log}")

    def stop(self) -> None:
        if self.running:
            subprocess.run([POSTFIX, "-c", str(self.dir), "stop"], capture_output=True)
            self.running = False
