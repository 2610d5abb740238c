"""``hybridtls collector``: the PowerShell script it prints parses, runs only the cmdlets we document and allow,
collects no message content or credentials, and writes a folder that ``check`` reads whole."""

from __future__ import annotations

import ast
import base64
import codecs
import hashlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import certifi
import pytest
import tree_sitter_powershell
from conftest import FIXTURES, run_cli
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from tree_sitter import Language, Node, Parser

import hybridtls
from hybridtls.cli.collector import script_text
from hybridtls.model import ServerBasis

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "collector.md"
SHIPPED = ROOT / "src" / "hybridtls" / "collector" / "Collect-HybridTls.ps1"
SAMPLE = FIXTURES / "collector"  # Format-List text as the script saves it, one folder per server

# Every cmdlet the script may run, and why; each is documented in docs/collector.md.
ALLOWED = {
    "Get-ExchangeServer": "the servers",
    "Get-ExchangeCertificate": "each server's certificates",
    "Get-ReceiveConnector": "each server's receive connectors",
    "Get-TransportService": "the transport service and its protocol log path",
    "Get-FrontendTransportService": "the front-end protocol log paths",
    "Get-Queue": "each transport server's queues",
    "Get-SendConnector": "the send connectors",
    "Get-HybridConfiguration": "the hybrid configuration",
    "Get-ConnectionInformation": "whether Exchange Online is connected, and with which prefix",
    "Get-InboundConnector": "Exchange Online's inbound connectors",
    "Get-OutboundConnector": "Exchange Online's outbound connectors",
    "Get-MessageTraceV2": "Pending and Failed messages, 48 hours",
    "Get-MessageTrace": "the same with an older module",
    "Get-MessageTraceDetailV2": "the details of up to 50 of them",
    "Get-WinEvent": "the certificate and Schannel events",
    "New-PSSession": "one remoting session per server, for the stores",
    "Invoke-Command": "the stores, listed on the server",
    "Remove-PSSession": "closing that session",
    "Get-ChildItem": "the certificate stores and the protocol log folders",
    "Get-Command": "whether a cmdlet is there",
    "Select-Object": "leaving out Subject and the remoting properties",
    "Where-Object": "filtering",
    "Format-List": "the text files",
    "Out-String": "the text of the stores, formatted on the server",
    "Out-File": "the text files",
    "Export-Clixml": "the CliXML files",
    "Compress-Archive": "the archive",
    "New-Item": "the folders",
    "Join-Path": "paths",
    "Get-Location": "the default output folder",
    "Get-Date": "times",
    "New-Object": "lists",
    "Write-Host": "the summary",
    "Write-Warning": "what could not be collected, as it happens",
    "Write-Verbose": "what was collected, with -Verbose",
    "Write-Progress": "progress",
}
# Cmdlets and parameters that read message content or credentials, or change anything: never in the script.
FORBIDDEN_COMMANDS = {
    "Get-Credential", "Export-Mailbox", "New-MailboxExportRequest", "Search-Mailbox", "New-MailboxSearch",
    "New-ComplianceSearch", "Start-ComplianceSearch", "Export-Message", "Get-Message", "Get-MessageTrackingLog",
    "Read-Host", "ConvertTo-SecureString", "ConvertFrom-SecureString", "Get-StoredCredential",
    "Get-MailboxExportRequest", "Get-MessageTrackingReport", "Search-MessageTrackingReport",
    "Get-QuarantineMessage", "Export-QuarantineMessage", "Start-HistoricalSearch", "Get-Mailbox",
}
FORBIDDEN_PARAMETERS = {"-IncludeMessageContent", "-IncludeBody", "-Credential", "-Password", "-IncludeContent"}
CHANGING_VERBS = {"Set", "Enable", "Disable", "Import", "Remove", "Start", "Stop", "Restart", "Clear", "Add",
                  "Update", "Install", "Uninstall", "Register", "Unregister", "Grant", "Revoke", "Send", "Suspend",
                  "Resume", "Retry", "Move", "Rename", "Reset", "Test", "Invoke", "New"}
CHANGING_BUT_ALLOWED = {"Remove-PSSession", "New-PSSession", "Invoke-Command", "New-Item", "New-Object"}

