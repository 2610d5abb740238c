"""Command lines and bare error text: what admins keep besides cmdlet output.

Command lines that configure the hybrid mail flow (``New-``/``Set-SendConnector``, ``-ReceiveConnector``,
``-OutboundConnector``, ``-InboundConnector``, ``Set-HybridConfiguration``), wherever they stand: in a script
(with backtick continuations and splatting), a change ticket (Markdown tables and code fences), a Hybrid
Configuration Wizard log, after a ``PS C:\\>`` or ``[PS] C:\\>`` prompt. Each is read with PowerShell's quoting
rules (:mod:`pscommand`) into the connector or hybrid configuration record the cmdlet output gives, marked
``configured_by``: what the command sets, and which values come from a variable the line does not show.
Parameter names bind as PowerShell binds them, by any unambiguous prefix (``-TlsCert``) against the cmdlet's
parameter list (``PARAMETERS``); a command with an ambiguous one (``-Tls``) is refused by PowerShell, so it is
not read, and a notice names its line. A variable the script assigns a quoted string once, before the command
(``$name = '<I>...<S>...'``), stands for that string, with a notice; any other variable stays unknown.

Error text where mail is stuck, pasted bare: a ``LastError :`` or Queue Viewer "Last Error" line, the
"Diagnostic information for administrators" section of a non-delivery report, a line that starts with an SMTP
reply (``451 4.4.0 ...``), in any quoting. Each becomes a ``DeliveryError``.

Any PowerShell output in the same file is read by the console reader as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from hybridtls.errors import EvidenceError
from hybridtls.evidence.console import iter_console_text
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.evidence.kinds import classify
from hybridtls.evidence.pscommand import (
    Command,
    CommandSyntaxError,
    Value,
    ValueKind,
    hashtable_body,
    parse_command,
    parse_hashtable,
    quoted_assignment,
    resolve_parameter,
)
from hybridtls.evidence.raw import RawRecord, canonical_key
from hybridtls.model import (
    ConfiguredBy,
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

_CMDLET = re.compile(r"(?<![\w-])(?P<verb>New|Set)-(?P<noun>SendConnector|ReceiveConnector|OutboundConnector|"
                     r"InboundConnector|HybridConfiguration)(?![\w-])", re.I)
# What may stand before a command on its line: nothing, a prompt, a quote or list marker, a table cell, a log prefix.
_LIST_MARKER = re.compile(r"[-*+]|\d+[.)]")
_POSITION_ENDS = ">]:=|;`{("
_LOOK_BACK = 256  # characters before a cmdlet name looked at to tell a command from prose
_SPLAT = re.compile(r"^[ \t]*\$(?P<name>\w+)[ \t]*=[ \t]*@\{", re.M)
_NDR = re.compile(r"diagnostic information for administrators", re.I)
_NDR_END = re.compile(r"^\s*(?:>\s*)*(?:original message headers|message hops)\b", re.I)
_LABELLED = re.compile(r"^\s*(?:>\s*)*[*_]*(?P<label>last\s?error)[*_]*\s*[:=]\s*(?P<text>.*\S)\s*$", re.I)
_INLINE_ERROR = re.compile(r"\berror\s*[:=]\s*(?P<text>[\"'\u2018\u2019\u201c\u201d]?[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.*\S)\s*$",
                           re.I)
_REPLY = re.compile(r"^\s*(?:>\s*)*[\"'\u2018\u2019\u201c\u201d]?(?P<text>[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.*\S)\s*$")
_QUOTES = "\"'\u2018\u2019\u201a\u201b\u201c\u201d\u201e"
_QUOTE = "[" + _QUOTES + "]"
_MARKERS = re.compile(_CMDLET.pattern + "|" + _NDR.pattern + r"|last\s?error\s*[:=]|^\s*(?:>\s*)*[\"'\u201c]?[245]\d\d[ -]"
                      r"[245]\.\d{1,3}\.\d{1,3}\b", re.I | re.M)
MAX_COMMAND = 64 * 1024  # characters one command may span (continuations included)
MAX_NDR_LINES = 80
NDR_ORIGIN = "NDR diagnostic information"
_RECOGNISE = 64 * 1024


# --- the properties each command sets ---------------------------------------------------------------------------

_Convert = Callable[[Value], object]


def _string(value: Value) -> object:
    strings = value.strings()
    return ", ".join(strings) if strings else None


def _strings(value: Value) -> object:
    return value.strings()


def _bool(value: Value) -> object:
    text = (value.text or "").casefold()
    return {"true": True, "1": True, "false": False, "0": False}.get(text)


# canonical parameter name -> (record field, conversion)
_COMMON = {"enabled": ("enabled", _bool), "tlscertificatename": ("tls_certificate_name", _string),
           "fqdn": ("fqdn", _string)}
_FIELDS: Mapping[str, Mapping[str, tuple[str, _Convert]]] = {
    "sendconnector": {**_COMMON, "requiretls": ("require_tls", _bool), "tlsauthlevel": ("tls_auth_level", _string),
                      "tlsdomain": ("tls_domain", _string), "smarthosts": ("smart_hosts", _strings),
                      "addressspaces": ("address_spaces", _strings),
                      "cloudservicesmailenabled": ("cloud_services_mail_enabled", _bool),
                      "sourcetransportservers": ("source_transport_servers", _strings)},
    "receiveconnector": {**_COMMON, "authmechanism": ("auth_mechanism", _strings),
                         "tlsdomaincapabilities": ("tls_domain_capabilities", _strings),
                         "bindings": ("bindings", _strings), "transportrole": ("transport_role", _string)},
    "hybridconfiguration": {"tlscertificatename": ("tls_certificate_name", _string),
                            "receivingtransportservers": ("receiving_transport_servers", _strings),
                            "sendingtransportservers": ("sending_transport_servers", _strings),
                            "edgetransportservers": ("edge_transport_servers", _strings),
                            "domains": ("domains", _strings), "onpremisessmarthost": ("on_premises_smart_host", _string),
                            "features": ("features", _strings)},
}
_ONLINE = {"enabled": ("enabled", _bool), "connectortype": ("connector_type", _string),
           "cloudservicesmailenabled": ("cloud_services_mail_enabled", _bool), "smarthosts": ("smart_hosts", _strings),
           "tlsdomain": ("tls_domain", _string), "tlssettings": ("tls_settings", _string),
           "recipientdomains": ("recipient_domains", _strings),
           "tlssendercertificatename": ("tls_sender_certificate_name", _string), "requiretls": ("require_tls", _bool),
           "restrictdomainstocertificate": ("restrict_domains_to_certificate", _bool),
           "smtpdanemode": ("smtp_dane_mode", _string), "mtastsmode": ("mta_sts_mode", _string)}


# The parameters of each cmdlet (Microsoft's cmdlet reference, Exchange Server SE and Exchange Online), so that a
# prefix binds as PowerShell binds it: -TlsCert is -TlsCertificateName, -Tls is ambiguous. Common parameters too.
_COMMON_PARAMETERS = ("Confirm", "WhatIf", "Debug", "ErrorAction", "ErrorVariable", "InformationAction",
                      "InformationVariable", "OutBuffer", "OutVariable", "PipelineVariable", "ProgressAction",
                      "Verbose", "WarningAction", "WarningVariable")
_ALIASES = {"cf": "Confirm", "wi": "WhatIf", "db": "Debug", "ea": "ErrorAction", "ev": "ErrorVariable",
            "infa": "InformationAction", "iv": "InformationVariable", "ob": "OutBuffer", "ov": "OutVariable",
            "pv": "PipelineVariable", "proga": "ProgressAction", "vb": "Verbose", "wa": "WarningAction",
            "wv": "WarningVariable"}
_SEND = ("AddressSpaces", "AuthenticationCredential", "CloudServicesMailEnabled", "Comment", "ConnectionInactivityTimeOut",
         "ConnectorType", "DNSRoutingEnabled", "DomainController", "DomainSecureEnabled", "Enabled", "ErrorPolicies",
         "Force", "ForceHELO", "Fqdn", "FrontendProxyEnabled", "IgnoreSTARTTLS", "IsCoexistenceConnector",
         "IsScopedConnector", "LinkedReceiveConnector", "MaxMessageSize", "Name", "Port", "ProtocolLoggingLevel",
         "RequireOorg", "RequireTLS", "SmartHostAuthMechanism", "SmartHosts", "SmtpMaxMessagesPerConnection",
         "SourceIPAddress", "SourceTransportServers", "TlsAuthLevel", "TlsCertificateName", "TlsDomain",
         "UseExternalDNSServersEnabled")
_RECEIVE = ("AdvertiseClientSettings", "AuthMechanism", "AuthTarpitInterval", "Banner", "BareLinefeedRejectionEnabled",
            "BinaryMimeEnabled", "Bindings", "ChunkingEnabled", "Comment", "ConnectionInactivityTimeout",
            "ConnectionTimeout", "DefaultDomain", "DeliveryStatusNotificationEnabled", "DomainController",
            "DomainSecureEnabled", "EightBitMimeEnabled", "EnableAuthGSSAPI", "Enabled", "EnhancedStatusCodesEnabled",
            "ExtendedProtectionPolicy", "Fqdn", "LongAddressesEnabled", "MaxAcknowledgementDelay", "MaxHeaderSize",
            "MaxHopCount", "MaxInboundConnection", "MaxInboundConnectionPerSource",
            "MaxInboundConnectionPercentagePerSource", "MaxLocalHopCount", "MaxLogonFailures", "MaxMessageSize",
            "MaxProtocolErrors", "MaxRecipientsPerMessage", "MessageRateLimit", "MessageRateSource", "Name",
            "OrarEnabled", "PermissionGroups", "PipeliningEnabled", "ProtocolLoggingLevel",
            "RejectReservedSecondLevelRecipientDomains", "RejectReservedTopLevelRecipientDomains",
            "RejectSingleLabelRecipientDomains", "RemoteIPRanges", "RequireEHLODomain", "RequireTLS",
            "ServiceDiscoveryFqdn", "SizeEnabled", "SmtpUtf8Enabled", "SuppressXAnonymousTls", "TarpitInterval",
            "TlsCertificateName", "TlsDomainCapabilities", "TransportRole")
_OUTBOUND = ("AllAcceptedDomains", "CloudServicesMailEnabled", "Comment", "ConnectorSource", "ConnectorType", "Enabled",
             "IsTransportRuleScoped", "MtaStsMode", "Name", "RecipientDomains", "RouteAllMessagesViaOnPremises",
             "SenderRewritingEnabled", "SmartHosts", "SmtpDaneMode", "TestMode", "TlsDomain", "TlsSettings",
             "UseMXRecord")
_INBOUND = ("AssociatedAcceptedDomains", "CloudServicesMailEnabled", "Comment", "ConnectorSource", "ConnectorType",
            "EFSkipIPs", "EFSkipLastIP", "EFSkipMailGateway", "EFTestMode", "EFUsers", "Enabled", "Name", "RequireTls",
            "RestrictDomainsToCertificate", "RestrictDomainsToIPAddresses", "ScanAndDropRecipients", "SenderDomains",
            "SenderIPAddresses", "TlsSenderCertificateName", "TreatMessagesAsInternal", "TrustedOrganizations")
PARAMETERS: Mapping[str, tuple[str, ...]] = {
    "new-sendconnector": (*_SEND, "Custom", "Internal", "Internet", "Partner", "Usage", "Region"),
    "set-sendconnector": (*_SEND, "Identity"),
    "new-receiveconnector": (*_RECEIVE, "Client", "Custom", "Internal", "Internet", "Partner", "Server", "Usage"),
    "set-receiveconnector": (*_RECEIVE, "Identity"),
    "new-outboundconnector": (*_OUTBOUND, "LinkForModifiedConnector"),
    "set-outboundconnector": (*_OUTBOUND, "Identity", "IsValidated", "LastValidationTimestamp", "ValidationRecipients"),
    "new-inboundconnector": (*_INBOUND, "ClientHostNames"),
    "set-inboundconnector": (*_INBOUND, "Identity"),
    "set-hybridconfiguration": ("ClientAccessServers", "DomainController", "Domains", "EdgeTransportServers",
                                "ExternalIPAddresses", "Features", "Name", "OnPremisesSmartHost",
                                "ReceivingTransportServers", "SecureMailCertificateThumbprint",
                                "SendingTransportServers", "ServiceInstance", "TlsCertificateName",
                                "TransportServers"),
}


@dataclass(frozen=True, slots=True)
class _Setting:
    value: Value | None  # None: a switch given alone
    line: int


@dataclass(frozen=True, slots=True)
class _Bound:
    """What a command's parameters bind to: the settings, and what PowerShell would refuse (ambiguous names)."""

    settings: dict[str, _Setting]
    refused: list[tuple[str, int, tuple[str, ...]]]  # (name as written, line, the parameters it could be)


