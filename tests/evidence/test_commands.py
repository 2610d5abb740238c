"""Command lines (New-/Set- connectors, Set-HybridConfiguration) and bare error text, read as evidence.

The tokenizer is held to PowerShell's quoting rules by hand-written cases, by a round trip through
``powershell.ps_literal`` (the quoting every fix uses), and against pygments' PowerShellLexer as an independent peer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexers import PowerShellLexer
from pygments.token import Name, String

from hybridtls.errors import EvidenceError
from hybridtls.evidence.commands import CommandLinesReader
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.pscommand import CommandSyntaxError, Value, ValueKind, parse_command, resolve_parameter
from hybridtls.evidence.registry import reader_for
from hybridtls.model import (
    ConnectorDirection,
    DeliveryError,
    HybridConfiguration,
    Notice,
    OnlineConnector,
    ReceiveConnector,
    SendConnector,
    ServerBasis,
    ServerRef,
    Source,
)
from hybridtls.pipeline import explain_error_text
from hybridtls.powershell import ps_literal

FIXTURES = Path(__file__).parents[1] / "fixtures" / "commands"
ISSUER = "CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
SUBJECT = "CN=mail.contoso.com, O=Contoso Ltd, C=US"
NAME = f"<I>{ISSUER}<S>{SUBJECT}"


def literal(text: str) -> Value:
    return Value(ValueKind.LITERAL, text)


def value_of(line: str, parameter: str = "P") -> Value | None:
    found = parse_command(line).get(parameter)
    assert found is not None, line
    return found.value


# --- the tokenizer ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "expected"), [
    ("Set-X -P 'it''s'", literal("it's")),
    ("Set-X -P \u2018it\u2019\u2019s\u2019", literal("it\u2019s")),  # curly singles: any closes, doubled is one
    ("Set-X -P \u2018a'", literal("a")),
    ('Set-X -P "a""b`"c`n"', literal('a"b"c\n')),
    ("Set-X -P \u201ca\u201d", literal("a")),
    ("Set-X -P \u201ea\u201c\u201cb\u201d", literal("a\u201cb")),
    ('Set-X -P "a\'\'b"', literal("a''b")),  # no doubling of single quotes inside double quotes
    ("Set-X -P:$true", Value(ValueKind.BOOLEAN, "True")),
    ("Set-X -P:$False", Value(ValueKind.BOOLEAN, "False")),
    ("Set-X -P $null", Value(ValueKind.NULL, None)),
    ("Set-X -P $TLSCertName", Value(ValueKind.VARIABLE, "$TLSCertName")),
    ("Set-X -P ${TLS Cert}", Value(ValueKind.VARIABLE, "${TLS Cert}")),
    ("Set-X -P $env:NAME", Value(ValueKind.VARIABLE, "$env:NAME")),
    ("Set-X -P $c.Subject", Value(ValueKind.EXPRESSION, "$c.Subject")),
    ('Set-X -P "<I>$($c.Issuer)<S>$($c.Subject)"', Value(ValueKind.EXPRESSION, '"<I>$($c.Issuer)<S>$($c.Subject)"')),
    ("Set-X -P (Get-Date)", Value(ValueKind.EXPRESSION, "(Get-Date)")),
    ("Set-X -P $a$b", Value(ValueKind.EXPRESSION, "$a$b")),  # a second variable in one value (was a hang)
    ('Set-X -P "$a"$b', Value(ValueKind.EXPRESSION, '"$a"$b')),
    ("Set-X -P a,b", Value(ValueKind.ARRAY, None, (literal("a"), literal("b")))),
    ("Set-X -P 'a' , \"b\"", Value(ValueKind.ARRAY, None, (literal("a"), literal("b")))),
    ("Set-X -P @('a','b')", Value(ValueKind.ARRAY, None, (literal("a"), literal("b")))),
    ("Set-X -P @(\n 'a'\n 'b'\n)", Value(ValueKind.ARRAY, None, (literal("a"), literal("b")))),
    ("Set-X -P a`,b", literal("a,b")),
    ("Set-X -P mail.contoso.com", literal("mail.contoso.com")),
    ("Set-X -P 'a'b\"c\"", literal("abc")),
])
def test_values(line: str, expected: Value) -> None:
    assert value_of(line) == expected


def test_switches_positional_splats_and_the_end_of_a_command() -> None:
    command = parse_command("Set-ReceiveConnector 'EX1\\Default Frontend EX1' `\n  -Enabled -RequireTLS:$false "
                            "@more -Fqdn x # comment -Nope 1")
    assert command.name == "Set-ReceiveConnector"
    assert command.positional == (literal("EX1\\Default Frontend EX1"),)
    assert [(p.name, p.value) for p in command.parameters] == [
        ("Enabled", None), ("RequireTLS", Value(ValueKind.BOOLEAN, "False")), ("Fqdn", literal("x"))]
    assert command.splats == ("more",)
    for end in ("; Get-Y", " | Out-Null", "\nGet-Y"):
        assert parse_command(f"Set-X -A b{end}").get("A") == parse_command("Set-X -A b").get("A")


def test_continuations_with_crlf_and_a_value_spanning_lines() -> None:
    command = parse_command("Set-X `\r\n  -A 'one\r\ntwo' `\r\n  -B c\r\n-C d")
    assert command.get("A").value == literal("one\r\ntwo")  # type: ignore[union-attr]
    assert command.get("B").value == literal("c")  # type: ignore[union-attr]
    assert command.get("C") is None


@pytest.mark.parametrize("line", ["Set-X -P 'open", 'Set-X -P "open', "Set-X -P @('a'", "Set-X -P $(a",
                                  'Set-X -P "a`', "Set-X -P ${open", "Set-X -P (" * 40])
def test_what_powershell_would_not_parse_is_one_error(line: str) -> None:
    with pytest.raises(CommandSyntaxError) as caught:
        parse_command(line)
    assert "\n" not in str(caught.value)


@given(st.text())
def test_any_string_round_trips_through_ps_literal(text: str) -> None:
    assert value_of(f"Set-SendConnector -P {ps_literal(text)} -Q x") == literal(text)
    assert value_of(f"Set-SendConnector -P:{ps_literal(text)}") == literal(text)


@given(st.lists(st.text(), min_size=2, max_size=4))
def test_any_list_round_trips(texts: list[str]) -> None:
    written = ", ".join(ps_literal(t) for t in texts)
    assert value_of(f"Set-X -P {written}") == Value(ValueKind.ARRAY, None, tuple(literal(t) for t in texts))
    assert value_of(f"Set-X -P @({written})") == Value(ValueKind.ARRAY, None, tuple(literal(t) for t in texts))


@given(st.text())
@settings(max_examples=300)
def test_any_text_parses_or_is_one_syntax_error(text: str) -> None:
    try:
        parse_command("Set-X " + text)
    except CommandSyntaxError as exc:
        assert "\n" not in str(exc)


_ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="'`"), max_size=30)
# real parameter names: pygments reads a short one such as -f or -eq as an operator, not knowing argument mode
_PARAMETER = st.sampled_from(["Identity", "Name", "TlsCertificateName", "Fqdn", "RequireTLS", "SmartHosts", "TlsDomain",
                              "TlsSenderCertificateName", "OnPremisesSmartHost", "AddressSpaces", "Enabled"])


@given(st.lists(st.tuples(_PARAMETER, st.one_of(_ASCII.map(lambda t: ("single", t)),
                                                 st.from_regex(r"[A-Za-z]\w{0,8}", fullmatch=True)
                                                 .map(lambda t: ("variable", t)))), min_size=1, max_size=5))
def test_pygments_reads_the_same_parameters_strings_and_variables(pairs: list[tuple[str, tuple[str, str]]]) -> None:
    line = "Set-SendConnector " + " ".join(
        f"-{name} {ps_literal(text) if kind == 'single' else '$' + text}" for name, (kind, text) in pairs)
    tokens = [(kind, text) for kind, text in PowerShellLexer().get_tokens(line) if text.strip()]
    peer_parameters = [text[1:] for kind, text in tokens if kind in Name and text.startswith("-")]
    peer_strings = [text[1:-1].replace("''", "'") for kind, text in tokens if kind in String.Single]
    peer_variables = [text for kind, text in tokens if kind in Name.Variable]
    ours = parse_command(line)
    assert [p.name for p in ours.parameters] == peer_parameters
    assert [p.value.text for p in ours.parameters if p.value and p.value.kind is ValueKind.LITERAL] == peer_strings
    assert [p.value.text for p in ours.parameters if p.value and p.value.kind is ValueKind.VARIABLE] == peer_variables


# --- the reader -------------------------------------------------------------------------------------------------

def read(name: str) -> list[object]:
    path = FIXTURES / name
    file = EvidenceFile(str(path), path.read_bytes())
    assert isinstance(reader_for(file), CommandLinesReader)
    return [r for r in reader_for(file).read(file) if not type(r).__name__ == "RawRecord"]


def test_a_change_ticket_in_markdown() -> None:
    path = str(FIXTURES / "change-ticket.md")
    records = read("change-ticket.md")
    assert [(type(r).__name__, r.source.line) for r in records] == [  # type: ignore[attr-defined]
        ("SendConnector", 11), ("ReceiveConnector", 12), ("ReceiveConnector", 17), ("OnlineConnector", 25),
        ("OnlineConnector", 26)]
    send, typo, curly, outbound, inbound = records
    assert isinstance(send, SendConnector) and send.name == "Outbound to Office 365"
    assert send.tls_certificate_name == NAME and send.configured_by is not None
    assert send.configured_by.command == "Set-SendConnector" and send.configured_by.parameters == (
        "identity", "tlscertificatename")
    assert isinstance(typo, ReceiveConnector) and typo.tls_certificate_name == NAME.replace("<S>", "\\<S>")
    assert typo.server == ServerRef(name="EXCAS1", basis=ServerBasis.IDENTITY)
    assert isinstance(curly, ReceiveConnector) and curly.tls_certificate_name == NAME and curly.fqdn == "mail.contoso.com"
    assert curly.cite("fqdn") == Source(path=path, line=19)  # the continuation line that sets it
    assert isinstance(outbound, OnlineConnector) and outbound.direction is ConnectorDirection.OUTBOUND
    assert (outbound.tls_settings, outbound.tls_domain) == ("DomainValidation", "mail.contoso.com")
    assert isinstance(inbound, OnlineConnector) and inbound.require_tls is True


def test_a_hybrid_configuration_wizard_log() -> None:
    config, send, outbound = read("hcw-excerpt.log")
    assert isinstance(config, HybridConfiguration) and config.tls_certificate_name == NAME
    assert config.receiving_transport_servers == ("EXCAS1", "EXCAS2") and config.edge_transport_servers == ()
    assert config.features[:2] == ("FreeBusy", "MoveMailbox") and config.on_premises_smart_host == "mail.contoso.com"
    assert isinstance(send, SendConnector) and send.is_hybrid and send.require_tls is True
    assert send.source_transport_servers == ("EXCAS1", "EXCAS2")
    assert isinstance(outbound, OnlineConnector) and outbound.is_hybrid and outbound.smart_hosts == ("mail.contoso.com",)


def test_a_script_with_splatting_and_a_variable() -> None:
    send, receive = read("configure-hybrid.ps1")
    assert isinstance(send, SendConnector) and send.name == "Outbound to Office 365" and send.is_hybrid
    assert send.tls_certificate_name is None  # never invented
    assert send.configured_by is not None and send.configured_by.unknown == {"tlscertificatename": "$TLSCertName"}
    assert not send.configured_by.sets("tlscertificatename") and send.configured_by.sets("fqdn")
    assert send.source_transport_servers == ("EXCAS1", "EXCAS2") and send.cite("requiretls").line == 8
    assert send.cite("tlscertificatename").line == 18
    assert isinstance(receive, ReceiveConnector) and receive.accepts_cloud_mail


def test_error_text_in_an_ndr_and_in_chat() -> None:
    [ndr] = read("ndr-tls-required.txt")
    assert isinstance(ndr, DeliveryError) and ndr.origin == "NDR diagnostic information" and ndr.source.line == 6
    assert "451 5.7.3 STARTTLS is required" in ndr.text and "Original message headers" not in ndr.text
    errors = read("queue-last-errors.md")
    assert [(e.origin, e.source.line, e.text[:13]) for e in errors] == [  # type: ignore[attr-defined]
        ("LastError line", 3, "451 4.4.0 Pri"), ("LastError line", 7, "441 4.4.1 Err"), ("error line", 9, "450 4.7.321 s")]


def test_a_get_queue_listing_is_read_once() -> None:
    text = ("PS C:\\> Get-Queue | Format-List\n\nIdentity      : EXCAS1\\4\nDeliveryType  : SmartHostConnectorDelivery\n"
            "NextHopDomain : contoso.mail.onmicrosoft.com\nMessageCount  : 12\n"
            "LastError     : 451 4.4.0 Primary target IP address responded with: \"454 4.7.5 The certificate ...\"\n")
    file = EvidenceFile("queue.txt", text.encode())
    records = list(reader_for(file).read(file))
    assert [type(r).__name__ for r in records] == ["RawRecord"]  # the console reader's queue record, no bare copy


@pytest.mark.parametrize("text", ["Ran Set-SendConnector to fix it, then we're done.\n",
                                  "LastError : \n", "Nothing here\n"])
def test_prose_is_not_a_command(text: str) -> None:
    file = EvidenceFile("notes.txt", text.encode())
    try:
        records = list(CommandLinesReader().read(file))
    except EvidenceError as exc:
        assert "no command line" in str(exc)
    else:
        assert not [r for r in records if type(r).__name__ != "RawRecord"]


def test_a_command_powershell_would_not_parse_is_an_evidence_error_with_its_line() -> None:
    file = EvidenceFile("t.ps1", b"# fix\n\nSet-SendConnector -Identity 'Outbound -TlsCertificateName x\n")
    with pytest.raises(EvidenceError) as caught:
        list(reader_for(file).read(file))
    assert caught.value.line == 3 and "single-quoted string is not closed" in str(caught.value)


@given(st.binary(max_size=400))
@settings(max_examples=200)
def test_any_bytes_raise_only_evidence_error(data: bytes) -> None:
    file = EvidenceFile("x.txt", b"Set-SendConnector -Identity " + data)
    try:
        list(CommandLinesReader().read(file))
    except EvidenceError:
        pass


@given(st.text(alphabet=st.sampled_from(list("Set-SendConnector -'\"`\u2018\u201c$@(){},;|#\n\r :<>ISLastError4.5"))))
@settings(max_examples=300)
def test_any_text_of_the_tricky_characters_raises_only_evidence_error(text: str) -> None:
    file = EvidenceFile("x.md", text.encode())
    try:
        list(CommandLinesReader().read(file))
    except EvidenceError as exc:
        assert "\n" not in str(exc)


def test_a_folder_of_them_is_evidence() -> None:
    evidence = load_evidence([str(FIXTURES)])
    assert len(evidence.send_connectors) == 3 and len(evidence.hybrid_configurations) == 1
    assert len(evidence.delivery_errors) == 4 and not evidence.problems


# --- explain "<error text>" ---------------------------------------------------------------------------------------

def test_explain_an_error_text_with_nested_responses() -> None:
    nested = ("450 4.4.101 Proxy session setup failed on Frontend with \u2018451 4.4.0 Primary target IP address "
              "responded with: \u201c451 5.7.3 STARTTLS is required to send mail.\u201d\u2019")
    assert [c.meaning for c in explain_error_text(nested)] == ["the on-premises server did not offer STARTTLS"]
    wrapper_only = "450 4.4.101 Proxy session setup failed on Frontend with '451 4.4.0 something new'"
    assert [c.meaning for c in explain_error_text(wrapper_only)] == [
        "a front end could not pass the mail on, and the reply it got is not one hybridtls knows"]
    assert explain_error_text("421 4.3.2 System not accepting network messages") == ()


@pytest.mark.parametrize("text", [
    "x Set-SendConnector " * 200_000,  # one huge line of prose naming the cmdlet
    "(Set-SendConnector -A 'Set-SendConnector " * 50_000 + "'",  # commands inside a command
    "Set-SendConnector -A " + "'a'," * 200_000 + "'b'\n",  # a huge array
    "LastError : " + "x" * 2_000_000 + "\n",
    "".join(f"$v{i} = 'x'\nSet-SendConnector 'O' -TlsCert $v{i}\n" for i in range(10_000)),
], ids=["prose naming it", "commands inside a command", "huge array", "huge error line", "many variables"])
def test_huge_hostile_input_takes_bounded_time(text: str) -> None:
    import time

    started = time.perf_counter()
    try:
        list(CommandLinesReader().read(EvidenceFile("huge.txt", text.encode())))
    except EvidenceError as exc:
        assert "\n" not in str(exc)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_script_saved_on_windows_reads_the_same(tmp_path: Path, encoding: str) -> None:
    original = (FIXTURES / "configure-hybrid.ps1").read_text(encoding="utf-8")
    copy = tmp_path / "configure-hybrid.ps1"
    copy.write_bytes(original.replace("\n", "\r\n").encode(encoding))
    file = EvidenceFile(str(copy), copy.read_bytes())
    records = [r for r in reader_for(file).read(file) if type(r).__name__ != "RawRecord"]
    expected = read("configure-hybrid.ps1")
    assert [(type(r), r.source.line, r.field_lines) for r in records] == [  # type: ignore[attr-defined]
        (type(r), r.source.line, r.field_lines) for r in expected]  # type: ignore[attr-defined]
    assert [getattr(r, "tls_certificate_name", None) for r in records] == [
        getattr(r, "tls_certificate_name", None) for r in expected]


# --- abbreviated parameter names, as PowerShell binds them --------------------------------------------------------

@pytest.mark.parametrize(("written", "expected"), [
    ("TlsCert", ("TlsCertificateName",)),
    ("tlsdom", ("TlsDomain",)),  # case-insensitive
    ("Fqdn", ("Fqdn",)),
    ("Enabled", ("Enabled",)),  # the exact name binds although -EnabledX would start with it too
    ("cf", ("Confirm",)),  # an alias, exactly
    ("Tls", ("TlsAuthLevel", "TlsCertificateName", "TlsDomain")),  # ambiguous
    ("Nope", ()),
])
def test_a_parameter_binds_by_its_unambiguous_prefix(written: str, expected: tuple[str, ...]) -> None:
    names = ("TlsAuthLevel", "TlsCertificateName", "TlsDomain", "Fqdn", "Enabled", "EnabledX", "Confirm")
    assert resolve_parameter(written, names, {"cf": "Confirm"}) == expected


def read_text(tmp_path: Path, text: str, name: str = "change.ps1") -> list[object]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    file = EvidenceFile(str(path), path.read_bytes())
    return [r for r in CommandLinesReader().read(file) if type(r).__name__ != "RawRecord"]


def test_abbreviated_parameters_set_what_their_whole_names_set(tmp_path: Path) -> None:
    [send, receive] = read_text(tmp_path, (
        f'Set-SendConnector "To O365" -TlsCert "{NAME}" -fqdn mail.contoso.com -RequireTLS:$true -TlsDom '
        "mail.protection.outlook.com -TlsAuth DomainValidation\n"
        "Set-ReceiveConnector 'EXCAS1\\Default Frontend EXCAS1' -TlsCertificateN '" + NAME + "' -TlsDomainCap "
        "'mail.protection.outlook.com:AcceptCloudServicesMail' -AuthM Tls, Integrated\n"))
    assert isinstance(send, SendConnector) and send.name == "To O365"
    assert (send.tls_certificate_name, send.fqdn, send.require_tls, send.tls_domain, send.tls_auth_level) == (
        NAME, "mail.contoso.com", True, "mail.protection.outlook.com", "DomainValidation")
    assert send.configured_by is not None and send.configured_by.parameters == (
        "identity", "tlscertificatename", "fqdn", "requiretls", "tlsdomain", "tlsauthlevel")
    assert isinstance(receive, ReceiveConnector) and receive.tls_certificate_name == NAME and receive.accepts_cloud_mail
    assert receive.auth_mechanism == ("Tls", "Integrated")


def test_a_splatted_hashtable_binds_prefixes_too(tmp_path: Path) -> None:
    [send] = read_text(tmp_path, f"$p = @{{ TlsCert = '{NAME}'; CloudServicesMail = $true }}\n"
                                 "Set-SendConnector 'Outbound to Office 365' @p\n")
    assert isinstance(send, SendConnector) and send.tls_certificate_name == NAME and send.cloud_services_mail_enabled


@pytest.mark.parametrize(("line", "candidates"), [
    (f"Set-SendConnector 'Outbound to Office 365' -Tls '{NAME}'", "-TlsAuthLevel, -TlsCertificateName, -TlsDomain"),
    ("Set-ReceiveConnector 'EXCAS1\\Default Frontend EXCAS1' -Enable:$true", "-EnableAuthGSSAPI, -Enabled"),
    ("New-InboundConnector -Name 'Inbound from Contoso' -Re $true", "-RequireTls, -RestrictDomainsToCertificate, "
                                                                    "-RestrictDomainsToIPAddresses"),
    ("Set-HybridConfiguration -Se 'EXMBX1'", "-SecureMailCertificateThumbprint, -SendingTransportServers, "
                                             "-ServiceInstance"),
])
def test_an_ambiguous_prefix_is_not_understood_and_names_its_line(tmp_path: Path, line: str, candidates: str) -> None:
    records = read_text(tmp_path, f"# the change\n\n{line}\n")
    [notice] = records  # PowerShell refuses the whole command: nothing it sets is read
    assert isinstance(notice, Notice) and notice.source.line == 3
    assert f"is ambiguous (it could be {candidates}): not understood" in notice.message


# --- a variable the script assigns a quoted string once, before the command ---------------------------------------

R11 = "<I>CN=R11, O=Let's Encrypt, C=US<S>CN=mail.contoso.com"


def test_a_variable_assigned_a_literal_once_before_is_read(tmp_path: Path) -> None:
    records = read_text(tmp_path, f"$name = '{R11.replace(chr(39), chr(39) * 2)}'\n\n"
                                  "Set-SendConnector 'Outbound to Office 365' -TlsCertificateName $name\n")
    send, notice = records
    assert isinstance(send, SendConnector) and send.tls_certificate_name == R11
    assert send.configured_by is not None and send.configured_by.sets("tlscertificatename")
    assert isinstance(notice, Notice) and notice.source.line == 3
    assert notice.message == ("Set-SendConnector sets -TlsCertificateName from $name, read as the string assigned to it "
                              "on line 1")


@pytest.mark.parametrize("script", [
    "PS C:\\> $n = \"{name}\"\nPS C:\\> Set-SendConnector 'Outbound to Office 365' -TlsCert $N\n",  # after prompts
    "$n = '{name}'; Set-SendConnector 'Outbound to Office 365' -TlsCertificateName ${{n}}\n",
], ids=["prompts, another case", "one line, braces"])
def test_the_same_variable_in_other_spellings(tmp_path: Path, script: str) -> None:
    send = read_text(tmp_path, script.format(name=NAME))[0]
    assert isinstance(send, SendConnector) and send.tls_certificate_name == NAME


@pytest.mark.parametrize("script", [
    "$n = '{name}'\n$n = 'other'\nSet-SendConnector 'O' -TlsCertificateName $n\n",  # assigned twice
    "Set-SendConnector 'O' -TlsCertificateName $n\n$n = '{name}'\n",  # assigned after its use
    "$n = '{name}'\n$n += 'x'\nSet-SendConnector 'O' -TlsCertificateName $n\n",
    "$n = \"<I>$($c.Issuer)<S>$($c.Subject)\"\nSet-SendConnector 'O' -TlsCertificateName $n\n",  # an expression
    "$n = Get-Content name.txt\nSet-SendConnector 'O' -TlsCertificateName $n\n",  # a command
    "$n = '{name}' + 'x'\nSet-SendConnector 'O' -TlsCertificateName $n\n",
    "foreach ($n in '{name}', 'b') {{ Set-SendConnector 'O' -TlsCertificateName $n }}\n",
    "$n = '{name}'\nGet-Item x -OutVariable n\nSet-SendConnector 'O' -TlsCertificateName $n\n",
    "$n = '{name}'\nSet-Variable -Name n -Value 'x'\nSet-SendConnector 'O' -TlsCertificateName $n\n",
    "param([string]$n = '{name}')\nSet-SendConnector 'O' -TlsCertificateName $n\n",  # the caller may give another
    "$script:n = '{name}'\nSet-SendConnector 'O' -TlsCertificateName $script:n\n",
    "if ($x) {{ Write-Host $n = '{name}' }}\nSet-SendConnector 'O' -TlsCertificateName $n\n",  # not a statement
], ids=["twice", "after", "appended", "expression", "command", "operator", "loop", "OutVariable", "Set-Variable",
        "param", "scope", "not a statement"])
def test_a_variable_not_plainly_assigned_once_stays_unknown(tmp_path: Path, script: str) -> None:
    send = next(r for r in read_text(tmp_path, script.format(name=NAME)) if isinstance(r, SendConnector))
    assert send.tls_certificate_name is None
    assert send.configured_by is not None and "tlscertificatename" in send.configured_by.unknown


def test_a_substituted_name_is_checked_and_an_unknown_one_still_warned(tmp_path: Path) -> None:
    from conftest import certificate, format_list, judge

    (tmp_path / "Get-ExchangeCertificate.txt").write_text(format_list(certificate()), encoding="utf-8")
    (tmp_path / "change.ps1").write_text(
        f"$name = '{R11.replace(chr(39), chr(39) * 2)}'\n"
        "Set-SendConnector 'Outbound to Office 365' -TlsCert $name\n"
        "$other = 'a'\n$other = 'b'\nSet-ReceiveConnector 'EXCAS1\\Default Frontend EXCAS1' -TlsCert $other\n",
        encoding="utf-8")
    _, findings = judge(tmp_path)
    assert {(f.check_id, f.subject) for f in findings if f.check_id.startswith("HT-CMD")} == {
        ("HT-CMD-003", "send connector 'Outbound to Office 365'"),
        ("HT-CMD-002", "receive connector 'EXCAS1\\Default Frontend EXCAS1'")}