# The parameters the script passes to each cmdlet, each one Microsoft documents for it (common parameters apart).
PARAMETERS = {
    "Get-ExchangeServer": set(), "Get-ExchangeCertificate": {"-Server"}, "Get-ReceiveConnector": {"-Server"},
    "Get-TransportService": {"-Identity"}, "Get-FrontendTransportService": {"-Identity"}, "Get-Queue": {"-Server"},
    "Get-SendConnector": set(), "Get-HybridConfiguration": set(), "Get-ConnectionInformation": set(),
    "Get-InboundConnector": set(), "Get-OutboundConnector": set(),
    "Get-MessageTraceV2": {"-Status", "-StartDate", "-EndDate", "-ResultSize"},
    "Get-MessageTrace": {"-Status", "-StartDate", "-EndDate", "-PageSize"},
    "Get-MessageTraceDetailV2": {"-MessageTraceId", "-RecipientAddress"},
    "Get-WinEvent": {"-ComputerName", "-FilterHashtable", "-MaxEvents"},
    "New-PSSession": {"-ComputerName"}, "Invoke-Command": {"-Session", "-ArgumentList", "-ScriptBlock"},
    "Remove-PSSession": {"-Session"}, "Get-ChildItem": {"-Path", "-LiteralPath", "-Filter"}, "Get-Command": {"-Name"},
    "Select-Object": {"-Property", "-ExcludeProperty", "-First"}, "Where-Object": set(), "Format-List": {"-Property"},
    "Out-String": {"-Width"}, "Out-File": {"-FilePath", "-Width", "-Encoding"}, "Export-Clixml": {"-Path", "-Encoding"},
    "Compress-Archive": {"-Path", "-DestinationPath", "-Force"}, "New-Item": {"-ItemType", "-Path", "-Force"},
    "Join-Path": {"-Path", "-ChildPath"}, "Get-Location": set(), "Get-Date": {"-Format"}, "New-Object": {"-TypeName"},
    "Write-Host": set(), "Write-Warning": {"-Message"}, "Write-Verbose": {"-Message"},
    "Write-Progress": {"-Activity", "-Status", "-Completed"},
}
COMMON_PARAMETERS = {"-ErrorAction"}
# Variables PowerShell defines: automatic and preference variables, the environment.
AUTOMATIC = {"$_", "$true", "$false", "$null", "$pscmdlet", "$executioncontext", "$errorActionPreference".lower()}

_LANGUAGE = Language(tree_sitter_powershell.language())


def _tree(text: str) -> Node:
    return Parser(_LANGUAGE).parse(text.encode("utf-8")).root_node


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _nodes(child)


def _texts(root: Node, node_type: str) -> set[str]:
    return {n.text.decode() for n in _nodes(root) if n.type == node_type and n.text is not None}


@pytest.fixture(scope="module")
def script() -> str:
    return script_text()


@pytest.fixture(scope="module")
def tree(script: str) -> Node:
    return _tree(script)


def _functions(tree: Node) -> set[str]:
    return _texts(tree, "function_name")


def _cmdlets(tree: Node) -> set[str]:
    return _texts(tree, "command_name") - _functions(tree)


# --- the script as PowerShell --------------------------------------------------------------------------------------

def test_the_grammar_finds_errors_it_is_asked_to_find() -> None:
    assert not _tree("Get-Queue -Server EXMBX1 | Format-List *").has_error
    for broken in ("if ($a) { Get-Item", "foreach ($x in ) { }", "$h = @{ a = 1 ", "function f { } }"):
        assert _tree(broken).has_error, broken


def test_script_parses_without_error_or_missing_node(tree: Node) -> None:
    bad = [(n.type, n.start_point, n.text[:60] if n.text else b"") for n in _nodes(tree) if n.is_error or n.is_missing]
    assert not tree.has_error and bad == []


def test_every_try_has_a_catch_or_a_finally(tree: Node) -> None:
    tries = [n for n in _nodes(tree) if n.type == "try_statement"]
    assert tries
    for node in tries:
        kinds = {c.type for c in node.children}
        assert kinds & {"catch_clauses", "catch_clause", "finally_clause"}, node.start_point


def test_script_is_ascii_and_windows_powershell_5_1_syntax(script: str, tree: Node) -> None:
    # Windows PowerShell 5.1 reads a file without a byte order mark as the ANSI code page: ASCII reads the same.
    assert script.isascii()
    assert "#Requires -Version 7" not in script and "-Parallel" not in script
    operators = {n.text.decode() for n in _nodes(tree) if n.child_count == 0 and n.text}
    # pipeline chains, null-coalescing and null-conditional operators and the ternary are PowerShell 7 only
    assert not operators & {"&&", "||", "??", "??=", "?.", "?["}
    assert not [n for n in _nodes(tree) if n.type in ("pipeline_chain_tail", "ternary_expression")]


