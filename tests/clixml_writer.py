"""CliXML as Export-Clixml writes it from the Exchange Management Shell, for tests: Get-ExchangeCertificate objects
whose RootCAType, Status and Services are only inside SerializationData (a BinaryFormatter stream written by
``nrbf_writer``), with the certificate's RawData, and the Format-List twin of the same objects.

The layout follows what a remote session serializes for an ExchangeCertificate: the X509Certificate2 properties
and Exchange's own under ``<Props>``, nested objects (AccessRules, CertificateDomains, IssuerName) as ``<Obj>``
with their type names once (``<TN RefId>``, then ``<TNRef>``), and SerializationData under ``<MS>``.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from factory import Issued, issue, name
from nrbf_writer import exchange_certificate, serialized_cert

from hybridtls.model import Source
from hybridtls.pki.facts import certificate_facts

NS = "http://schemas.microsoft.com/powershell/2004/04"
_ROOT_CA = ("None", "ThirdParty", "Enterprise", "Registry", "GroupPolicy", "Unknown")
_STATUS = ("Unknown", "Valid", "Revoked", "DateInvalid", "Untrusted", "Invalid", "RevocationCheckFailure",
           "PendingRequest")
_SERVICES = ((1, "IMAP"), (2, "POP"), (4, "UM"), (8, "IIS"), (16, "SMTP"), (32, "Federation"), (64, "UMCallRouter"))


@dataclass
class Exported:
    """One Get-ExchangeCertificate object: the certificate and what Exchange says of it."""

    cert: x509.Certificate
    root_ca_type: int = 3
    status: int = 1
    services: int = 27  # IMAP, POP, IIS, SMTP
    server: str | None = None  # Identity SERVER\THUMBPRINT, when given
    has_private_key: bool = True
    self_signed: bool = False
    date_format: str = "%d/%m/%Y %I:%M:%S %p"  # the Format-List twin's culture


class _Types:
    """Type names are written in full once per file (``<TN RefId>``), then referred to (``<TNRef>``)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, ...], int] = {}

    def __call__(self, *names: str) -> str:
        if names in self.seen:
            return f'<TNRef RefId="{self.seen[names]}" />'
        self.seen[names] = len(self.seen)
        inner = "".join(f"<T>{escape(n)}</T>" for n in names)
        return f'<TN RefId="{self.seen[names]}">{inner}</TN>'