@lru_cache(maxsize=4096)
def _bind(command: str, written: str) -> tuple[str, ...]:
    """The canonical key(s) a parameter name as written binds to on the cmdlet: one, or the candidates."""
    known = PARAMETERS.get(command.casefold())
    if known is None:
        return (canonical_key(written),)
    found = resolve_parameter(written, (*known, *_COMMON_PARAMETERS), _ALIASES)
    return tuple(canonical_key(name) for name in found) if found else (canonical_key(written),)


def _settings(command: Command, splats: Mapping[str, tuple[Mapping[str, Value], int]], first_line: int,
              line_of: Callable[[int], int]) -> _Bound:
    """Canonical parameter name -> what the command gives it, splatted hashtables first, as PowerShell binds
    (a prefix of one parameter's name is that parameter)."""
    bound = _Bound(settings={}, refused=[])

    def put(written: str, setting: _Setting) -> None:
        keys = _bind(command.name, written)
        if len(keys) > 1:
            bound.refused.append((written, setting.line, keys))
        else:
            bound.settings[keys[0]] = setting

    for name in command.splats:
        entries, line = splats.get(name.casefold(), ({}, first_line))
        for key, value in entries.items():
            put(key, _Setting(value, line))
    if command.positional:
        bound.settings.setdefault("identity" if command.name.casefold().startswith("set") else "name",
                                  _Setting(command.positional[0], first_line))
    for parameter in command.parameters:
        put(parameter.name, _Setting(parameter.value, line_of(parameter.offset)))
    return bound