def test_parameters_and_what_if(script: str, tree: Node) -> None:
    assert re.search(r"\[CmdletBinding\(SupportsShouldProcess = \$true\)\]\s*param\(", script)
    parameters = {n.text.decode() for n in _nodes(tree) if n.type == "variable" and n.parent is not None
                  and n.parent.type == "script_parameter" and n.parent.parent is not None
                  and n.parent.parent.parent is not None and n.parent.parent.parent.type == "param_block"
                  and n.parent.parent.parent.parent is not None and n.parent.parent.parent.parent.type == "program"}
    assert parameters == {"$OutputFolder", "$Servers", "$Days"}
    # every write is behind ShouldProcess: the helpers that write ask it first, and so do the log and the archive
    for function in ("Save-Evidence", "Save-CertificateStores", "Copy-ProtocolLog"):
        body = script[script.index(f"function {function} {{"):]
        body = body[:body.index("\n}\n")]
        assert "SupportsShouldProcess = $true" in body and "$PSCmdlet.ShouldProcess(" in body
        assert body.index("$PSCmdlet.ShouldProcess(") < min(body.index(w) for w in ("New-Item -", "New-PSSession -",
                                                                                    "Get-ChildItem -", "& $Command")
                                                             if w in body)
    assert script.count("$PSCmdlet.ShouldProcess(") == 5


def test_text_is_wide_unwrapped_utf8_and_twinned_with_clixml(script: str) -> None:
    assert "$global:FormatEnumerationLimit = -1" in script
    out_files = re.findall(r"Out-File [^\n]*", script)
    assert out_files and all("-Width 4096" in line and "-Encoding utf8" in line for line in out_files)
    assert "Out-String -Width 4096" in script
    commands = [n.text.decode() for n in _nodes(_tree(script)) if n.type == "command_name" and n.text]
    assert commands.count("Export-Clixml") == 2 and commands.count("Format-List") == 2  # per item, per store
    assert "Compress-Archive" in script and "collector-log.txt" in script


# --- what it runs ----------------------------------------------------------------------------------------------------

def test_every_cmdlet_is_allowed(tree: Node) -> None:
    assert _cmdlets(tree) <= set(ALLOWED), sorted(_cmdlets(tree) - set(ALLOWED))
    assert {"Get-ExchangeCertificate", "Get-WinEvent", "Get-MessageTraceV2", "Export-Clixml"} <= _cmdlets(tree)


def test_every_cmdlet_function_and_member_is_documented(tree: Node) -> None:
    documented = DOCS.read_text(encoding="utf-8")
    for name in _cmdlets(tree) | _functions(tree):
        assert f"`{name}`" in documented, f"{name} is not in docs/collector.md"
    for member in _texts(tree, "member_name"):
        assert re.search(rf"\b{re.escape(member)}\b", documented), f"member {member} is not in docs/collector.md"


def test_every_parameter_is_one_the_cmdlet_has(tree: Node) -> None:
    assert set(PARAMETERS) == set(ALLOWED)
    functions = _functions(tree)
    wrong = []
    for command in (n for n in _nodes(tree) if n.type == "command"):
        name = next((c.text.decode() for c in command.children if c.type == "command_name" and c.text), None)
        if name is None or name in functions:  # '& $Command': the script block given to Save-Evidence
            continue
        elements = next((c for c in command.children if c.type == "command_elements"), None)
        given = {c.text.decode() for c in (elements.children if elements else ()) if c.type == "command_parameter"
                 and c.text}
        wrong += [f"{name} {p}" for p in sorted(given - PARAMETERS[name] - COMMON_PARAMETERS)]
    assert wrong == []


def test_every_variable_used_is_defined(tree: Node) -> None:
    """A misspelt variable is $null in PowerShell, silently: every variable read is assigned, a loop's, a
    parameter, or one PowerShell defines."""
    defined = set(AUTOMATIC)
    for node in _nodes(tree):
        if node.type == "assignment_expression" and node.children[0].type == "left_assignment_expression":
            defined |= {v.text.decode().lower() for v in _nodes(node.children[0]) if v.type == "variable" and v.text}
        elif node.type in ("foreach_statement", "script_parameter"):
            defined |= {c.text.decode().lower() for c in node.children if c.type == "variable" and c.text}
    used = {n.text.decode().lower() for n in _nodes(tree) if n.type == "variable" and n.text}
    assert {v for v in used - defined if not v.startswith("$env:")} == set()


