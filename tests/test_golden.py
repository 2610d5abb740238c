"""Golden reports for the founding case. Set HYBRIDTLS_UPDATE_GOLDEN=1 to rewrite them, then review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CASES, FIXTURES, run_cli

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("founding-incident.txt", ["--width", "100"]),
        ("founding-incident.json", ["--format", "json"]),
        ("founding-incident-after-fix.txt", ["--width", "100"]),
    ],
)
def test_golden(monkeypatch, name: str, extra: list[str]) -> None:
    case = name.rsplit(".", 1)[0]
    _matches_golden(monkeypatch, CASES, name, case, "--now", "2016-02-20T09:00", *extra)


def _matches_golden(monkeypatch, folder: Path, name: str, *argv: str) -> None:  # type: ignore[no-untyped-def]
    """``hybridtls check ARGV`` run in ``folder`` writes exactly the golden file ``name``."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NO_COLOR", "1")
    run = run_cli("check", *argv)
    path = GOLDEN / name
    if os.environ.get("HYBRIDTLS_UPDATE_GOLDEN"):
        path.write_text(run.out, encoding="utf-8")
    assert run.out == path.read_text(encoding="utf-8")


def test_golden_change_ticket(monkeypatch) -> None:
    """A change ticket in Markdown: its commands read as configuration, judged on their own."""
    _matches_golden(monkeypatch, FIXTURES / "commands", "change-ticket.txt",
                    "change-ticket.md", "configure-hybrid.ps1", "--now", "2026-11-27T09:00", "--width", "100")


def test_golden_tables_as_pasted(monkeypatch) -> None:
    """Default tables from forum pastes: indented, without dashes, spaced, quoted, masked thumbprints, a row that does
    not line up. What was read, and what was said about what was not."""
    _matches_golden(monkeypatch, FIXTURES, "tables-as-pasted.txt", "tables", "--now", "2026-11-30T09:00",
                    "--width", "100")


def test_golden_forum_post(monkeypatch) -> None:
    """A forum post as pasted: Format-List, JSON and CSV blocks among prose, a certificate shown before and after
    the fix, a queue in Retry."""
    _matches_golden(monkeypatch, FIXTURES / "pastes", "forum-post.txt", "forum-post.txt", "--now", "2027-04-01T09:00",
                    "--width", "100")


def test_golden_store_listings(monkeypatch) -> None:
    """Store listings of two servers in every form (Format-List, a table under its PSParentPath header, -Recurse, CSV,
    certutil -store, reg query): HT-ROOT-001 proven by EXCAS1's AuthRoot listing, and the store checks."""
    _matches_golden(monkeypatch, FIXTURES, "store-listings.txt", "stores", "--now", "2026-11-30T09:00",
                    "--width", "100")


def test_golden_clixml_export(monkeypatch) -> None:
    """The founding incident with EXCAS1's certificate saved by Export-Clixml: RootCAType, Status and Services read
    from SerializationData (cited at its line), the certificate itself from RawData (its private test chain judged)."""
    _matches_golden(monkeypatch, FIXTURES, "clixml-export.txt", "clixml", "--now", "2016-02-20T09:00",
                    "--width", "100")


def test_golden_healthchecker_export(monkeypatch) -> None:
    """The founding incident with EXCAS1 given only by HealthChecker's XML: its certificate (RootCAType from
    SerializationData), receive connector and transport service read from inside it, attributed to the server
    HealthChecker names, each cited at its own line; the note of what was read."""
    _matches_golden(monkeypatch, FIXTURES, "healthchecker-export.txt", "healthchecker", "--now", "2016-02-20T09:00",
                    "--width", "100")


def test_golden_root_update(monkeypatch) -> None:
    """A server that manages its roots by hand (DisableRootAutoUpdate 1, an AuthRoot list synced last in 2025) and
    lacks DigiCert Global Root G2: HT-STORE-008 and HT-STORE-009, with the import of the root checked by hash."""
    _matches_golden(monkeypatch, FIXTURES, "root-update.txt", "rootupdate", "--now", "2026-11-30T09:00",
                    "--width", "100")


@pytest.mark.parametrize(("name", "extra"), [
    ("first-screen.txt", ["--width", "100"]),
    ("first-screen.md", ["--format", "markdown"]),
    ("first-screen.html", ["--format", "html"]),
])
def test_golden_first_screen(monkeypatch, name: str, extra: list[str]) -> None:
    """The README's main command with --brief: the summary alone, as an admin meets the bundled case on the day."""
    _matches_golden(monkeypatch, Path(__file__).resolve().parents[1], name, "examples/founding-incident",
                    "--now", "2016-02-18", "--brief", *extra)