def _identity(settings: Mapping[str, _Setting], *keys: str) -> str:
    for key in keys:
        setting = settings.get(key)
        if setting and setting.value is not None:
            known = setting.value.strings()
            return ", ".join(known) if known else (setting.value.text or "(unnamed)")
    return "(not named on the line)"


def build_record(command: Command, settings: Mapping[str, _Setting], source: Source) -> Record | None:
    """The record the command configures, or None when the cmdlet is not one of ours."""
    noun = command.name.split("-", 1)[-1].casefold()
    table = _ONLINE if noun in ("outboundconnector", "inboundconnector") else _FIELDS.get(noun)
    if table is None:
        return None
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    unknown: dict[str, str] = {}
    for key, setting in settings.items():
        lines[key] = setting.line
        target = table.get(key)
        if target is None:
            continue
        field_name, convert = target
        if setting.value is None:
            values[field_name] = True if convert is _bool else None
        elif setting.value.known:
            values[field_name] = convert(setting.value)
        else:
            unknown[key] = " ".join(setting.value.unknown_parts) or (setting.value.text or "")
            known = setting.value.strings()
            if convert is _strings and known:
                values[field_name] = known
    configured = ConfiguredBy(command=command.name, parameters=tuple(settings), unknown=unknown)
    common = {"source": source, "field_lines": lines, "configured_by": configured}
    values = {k: v for k, v in values.items() if v is not None or k in ("tls_certificate_name", "fqdn")}
    if noun == "sendconnector":
        return SendConnector(name=_identity(settings, "identity", "name"), **common, **values)  # type: ignore[arg-type]
    if noun == "receiveconnector":
        identity = _identity(settings, "identity", "name")
        server = settings.get("server")
        if "\\" in identity:
            ref = ServerRef(name=identity.split("\\", 1)[0], basis=ServerBasis.IDENTITY)
        elif server and server.value is not None and server.value.known and server.value.strings():
            ref = ServerRef(name=server.value.strings()[0], basis=ServerBasis.COMMAND_LINE)
            identity = f"{ref.name}\\{identity}"
        else:
            ref = None
        return ReceiveConnector(identity=identity, server=ref, **common, **values)  # type: ignore[arg-type]
    if noun == "hybridconfiguration":
        return HybridConfiguration(**common, **values)  # type: ignore[arg-type]
    direction = ConnectorDirection.OUTBOUND if noun == "outboundconnector" else ConnectorDirection.INBOUND
    return OnlineConnector(direction=direction, name=_identity(settings, "identity", "name"),
                           **common, **values)  # type: ignore[arg-type]