def test_no_content_or_credential_cmdlets_and_nothing_that_changes(script: str, tree: Node) -> None:
    cmdlets = _cmdlets(tree)
    assert not cmdlets & FORBIDDEN_COMMANDS
    parameters = {p.casefold() for p in _texts(tree, "command_parameter")}
    assert not parameters & {p.casefold() for p in FORBIDDEN_PARAMETERS}
    changing = {c for c in cmdlets if c.split("-")[0] in CHANGING_VERBS} - CHANGING_BUT_ALLOWED
    assert changing == set()
    # the message trace is saved without its Subject
    assert re.search(r"\$entries \| Select-Object -Property \* -ExcludeProperty Subject", script)


def test_collector_command_prints_the_shipped_script(tmp_path: Path) -> None:
    run = run_cli("collector")
    assert run.code == 0 and run.err == ""
    assert run.out == SHIPPED.read_text(encoding="utf-8")
    target = tmp_path / "Collect-HybridTls.ps1"
    run = run_cli("collector", "--output", str(target))
    assert run.code == 0 and run.out == "" and "Collect-HybridTls.ps1" in run.err
    assert target.read_text(encoding="utf-8") == SHIPPED.read_text(encoding="utf-8")


def test_collector_in_the_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"collector/*.ps1"' in pyproject
    assert '"tree-sitter>=' in pyproject and '"tree-sitter-powershell>=' in pyproject


