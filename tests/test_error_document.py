"""``--format json`` writes a JSON document on every exit: a run that ends in an error says why in JSON too, where
the report would have gone, and never over one of its inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import run_cli

SCHEMA = json.loads((Path(__file__).parent.parent / "src/hybridtls/report/schema/error-v1.json").read_text())


def _document(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


def test_nothing_usable_lists_every_file_that_could_not_be_read(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"Thumbprint": ')
    (tmp_path / "notes.txt").write_text("nothing here\n")
    run = run_cli("check", str(tmp_path), "--format", "json")
    document = _document(run.out)
    assert run.code == 2 and document["verdict"] == "error" and document["command"] == "check"
    assert document["error"]["message"].startswith("nothing usable was read")
    assert any("broken.json" in p["where"] for p in document["problems"])
    assert "nothing usable was read" in run.err  # the one-line error is still on stderr


def test_a_missing_path_and_a_bad_option_value(tmp_path: Path) -> None:
    document = _document(run_cli("check", str(tmp_path / "absent"), "--format", "json").out)
    assert "absent" in json.dumps(document)
    document = _document(run_cli("check", str(tmp_path), "--format", "json", "--server", "no such").out)
    assert "--server" in document["error"]["message"]


@pytest.mark.parametrize("command", ["check", "cert", "probe", "plan", "explain", "collector"])
def test_a_command_line_that_does_not_parse_still_gets_json(command: str) -> None:
    """The command is named from the command table, every command of it (a list written apart once left one out)."""
    run = run_cli(command, "--format=json", "--no-such-option", "x")
    assert run.code == 2 and _document(run.out)["command"] == command


def test_to_output_when_given_but_never_over_an_input(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = run_cli("check", str(tmp_path / "absent"), "--format", "json", "--output", str(report))
    assert run.out == "" and _document(report.read_text())["verdict"] == "error"
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    inside = evidence / "certs.txt"
    inside.write_text("precious\n")
    run = run_cli("check", str(evidence), "--format", "json", "--output", str(inside))
    assert inside.read_text() == "precious\n"
    assert _document(run.out)["verdict"] == "error"


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html"])
def test_other_formats_write_nothing_on_error(tmp_path: Path, fmt: str) -> None:
    run = run_cli("check", str(tmp_path / "absent"), "--format", fmt)
    assert run.code == 2 and run.out == ""