# --- finding them in text ---------------------------------------------------------------------------------------

class _Lines:
    """Line numbers of offsets, for offsets asked in increasing order (linear over the file)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def __call__(self, offset: int) -> int:
        if offset < self.offset:
            return self.text.count("\n", 0, offset) + 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def at_command_position(text: str, start: int) -> bool:
    """Whether what stands before ``start`` on its line lets a command start there: nothing, a prompt, a quote,
    list or table marker, a log prefix ending in ``]``, ``:`` or ``=``, an inline code span. Prose does not
    ("ran Set-SendConnector to fix it"). Looks back a bounded distance, so a huge line costs no more."""
    line_start = text.rfind("\n", max(0, start - _LOOK_BACK), start) + 1
    before = text[max(line_start, start - _LOOK_BACK):start].rstrip()
    if not before:
        return line_start >= start - _LOOK_BACK
    return before[-1] in _POSITION_ENDS or (line_start >= start - _LOOK_BACK and bool(
        _LIST_MARKER.fullmatch(before.lstrip())))


def _command_text(text: str, start: int) -> tuple[str, int]:
    """The text a command at ``start`` may span, and where it starts in it: an inline code span (Markdown) ends
    at its closing backtick; otherwise at most MAX_COMMAND characters."""
    if start > 0 and text[start - 1] == "`" and (start < 2 or text[start - 2] != "`"):
        end = text.find("`", start)
        line_end = text.find("\n", start)
        if end >= 0 and (line_end < 0 or end < line_end):
            return text[start:end], 0
    return text[start:start + MAX_COMMAND], 0


def _splats(text: str, path: str, line_of: Callable[[int], int]) -> list[tuple[int, str, Mapping[str, Value], int]]:
    """Every ``$name = @{ ... }`` of the text: (offset, name, entries, line)."""
    found = []
    for match in _SPLAT.finditer(text):
        try:
            entries = parse_hashtable(hashtable_body(text[match.end() - 1:match.end() - 1 + MAX_COMMAND]))
        except CommandSyntaxError as exc:
            raise EvidenceError(f"the hashtable assigned to ${match['name']} cannot be read: {exc}", path=path,
                                line=line_of(match.start())) from None
        found.append((match.start(), match["name"].casefold(), entries, line_of(match.start())))
    return found


def _offset_lines(span: str, first_line: int) -> Callable[[int], int]:
    def line(offset: int) -> int:
        return first_line + span.count("\n", 0, offset)
    return line


_VARIABLE = r"\$(?:(?P<{0}>\w{{1,256}})|\{{(?P<{0}_braced>[^}}\n]{{1,256}})\}})(?![\w:{{])"
# Every place a script writes a variable: assigned (or one of several at once), incremented, a loop's, passed by
# reference, declared with a type (a param block), or named by a common parameter that sets it.
_WRITES = re.compile("|".join((
    _VARIABLE.format("assigned") + r"\s*(?:[-+*/%]?=(?!=)|\+\+|--|,)",
    r"(?:\+\+|--|foreach\s*\(|\[ref\]|\])\s*" + _VARIABLE.format("other"),
    r"-(?:(?:Out|Error|Warning|Information|Pipeline)Variable|ov|ev|wv|iv|pv)[\s:]+" + _QUOTE + r"?(?P<named>\w+)",
)), re.I)
_VARIABLE_CMDLETS = re.compile(r"\b(?:Set|New|Clear|Remove)-Variable\b", re.I)


class _Variables:
    """Variables the script gives a quoted string once, before the command that uses them: ``$name = '...'``.

    A variable written anywhere else in the text (assigned twice, ``+=``, a loop, a typed parameter, an
    ``-OutVariable``) or given anything but a quoted string is not known, nor is any when the script uses
    ``Set-Variable`` and its kin: the command's value stays the variable's. One pass over the text finds them all.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._sites: dict[str, list[int]] | None = None

    def value(self, written: str, before: int) -> tuple[str, int] | None:
        """The string and the offset of its assignment, for ``$name`` used at offset ``before``."""
        name = written[1:]
        name = name[1:-1] if name.startswith("{") and name.endswith("}") else name
        if not name or ":" in name or len(name) > 256:
            return None
        sites = self._written().get(name.casefold(), [])
        if len(sites) != 1 or sites[0] >= before:
            return None
        start = sites[0]
        line_start = self.text.rfind("\n", 0, start) + 1
        if (self.text[line_start:start].strip() or ";").endswith((";", ">")) is False:
            return None  # not a statement of its own (after a prompt "PS C:\\>" it is)
        assigned = quoted_assignment(self.text, start)
        return (assigned[1], start) if assigned is not None else None

    def _written(self) -> dict[str, list[int]]:
        if self._sites is None:
            self._sites = {}
            if not _VARIABLE_CMDLETS.search(self.text):
                for match in _WRITES.finditer(self.text):
                    name = next(group for group in match.groups() if group)
                    offset = match.start() if match["assigned"] or match["assigned_braced"] else -1
                    self._sites.setdefault(name.casefold(), []).append(offset)
        return self._sites