def test_help_stays_fast() -> None:
    # the command module imports nothing at import time beyond the command line's own
    module = ast.parse((ROOT / "src" / "hybridtls" / "cli" / "collector.py").read_text(encoding="utf-8"))
    top_level = {alias.name if isinstance(node, ast.Import) else node.module
                 for node in module.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in node.names}
    assert top_level == {"__future__", "argparse", "typing", "hybridtls.cli.common"}
    code = ("import sys\nfrom hybridtls.cli import main\ntry:\n    main(['collector', '--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('hybridtls.pipeline', 'hybridtls.report', "
            "'hybridtls.checks', 'cryptography', 'jinja2', 'OpenSSL', 'rich'))), file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(ROOT / "src")})
    assert run.stderr.strip() == "[]" and "Collect-HybridTls.ps1" in run.stdout


# --- the folder it writes, as check reads it -------------------------------------------------------------------------

def _layout(script: str) -> dict[str, set[str]]:
    """The file names the script writes, by folder variable ('server', 'onprem', 'online'), read from the script."""
    layout: dict[str, set[str]] = {}
    for folder, name in re.findall(r"Save-Evidence -Folder \$(\w+)Folder -FileName '([^']+)'", script):
        layout.setdefault(folder, set()).add(name)
    for folder, prefix, variable in re.findall(
            r"Save-Evidence -Folder \$(\w+)Folder -FileName \('([^']+)' \+ \$(\w+)\)", script):
        values = re.search(rf"foreach \(\${variable} in @\(([^)]*)\)\)", script)
        assert values, variable
        layout.setdefault(folder, set()).update(prefix + v for v in re.findall(r"'([^']+)'", values[1]))
    stores = re.search(r"foreach \(\$store in @\(([^)]*)\)\)", script)
    assert stores and "$fileName = 'Cert-LocalMachine-' + $store" in script
    layout["server"].update("Cert-LocalMachine-" + s for s in re.findall(r"'([^']+)'", stores[1]))
    layout["logs"] = set(re.findall(r"-ChildPath '((?:Hub|FrontEnd)\\ProtocolLog\\Smtp(?:Send|Receive))'", script))
    return layout


def test_the_layout_read_from_the_script(script: str) -> None:
    assert _layout(script) == {
        "server": {"Get-ExchangeCertificate", "Get-ReceiveConnector", "Get-TransportService", "Get-Queue",
                   "Get-WinEvent-Application", "Get-WinEvent-Schannel", "Cert-LocalMachine-AuthRoot",
                   "Cert-LocalMachine-Root", "Cert-LocalMachine-CA"},
        "onprem": {"Get-SendConnector", "Get-HybridConfiguration"},
        "online": {"Get-InboundConnector", "Get-OutboundConnector", "Get-MessageTraceV2-Pending",
                   "Get-MessageTraceV2-Failed", "Get-MessageTraceDetailV2"},
        "logs": {"Hub\\ProtocolLog\\SmtpSend", "FrontEnd\\ProtocolLog\\SmtpReceive", "FrontEnd\\ProtocolLog\\SmtpSend"},
    }
    assert "Join-Path -Path $OutputFolder -ChildPath $serverName" in script
    documented = DOCS.read_text(encoding="utf-8")
    for names in _layout(script).values():
        for name in names:
            assert name in documented, f"{name} is written but not in docs/collector.md"
    assert "Join-Path -Path $OutputFolder -ChildPath 'onprem'" in script
    assert "Join-Path -Path $OutputFolder -ChildPath 'exchange-online'" in script


def _windows_text(text: str) -> bytes:
    """What Windows PowerShell 5.1's Out-File -Encoding utf8 writes: a byte order mark and CRLF line ends."""
    return codecs.BOM_UTF8 + text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def _format_list(records: list[list[tuple[str, str]]], width: int = 4096) -> str:
    """Format-List as Out-String -Width 4096 prints it: labels padded, long values wrapped under the value column."""
    blocks = []
    for record in records:
        pad = max(len(label) for label, _ in record)
        lines = []
        for label, value in record:
            head = f"{label.ljust(pad)} : "
            room = width - 1 - len(head)
            chunks = [value[i:i + room] for i in range(0, len(value), room)] or [""]
            lines.append((head + chunks[0]).rstrip())
            lines.extend(" " * len(head) + chunk for chunk in chunks[1:])
        blocks.append("\n".join(lines))
    return "\n\n" + "\n\n".join(blocks) + "\n\n\n\n"


def _digicert_global_root_g2() -> x509.Certificate:
    for block in Path(certifi.where()).read_text(encoding="ascii").split("-----END CERTIFICATE-----"):
        if "-----BEGIN CERTIFICATE-----" in block:
            der = base64.b64decode(block.split("-----BEGIN CERTIFICATE-----")[1])
            if hashlib.sha1(der).hexdigest().upper() == "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4":
                return x509.load_der_x509_certificate(der)
    raise AssertionError("DigiCert Global Root G2 is not in certifi's bundle")


def _contoso_root_and_intermediate() -> tuple[x509.Certificate, x509.Certificate]:
    """A hand-imported private root (the founding fault's shape) and the intermediate it issued."""
    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso Ltd"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])

    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    root_key, ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(name("Contoso Root CA")).issuer_name(name("Contoso Root CA"))
            .public_key(root_key.public_key()).serial_number(0x1A2B3C).not_valid_before(start)
            .not_valid_after(start + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256()))
    ca = (x509.CertificateBuilder().subject_name(name("Contoso Issuing CA 01")).issuer_name(root.subject)
          .public_key(ca_key.public_key()).serial_number(0x4D5E6F).not_valid_before(start)
          .not_valid_after(start + timedelta(days=1825))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(root_key, hashes.SHA256()))
    return root, ca


def _windows_name(name: x509.Name) -> str:
    short = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.ORGANIZATION_NAME: "O",
             NameOID.COUNTRY_NAME: "C"}
    return ", ".join(f"{short[a.oid]}={a.value!s}" for a in reversed(list(name)))


def _when(moment: datetime) -> str:
    return f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M:%S %p').lstrip('0')}"


