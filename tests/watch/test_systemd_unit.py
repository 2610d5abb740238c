"""The example systemd unit: systemd accepts it, it is hardened, and its ExecStart parses as a watch command line."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hybridtls.cli import parser

EXAMPLES = Path(__file__).parents[2] / "examples" / "systemd"
UNIT = EXAMPLES / "hybridtls-watch.service"
ENV = EXAMPLES / "hybridtls-watch.env"


def _settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def _exec_start_words() -> list[str]:
    """ExecStart as systemd expands it with the example environment: ``$VAR`` split on white space, ``${VAR}``
    one word, $STATE_DIRECTORY from StateDirectory=."""
    environment = {k: v[-1] for k, v in _settings(ENV.read_text(encoding="utf-8")).items()}
    environment["STATE_DIRECTORY"] = "/var/lib/hybridtls"
    words: list[str] = []
    for word in _settings(UNIT.read_text(encoding="utf-8"))["ExecStart"][0].split():
        whole = re.fullmatch(r"\$([A-Z_]+)", word)
        if whole:
            words += environment[whole[1]].split()
        else:
            words.append(re.sub(r"\$\{([A-Z_]+)\}", lambda m: environment[m[1]], word))
    return words


def test_exec_start_parses_as_a_watch_command_line() -> None:
    words = _exec_start_words()
    assert words[0].endswith("/hybridtls") and words[1] == "watch"
    args = parser().parse_args(words[1:])
    assert args.command == "watch" and args.targets == ["mail.contoso.com"]
    assert args.db == "/var/lib/hybridtls/watch.sqlite" and args.interval == "5m" and args.keep == "90d"
    assert args.metrics == "127.0.0.1:9925" and args.alert_webhook == ["https://alerts.contoso.com/hybridtls"]
    assert args.targets_file == "/etc/hybridtls/targets.txt" and not args.once


def test_the_unit_is_hardened_and_restarts_on_failure() -> None:
    settings = {k: v[-1] for k, v in _settings(UNIT.read_text(encoding="utf-8")).items()}
    for key, value in (("DynamicUser", "yes"), ("StateDirectory", "hybridtls"), ("ProtectSystem", "strict"),
                       ("NoNewPrivileges", "yes"), ("Restart", "on-failure"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("KillSignal", "SIGTERM")):
        assert settings.get(key) == value, key
    assert settings["CapabilityBoundingSet"] == ""


def _verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # systemd-analyze checks that ExecStart's program exists: stand an executable in for the installed script
    unit = tmp_path / "hybridtls-watch.service"
    unit.write_text(unit_text.replace("/usr/local/bin/hybridtls", "/bin/true"), encoding="utf-8")
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    result = _verify(text, tmp_path)
    assert result.returncode == 0 and "hybridtls-watch.service" not in result.stderr, result.stderr
    broken = _verify(text.replace("Restart=on-failure", "Restart=sometimes"), tmp_path)
    assert "restart specifier" in broken.stderr  # the check can tell a bad unit