def _known_from_variables(settings: dict[str, _Setting], variables: _Variables, used_at: int) -> list[tuple[str, str, int]]:
    """Replace each value that is a variable the script assigned a quoted string once before: (parameter,
    variable, offset of its assignment) for each replaced."""
    replaced = []
    for key, setting in settings.items():
        value = setting.value
        if value is None or value.kind is not ValueKind.VARIABLE or not value.text:
            continue
        found = variables.value(value.text, used_at)
        if found is not None:
            settings[key] = _Setting(Value(ValueKind.LITERAL, found[0]), setting.line)
            replaced.append((key, value.text, found[1]))
    return replaced


def read_commands(text: str, path: str) -> Iterator[Record]:
    """The configuration records of every command line of ours in the text, in file order; a notice for each
    value taken from a variable assigned above, and for each parameter name PowerShell would find ambiguous."""
    line_of = _Lines(text)
    splat_lines = _Lines(text)
    splats = sorted(_splats(text, path, splat_lines))
    known: dict[str, tuple[Mapping[str, Value], int]] = {}
    variables = _Variables(text)
    assignment_lines = _Lines(text)
    consumed = 0
    for match in _CMDLET.finditer(text):
        start = match.start()
        if start < consumed or not at_command_position(text, start):
            continue  # inside the command before, or named in prose ("ran Set-SendConnector to fix it")
        while splats and splats[0][0] < start:
            _, name, entries, line = splats.pop(0)
            known[name] = (entries, line)
        first_line = line_of(start)
        span, _ = _command_text(text, start)
        try:
            command = parse_command(span)
        except CommandSyntaxError as exc:
            longer = " (or the command is longer than 64 KiB)" if len(span) == MAX_COMMAND else ""
            raise EvidenceError(f"the {match.group(0)} command cannot be read: {exc}{longer}", path=path, line=first_line,
                                hint="PowerShell would not run it either; fix the quoting, or leave it out") from None
        consumed = start + command.end
        bound = _settings(command, known, first_line, _offset_lines(span, first_line))
        if bound.refused:  # PowerShell binds no parameter of a command it refuses: the command sets nothing
            for written, line, keys in bound.refused:
                yield Notice(source=Source(path=path, line=line),
                             message=f"{command.name} -{written} is ambiguous (it could be "
                                     f"{_names(command.name, keys)}): not understood; PowerShell refuses the command, "
                                     "so nothing it sets is read",
                             hint="write the parameter's whole name")
            continue
        substituted = _known_from_variables(bound.settings, variables, start)
        record = build_record(command, bound.settings, Source(path=path, line=first_line))
        if record is None:
            continue
        yield record
        for key, variable, offset in substituted:
            yield Notice(source=Source(path=path, line=bound.settings[key].line),
                         message=f"{command.name} sets {_names(command.name, (key,))} from {variable}, read as the "
                                 f"string assigned to it on line {assignment_lines(offset)}")