def _store_listing(store: str, certificates: list[x509.Certificate]) -> str:
    """Get-ChildItem Cert:\\LocalMachine\\<store> | Format-List * on Windows PowerShell 5.1."""
    records = []
    for cert in certificates:
        der = cert.public_bytes(Encoding.DER)
        thumbprint = hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - a Windows thumbprint is SHA-1
        subject = _windows_name(cert.subject)
        common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        records.append([
            ("PSPath", f"Microsoft.PowerShell.Security\\Certificate::LocalMachine\\{store}\\{thumbprint}"),
            ("PSParentPath", f"Microsoft.PowerShell.Security\\Certificate::LocalMachine\\{store}"),
            ("PSChildName", thumbprint), ("PSDrive", "Cert"), ("PSProvider", "Microsoft.PowerShell.Security\\Certificate"),
            ("PSIsContainer", "False"), ("EnhancedKeyUsageList", "{}"), ("DnsNameList", f"{{{common}}}"),
            ("SendAsTrustedIssuer", "False"),
            ("EnrollmentPolicyEndPoint", "Microsoft.CertificateServices.Commands.EnrollmentEndPointProperty"),
            ("EnrollmentServerEndPoint", "Microsoft.CertificateServices.Commands.EnrollmentEndPointProperty"),
            ("PolicyId", ""), ("Archived", "False"),
            ("Extensions", "{System.Security.Cryptography.Oid, System.Security.Cryptography.Oid}"),
            ("FriendlyName", str(common)),
            ("IssuerName", "System.Security.Cryptography.X509Certificates.X500DistinguishedName"),
            ("NotAfter", _when(cert.not_valid_after_utc)), ("NotBefore", _when(cert.not_valid_before_utc)),
            ("HasPrivateKey", "False"), ("PrivateKey", ""),
            ("PublicKey", "System.Security.Cryptography.X509Certificates.PublicKey"),
            ("RawData", "{" + ", ".join(str(b) for b in der) + "}"),
            ("SerialNumber", f"{cert.serial_number:X}".rjust(2, "0")),
            ("SubjectName", "System.Security.Cryptography.X509Certificates.X500DistinguishedName"),
            ("SignatureAlgorithm", "System.Security.Cryptography.Oid"), ("Thumbprint", thumbprint),
            ("Version", "3"), ("Handle", "2241579623456"), ("Issuer", _windows_name(cert.issuer)),
            ("Subject", subject),
        ])
    return _format_list(records)


_TYPE_NAMES = {
    "Get-ExchangeCertificate": "Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate",
    "Get-ReceiveConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.ReceiveConnector",
    "Get-TransportService": "Microsoft.Exchange.Data.Directory.SystemConfiguration.TransportServer",
    "Get-Queue": "Microsoft.Exchange.Data.QueueViewer.ExtensibleQueueInfo",
    "Get-SendConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.SmtpSendConnectorConfig",
    "Get-HybridConfiguration": "Microsoft.Exchange.Data.Directory.SystemConfiguration.HybridConfiguration",
    "Get-InboundConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.TenantInboundConnector",
    "Get-OutboundConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.TenantOutboundConnector",
    "Get-MessageTraceV2": "Selected.Microsoft.Exchange.Management.FfoReporting.MessageTraceV2",
    "Get-MessageTraceDetailV2": "Microsoft.Exchange.Management.FfoReporting.MessageTraceDetailV2",
    "Get-WinEvent": "System.Diagnostics.Eventing.Reader.EventLogRecord",
    "Cert-LocalMachine": "System.Security.Cryptography.X509Certificates.X509Certificate2",
}


def _clixml(stem: str, text: str) -> bytes:
    """The Export-Clixml twin of a Format-List file: one <Obj> per record, its properties as strings."""
    type_name = next(t for prefix, t in _TYPE_NAMES.items() if stem.startswith(prefix))
    objects = []
    for number, block in enumerate(b for b in re.split(r"\n\s*\n", text) if b.strip()):
        properties = []
        for line in block.splitlines():
            match = re.match(r"^(\w+)\s*: ?(.*)$", line)
            if match:
                properties.append(f'<S N="{match[1]}">{escape(match[2])}</S>')
            elif properties and line.strip():
                properties[-1] = properties[-1][:-4] + " " + escape(line.strip()) + "</S>"
        objects.append(f'<Obj RefId="{number}"><TN RefId="{number}"><T>Deserialized.{type_name}</T>'
                       f'<T>Deserialized.System.Object</T></TN><Props>{"".join(properties)}</Props></Obj>')
    document = ('<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
                + "".join(objects) + "</Objs>")
    return codecs.BOM_UTF8 + document.encode("utf-8")