def _dt(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000+00:00"


def _services_text(flags: int) -> str:
    return ", ".join(name for bit, name in _SERVICES if flags & bit) or "None"


def clixml(*objects: Exported) -> str:
    types = _Types()
    refs = itertools.count()
    lines = [f'<Objs Version="1.1.0.1" xmlns="{NS}">']
    for item in objects:
        lines += certificate_obj(item, types, refs)
    lines.append("</Objs>")
    return "\r\n".join(lines) + "\r\n"


def certificate_obj(item: Exported, types: _Types, refs: itertools.count[int], *, indent: str = "  ",
                    member: str | None = None) -> list[str]:
    """One ExchangeCertificate ``<Obj>`` (a property ``member`` of another object, or an item when None)."""
    facts = certificate_facts(item.cert, source=Source(path="x"), label="x")
    der = item.cert.public_bytes(Encoding.DER)
    identity = f"{item.server}\\{facts.thumbprint}" if item.server else None
    blob = exchange_certificate(serialized_cert(der), status=item.status, root_ca_type=item.root_ca_type,
                                services=item.services, identity=identity, self_signed=item.self_signed)
    ns = "Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks."
    x509ns = "Deserialized.System.Security.Cryptography.X509Certificates."
    domains = "".join(f"<S>{escape(d)}</S>" for d in facts.certificate_domains)
    named = f' N="{member}"' if member else ""
    lines = [
        f'<Obj{named} RefId="{next(refs)}">',
        "  " + types(ns + "ExchangeCertificate", x509ns + "X509Certificate2", x509ns + "X509Certificate",
                     "Deserialized.System.Object"),
        f"  <ToString>[Subject]&#x0D;&#x0A;  {escape(facts.subject)}&#x0D;&#x0A;</ToString>",
        "  <Props>",
        f'    <Obj N="AccessRules" RefId="{next(refs)}">',
        "      " + types("Deserialized.System.Collections.Generic.List`1[[System.Security.AccessControl.AccessRule, "
                         "mscorlib]]", "Deserialized.System.Object"),
        "      <LST><S>System.Security.AccessControl.CryptoKeyAccessRule</S>"
        "<S>System.Security.AccessControl.CryptoKeyAccessRule</S></LST>",
        "    </Obj>",
        f'    <Obj N="CertificateDomains" RefId="{next(refs)}">',
        "      " + types("Deserialized.System.Collections.ObjectModel.ReadOnlyCollection`1[[Microsoft.Exchange."
                         "Data.SmtpDomainWithSubdomains, Microsoft.Exchange.Data]]", "Deserialized.System.Object"),
        f"      <LST>{domains}</LST>",
        "    </Obj>",
        '    <Nil N="CertificateRequest" />',
        f'    <B N="IsSelfSigned">{str(item.self_signed).lower()}</B>',
        f'    <S N="KeyIdentifier">{facts.subject_key_id or ""}</S>',
        f'    <I32 N="PublicKeySize">{facts.public_key_size}</I32>',
        '    <B N="PrivateKeyExportable">false</B>',
        '    <B N="Archived">false</B>',
        '    <S N="FriendlyName"></S>',
        f'    <B N="HasPrivateKey">{str(item.has_private_key).lower()}</B>',
        f'    <Obj N="IssuerName" RefId="{next(refs)}">',
        "      " + types(x509ns + "X500DistinguishedName", "Deserialized.System.Object"),
        f"      <ToString>{escape(facts.issuer)}</ToString>",
        "      <Props>",
        f'        <S N="Name">{escape(facts.issuer)}</S>',
        f'        <BA N="RawData">{base64.b64encode(facts.issuer_der).decode()}</BA>',
        "      </Props>",
        "    </Obj>",
        f'    <DT N="NotAfter">{_dt(facts.not_after)}</DT>',
        f'    <DT N="NotBefore">{_dt(facts.not_before)}</DT>',
        f'    <BA N="RawData">{base64.b64encode(der).decode()}</BA>',
        f'    <S N="SerialNumber">{facts.serial_number}</S>',
        f'    <S N="Thumbprint">{facts.thumbprint}</S>',
        '    <I32 N="Version">3</I32>',
        f'    <S N="Issuer">{escape(facts.issuer)}</S>',
        f'    <S N="Subject">{escape(facts.subject)}</S>',
        "  </Props>",
        "  <MS>",
        f'    <BA N="SerializationData">{base64.b64encode(blob).decode()}</BA>',
        "  </MS>",
        "</Obj>",
    ]
    return [indent + line for line in lines]


def healthchecker(server: str, fqdn: str, certificates: list[Exported], receive_connectors: list[dict[str, object]],
                  internal_thumbprint: str, *, auth_thumbprint: str | None = None) -> str:
    """HealthChecker's XML for one server, shaped as CSS-Exchange's HealthChecker builds and saves it
    (``Export-Clixml -Depth 2`` of the analyzer's result, ``Features/Invoke-HealthCheckerMainReport.ps1``): the
    result (``Analyzer/Invoke-AnalyzerEngine.ps1``) holds ``HealthCheckerExchangeServer``
    (``Features/Get-HealthCheckerDataObject.ps1``), whose ``ExchangeInformation`` has GetExchangeServer,
    GetReceiveConnector, GetTransportService and ExchangeCertificateInformation (Certificates, the
    Get-ExchangeCertificate objects; InternalCertificateThumbprint; CustomCertificates, HealthChecker's summary of
    each, ``Analyzer/Security/Get-ExchangeCertificateCustomObject.ps1``, whose CertificateObject refers back).

    A receive connector is a dict of its properties: a str is a string, a bool a Boolean, a tuple of texts a
    list, and ``("obj", text)`` an object written with its ToString (Identity, Server, AuthMechanism)."""
    types = _Types()
    refs = itertools.count()
    custom = "System.Management.Automation.PSCustomObject"
    dserver = "Deserialized.Microsoft.Exchange.Data.Directory.Management.ExchangeServer"
    lines = [f'<Objs Version="1.1.0.1" xmlns="{NS}">',
             f'  <Obj RefId="{next(refs)}">', "    " + types(custom, "System.Object"), "    <MS>",
             f'      <Obj N="HealthCheckerExchangeServer" RefId="{next(refs)}">', "        " + types(custom, "System.Object"),
             "        <MS>",
             '          <DT N="GenerationTime">2016-02-20T09:00:00.0000000+00:00</DT>',
             '          <S N="HealthCheckerVersion">25.03.07.1234</S>',
             f'          <S N="ServerName">{escape(server)}</S>',
             f'          <Obj N="OrganizationInformation" RefId="{next(refs)}">', "            " + types(custom, "System.Object"),
             "            <MS>",
             f'              <Obj N="GetAuthConfig" RefId="{next(refs)}">',
             "                " + types("Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthConfig",
                                        "Deserialized.System.Object"),
             "                <Props>",
             f'                  <S N="CurrentCertificateThumbprint">{auth_thumbprint or ""}</S>',
             '                  <S N="ServiceName">00000002-0000-0ff1-ce00-000000000000</S>',
             "                </Props>",
             "              </Obj>",
             "            </MS>",
             "          </Obj>",
             f'          <Obj N="ExchangeInformation" RefId="{next(refs)}">', "            " + types(custom, "System.Object"),
             "            <MS>",
             '              <Nil N="EdgeTransportResourceThrottling" />',
             f'              <Obj N="GetExchangeServer" RefId="{next(refs)}">',
             "                " + types(dserver, "Deserialized.Microsoft.Exchange.Data.Directory.ADObject",
                                        "Deserialized.System.Object"),
             f"                <ToString>{escape(server)}</ToString>",
             "                <Props>",
             f'                  <S N="Name">{escape(server)}</S>',
             f'                  <S N="Fqdn">{escape(fqdn)}</S>',
             '                  <B N="IsEdgeServer">false</B>',
             "                </Props>",
             "              </Obj>",
             f'              <Obj N="GetReceiveConnector" RefId="{next(refs)}">',
             "                " + types("System.Object[]", "System.Array", "System.Object"),
             "                <LST>"]
    for connector in receive_connectors:
        lines += [f'                  <Obj RefId="{next(refs)}">',
                  "                    " + types("Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration."
                                                 "ReceiveConnector", "Deserialized.System.Object"),
                  f"                    <ToString>{escape(str(connector['Name']))}</ToString>", "                    <Props>"]
        lines += ["                      " + _member(label, value, types, refs) for label, value in connector.items()]
        lines += ["                    </Props>", "                  </Obj>"]
    lines += ["                </LST>", "              </Obj>",
              f'              <Obj N="GetTransportService" RefId="{next(refs)}">',
              "                " + types("Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.TransportServer",
                                        "Deserialized.System.Object"),
              f"                <ToString>{escape(server)}</ToString>", "                <Props>",
              f'                  <S N="Name">{escape(server)}</S>',
              f'                  <S N="InternalTransportCertificateThumbprint">{internal_thumbprint}</S>',
              "                </Props>", "              </Obj>",
              f'              <Obj N="ExchangeCertificateInformation" RefId="{next(refs)}">',
              "                " + types(custom, "System.Object"), "                <MS>",
              f'                  <Obj N="Certificates" RefId="{next(refs)}">',
              "                    " + types("System.Object[]", "System.Array", "System.Object"), "                    <LST>"]
    certificate_refs = []
    for item in certificates:
        body = certificate_obj(item, types, refs, indent="                      ")
        certificate_refs.append(body[0].split('RefId="')[1].split('"')[0])
        lines += body
    lines += ["                    </LST>", "                  </Obj>",
              f'                  <S N="InternalCertificateThumbprint">{internal_thumbprint}</S>',
              f'                  <Obj N="CustomCertificates" RefId="{next(refs)}">',
              "                    " + types("System.Object[]", "System.Array", "System.Object"), "                    <LST>"]
    for item, ref in zip(certificates, certificate_refs):
        facts = certificate_facts(item.cert, source=Source(path="x"), label="x")
        lines += [f'                      <Obj RefId="{next(refs)}">', "                        " + types(custom, "System.Object"),
                  "                        <MS>",
                  f'                          <S N="Issuer">{escape(facts.issuer)}</S>',
                  f'                          <S N="Subject">{escape(facts.subject)}</S>',
                  f'                          <S N="Thumbprint">{facts.thumbprint}</S>',
                  f'                          <S N="Services">{_services_text(item.services)}</S>',
                  f'                          <B N="IsInternalTransportCertificate">'
                  f'{str(facts.thumbprint == internal_thumbprint).lower()}</B>',
                  f'                          <B N="IsCurrentAuthConfigCertificate">'
                  f'{str(facts.thumbprint == auth_thumbprint).lower()}</B>',
                  f'                          <S N="Status">{_STATUS[item.status]}</S>',
                  f'                          <Ref N="CertificateObject" RefId="{ref}" />',
                  "                        </MS>", "                      </Obj>"]
    lines += ["                    </LST>", "                  </Obj>", "                </MS>", "              </Obj>",
              "            </MS>", "          </Obj>", "        </MS>", "      </Obj>",
              f'      <Obj N="HtmlServerValues" RefId="{next(refs)}">',
              "        " + types("System.Collections.Hashtable", "System.Object"), "        <DCT />", "      </Obj>",
              f'      <Obj N="DisplayResults" RefId="{next(refs)}">',
              "        <TNRef RefId=\"" + str(types.seen[("System.Collections.Hashtable", "System.Object")]) + "\" />",
              "        <DCT />", "      </Obj>",
              "    </MS>", "  </Obj>", "</Objs>"]
    return "\r\n".join(lines) + "\r\n"


def _member(label: str, value: object, types: _Types, refs: itertools.count[int]) -> str:
    if isinstance(value, bool):
        return f'<B N="{label}">{str(value).lower()}</B>'
    if isinstance(value, tuple) and value and value[0] == "obj":
        return f'<Obj N="{label}" RefId="{next(refs)}"><ToString>{escape(str(value[1]))}</ToString></Obj>'
    if isinstance(value, tuple):
        items = "".join(f"<S>{escape(str(v))}</S>" for v in value)
        return (f'<Obj N="{label}" RefId="{next(refs)}">'
                + types("Deserialized.Microsoft.Exchange.Data.MultiValuedProperty`1", "Deserialized.System.Object")
                + f"<LST>{items}</LST></Obj>")
    return f'<S N="{label}">{escape(str(value))}</S>'


def connector_format_list(connector: dict[str, object]) -> dict[str, str]:
    """The receive connector as Format-List shows it."""
    shown: dict[str, str] = {}
    for label, value in connector.items():
        if isinstance(value, bool):
            shown[label] = str(value)
        elif isinstance(value, tuple) and value and value[0] == "obj":
            shown[label] = str(value[1])
        elif isinstance(value, tuple):
            shown[label] = "{" + ", ".join(map(str, value)) + "}"
        else:
            shown[label] = str(value)
    return shown


def format_list_record(item: Exported) -> dict[str, str]:
    """The same object as ``Get-ExchangeCertificate | Format-List`` shows it."""
    facts = certificate_facts(item.cert, source=Source(path="x"), label="x")
    record = {
        "AccessRules": "{System.Security.AccessControl.CryptoKeyAccessRule, "
                       "System.Security.AccessControl.CryptoKeyAccessRule}",
        "CertificateDomains": "{" + ", ".join(facts.certificate_domains) + "}",
        "HasPrivateKey": str(item.has_private_key),
        "IsSelfSigned": str(item.self_signed),
        "Issuer": facts.issuer,
        "NotAfter": facts.not_after.strftime(item.date_format),
        "NotBefore": facts.not_before.strftime(item.date_format),
        "PublicKeySize": str(facts.public_key_size),
        "RootCAType": _ROOT_CA[item.root_ca_type],
        "SerialNumber": facts.serial_number,
        "Services": _services_text(item.services),
        "Status": _STATUS[item.status],
        "Subject": facts.subject,
        "Thumbprint": facts.thumbprint,
    }
    if item.server:
        record["Identity"] = f"{item.server}\\{facts.thumbprint}"
    return record


def frontend_connector(tls_certificate_name: str) -> dict[str, object]:
    """EXCAS1's Default Frontend receive connector (for ``healthchecker`` and ``connector_format_list``)."""
    return {"Name": "Default Frontend EXCAS1", "Identity": ("obj", "EXCAS1\\Default Frontend EXCAS1"),
            "Server": ("obj", "EXCAS1"), "Bindings": ("[::]:25", "0.0.0.0:25"), "Enabled": True,
            "Fqdn": "owa.domain.com",
            "AuthMechanism": ("obj", "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer"),
            "TransportRole": ("obj", "FrontendTransport"), "TlsCertificateName": tls_certificate_name}


def excas1_healthchecker(item: Exported) -> str:
    """EXCAS1's HealthChecker XML: its certificate (without Identity: the server is HealthChecker's to say), its
    frontend receive connector naming that certificate, its transport service, AuthConfig naming it too."""
    facts = certificate_facts(item.cert, source=Source(path="x"), label="x")
    name = f"<I>{facts.issuer}<S>{facts.subject}"
    return healthchecker("EXCAS1", "excas1.domain.com", [replace(item, server=None)], [frontend_connector(name)],
                         facts.thumbprint, auth_thumbprint=facts.thumbprint)


def founding_chain() -> tuple[Issued, Issued, Issued]:
    """A private root, its intermediate and the hybrid certificate of a founding-incident-like estate (2016)."""
    utc = timezone.utc
    root = issue(name("QuoVadis Root CA 2", "QuoVadis Limited", "BM"), ca=True,
                 not_before=datetime(2006, 11, 24, tzinfo=utc), not_after=datetime(2031, 11, 24, tzinfo=utc))
    intermediate = issue(name("QuoVadis EV SSL ICA G1", "QuoVadis Limited", "BM"), issuer=root, ca=True,
                         not_before=datetime(2014, 1, 1, tzinfo=utc), not_after=datetime(2024, 1, 1, tzinfo=utc))
    leaf = issue(name("owa.domain.com"), issuer=intermediate, dns=("owa.domain.com", "autodiscover.domain.com"),
                 not_before=datetime(2016, 2, 12, 13, 43, 23, tzinfo=utc),
                 not_after=datetime(2018, 2, 12, 13, 53, tzinfo=utc))
    return root, intermediate, leaf


def founding_trust(folder: Path) -> tuple[str, ...]:
    """The options that judge chains against the founding chain's private root (written into ``folder``), so that
    only what the evidence says about Exchange is compared."""
    root, intermediate, _ = founding_chain()
    (folder / "root.pem").write_bytes(root.pem)
    (folder / "ica.pem").write_bytes(intermediate.pem)
    return ("--trust", str(folder / "root.pem"), "--intermediates", str(folder / "ica.pem"))


if __name__ == "__main__":  # regenerate tests/fixtures/clixml, or with the argument healthchecker
    # tests/fixtures/healthchecker (new keys: review the golden diff after)
    import shutil
    import sys

    here = Path(__file__).parent / "fixtures"
    _, _, leaf = founding_chain()
    if sys.argv[1:] == ["healthchecker"]:
        target = here / "healthchecker"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(here / "cases" / "founding-incident", target)
        (target / "excas1" / "Get-ExchangeCertificate.txt").unlink()
        (target / "excas1").rmdir()
        # HealthChecker writes -Encoding utf8: in Windows PowerShell, UTF-8 with a byte order mark
        (target / "HealthChecker-EXCAS1-201602200900.xml").write_bytes(
            b"\xef\xbb\xbf" + excas1_healthchecker(Exported(leaf.cert)).encode("utf-8"))
        sys.exit(0)
    target = here / "clixml"
    (target / "excas1").mkdir(parents=True, exist_ok=True)
    # Export-Clixml writes UTF-16 LE with a byte order mark (Windows PowerShell's default)
    (target / "excas1" / "Get-ExchangeCertificate.xml").write_bytes(
        b"\xff\xfe" + clixml(Exported(leaf.cert, server="EXCAS1")).encode("utf-16-le"))
    (target / "exchange-online").mkdir(exist_ok=True)
    shutil.copy(here / "cases" / "founding-incident" / "exchange-online" / "Get-MessageTrace.txt",
                target / "exchange-online" / "Get-MessageTrace.txt")