def _names(command: str, keys: tuple[str, ...]) -> str:
    """Parameters by their written names (``-TlsCertificateName``), from canonical keys."""
    spelled = {canonical_key(name): name for name in (*PARAMETERS.get(command.casefold(), ()), *_COMMON_PARAMETERS)}
    return ", ".join(f"-{spelled.get(key, key)}" for key in keys)


def _unquoted(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    elif text[:1] in _QUOTES and text.count(text[0]) == 1:
        text = text[1:]
    return text


def _strip_quote_marks(line: str) -> str:
    return re.sub(r"^\s*(?:>\s?)+", "", line).strip()


def _lines(text: str) -> Iterator[str]:
    """The lines of the text (split at ``\n``, as line numbers are counted), a piece of the text at a time."""
    for piece in pieces(text):
        parts = piece.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        yield from (part.rstrip("\r") for part in parts)


def read_error_texts(text: str, path: str) -> Iterator[DeliveryError]:
    """Bare error text: LastError lines, NDR diagnostic sections, lines that start with an SMTP reply."""
    numbered = enumerate(_lines(text), start=1)
    pushed_back: tuple[int, str] | None = None
    while True:
        if pushed_back is not None:
            (number, line), pushed_back = pushed_back, None
        else:
            step = next(numbered, None)
            if step is None:
                return
            number, line = step
        if _NDR.search(line):
            section: list[str] = []
            blanks = 0
            for after in numbered:
                if len(section) >= MAX_NDR_LINES or _NDR_END.match(after[1]):
                    pushed_back = after
                    break
                part = _strip_quote_marks(after[1])
                blanks = blanks + 1 if not part else 0
                if blanks >= 2 and section:
                    break
                if part:
                    section.append(part)
            if section:
                yield DeliveryError(source=Source(path=path, line=number),
                                    origin=NDR_ORIGIN, text=" ".join(section))
            continue
        labelled = _LABELLED.match(line) or _INLINE_ERROR.search(line)
        if labelled:
            message = _unquoted(labelled["text"])
            if message:
                origin = "LastError line" if labelled.re is _LABELLED else "error line"
                yield DeliveryError(source=Source(path=path, line=number), origin=origin, text=message)
            continue
        reply = _REPLY.match(line)
        if reply:
            yield DeliveryError(source=Source(path=path, line=number), origin="error text",
                                text=_unquoted(reply["text"]))


class CommandLinesReader(EvidenceReader):
    """Command lines of ours, and bare error text; any cmdlet output beside them goes to the console reader."""

    name = "command lines and error text"

    def recognises(self, file: EvidenceFile) -> bool:
        head = file.head(_RECOGNISE)
        for match in _MARKERS.finditer(head):
            if not match.group(0)[:1].isalpha() or match.group(0).casefold().startswith(("diag", "last")):
                return True
            if at_command_position(head, match.start()):
                return True
        return False

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        text = file.text
        ours: list[Record] = list(read_commands(text, file.display))
        errors = list(read_error_texts(text, file.display))
        spans: list[tuple[int, int]] = []
        console_found = False
        for record in iter_console_text(text, file.display):
            if isinstance(record, RawRecord):
                lines = [f.line for f in record.fields]
                if classify(record) is None and (any(e.source.line in lines for e in errors) or any(
                        e.origin == NDR_ORIGIN and (e.source.line or 0) <= min(lines, default=0) for e in errors)):
                    continue  # the prose of an NDR ("Generating server:", its headers): read here as error text
                if classify(record) is not None:  # cmdlet output (Get-Queue): its LastError is read there
                    spans.append((min(lines, default=0), max(lines, default=0)))
            console_found = True
            yield record
        yield from ours
        spans.sort()
        kept = [e for e in errors if not _inside(e.source.line or 0, spans)]
        yield from kept
        if not ours and not kept and not console_found:
            raise EvidenceError("no command line, error text or PowerShell output found", path=file.display)


def _inside(line: int, spans: list[tuple[int, int]]) -> bool:
    from bisect import bisect_right  # noqa: PLC0415

    at = bisect_right(spans, (line, 1 << 62)) - 1
    return at >= 0 and spans[at][0] <= line <= spans[at][1]