def _collected_folder(tmp_path: Path, script: str) -> Path:
    """A folder laid out exactly as the script writes it, from the sample text, protocol logs and certificates."""
    folder = tmp_path / "hybridtls-evidence-20261130-092500"
    layout = _layout(script)
    digicert = _digicert_global_root_g2()
    contoso_root, contoso_ca = _contoso_root_and_intermediate()
    stores = {  # EXCAS1 has the private root in Trusted Root only (hand-imported), EXMBX1 in AuthRoot as well
        "EXCAS1": {"AuthRoot": [digicert], "Root": [digicert, contoso_root], "CA": [contoso_ca]},
        "EXMBX1": {"AuthRoot": [digicert, contoso_root], "Root": [digicert, contoso_root], "CA": [contoso_ca]},
    }
    for source in sorted(SAMPLE.rglob("*.txt")):
        relative = source.relative_to(SAMPLE)
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        target.write_bytes(_windows_text(text))
        if source.name != "collector-log.txt":
            target.with_suffix(".clixml").write_bytes(_clixml(source.stem, text))
    for server, listings in stores.items():
        for store, certificates in listings.items():
            text = _store_listing(store, certificates)
            (folder / server / f"Cert-LocalMachine-{store}.txt").write_bytes(_windows_text(text))
            (folder / server / f"Cert-LocalMachine-{store}.clixml").write_bytes(_clixml("Cert-LocalMachine", text))
    logs = {("EXCAS1", "FrontEnd\\ProtocolLog\\SmtpReceive"): sorted((FIXTURES / "logs" / "EXCAS1").glob("RECV*")),
            ("EXCAS1", "FrontEnd\\ProtocolLog\\SmtpSend"): [],  # none written in the last day: no folder
            ("EXMBX1", "Hub\\ProtocolLog\\SmtpSend"): sorted((FIXTURES / "logs" / "EXMBX1").glob("SEND*"))}
    assert {where for _, where in logs} == layout["logs"]
    for (server, where), files in logs.items():
        for log in files:
            target = folder / server / Path(*where.split("\\")) / log.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, target)
    # the sample holds exactly the file names the script writes
    written = {p.stem for p in folder.glob("*/*.txt")}
    assert written == layout["server"] | layout["onprem"] | layout["online"]
    return folder


def test_check_reads_the_folder_the_script_writes(tmp_path: Path, script: str) -> None:
    folder = _collected_folder(tmp_path, script)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    report = hybridtls.check([str(folder)], now=datetime(2026, 11, 30, 10, 0), fail_on=None)
    evidence = report.evidence
    coverage = evidence.coverage
    assert coverage is not None
    # each output is read once, from its CliXML twin; the text beside it is named as skipped, and only it is
    twins = {p for p in files if p.suffix == ".txt" and p.with_suffix(".clixml").exists()}
    assert twins and (coverage.files, coverage.files_skipped) == (len(files) - len(twins), len(twins))
    assert evidence.problems == () and coverage.files_read == coverage.files
    skipped = {Path(n.source.path) for n in evidence.notices if n.message.startswith("skipped: the same output as")}
    assert skipped == twins
    assert coverage.records_not_understood == 0 and evidence.skipped == ()

    # every file read gave something: records, or (the collector log) what was not collected
    sources: set[str] = set()
    for field in ("certificates", "send_connectors", "receive_connectors", "hybrid_configurations",
                  "online_connectors", "transport_services", "delivery_errors", "queues", "trace_entries",
                  "events", "smtp_sessions", "smtp_summaries", "store_certificates", "notices"):
        for record in getattr(evidence, field):
            source = getattr(record, "source", None)
            if source is not None and source.path:
                sources.add(str(Path(source.path)))
    for summary in evidence.smtp_summaries:
        sources.update(str(Path(p)) for p in getattr(summary, "files", ()))
    missing = [str(p.relative_to(folder)) for p in files if p not in twins and str(p) not in sources]
    assert missing == []

    # each server is attributed by its folder's name where its records do not name it
    for certificate in evidence.certificates:
        folder_name = Path(certificate.source.path).relative_to(folder).parts[0]
        if folder_name in ("EXCAS1", "EXMBX1") and certificate.source.path.endswith("Get-ExchangeCertificate.txt"):
            assert certificate.server is not None and certificate.server.name == folder_name
            assert certificate.server.basis is ServerBasis.FOLDER
    by_file = {Path(c.source.path).relative_to(folder).as_posix() for c in evidence.certificates}
    assert {"EXCAS1/Get-ExchangeCertificate.clixml", "EXMBX1/Get-ExchangeCertificate.clixml"} <= by_file
    assert {q.server for q in evidence.queues} == {"EXMBX1"}
    assert {c.server.name for c in evidence.receive_connectors if c.server} == {"EXCAS1", "EXMBX1"}
    assert len(evidence.trace_entries) == 3 and all(t.subject is None for t in evidence.trace_entries)
    assert len(evidence.online_connectors) == 2 and len(evidence.send_connectors) == 1
    # what the collector could not collect is said in the report
    assert any("could not collect Edge Transport server EXEDGE1" in n.message for n in evidence.notices)
