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
from dataclasses import dataclass
from datetime import datetime, timezone
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
        facts = certificate_facts(item.cert, source=Source(path="x"), label="x")
        der = item.cert.public_bytes(Encoding.DER)
        identity = f"{item.server}\\{facts.thumbprint}" if item.server else None
        blob = exchange_certificate(serialized_cert(der), status=item.status, root_ca_type=item.root_ca_type,
                                    services=item.services, identity=identity, self_signed=item.self_signed)
        ns = "Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks."
        x509ns = "Deserialized.System.Security.Cryptography.X509Certificates."
        domains = "".join(f"<S>{escape(d)}</S>" for d in facts.certificate_domains)
        lines += [
            f'  <Obj RefId="{next(refs)}">',
            "    " + types(ns + "ExchangeCertificate", x509ns + "X509Certificate2", x509ns + "X509Certificate",
                           "Deserialized.System.Object"),
            f"    <ToString>[Subject]&#x0D;&#x0A;  {escape(facts.subject)}&#x0D;&#x0A;</ToString>",
            "    <Props>",
            f'      <Obj N="AccessRules" RefId="{next(refs)}">',
            "        " + types("Deserialized.System.Collections.Generic.List`1[[System.Security.AccessControl.AccessRule, "
                               "mscorlib]]", "Deserialized.System.Object"),
            "        <LST><S>System.Security.AccessControl.CryptoKeyAccessRule</S>"
            "<S>System.Security.AccessControl.CryptoKeyAccessRule</S></LST>",
            "      </Obj>",
            f'      <Obj N="CertificateDomains" RefId="{next(refs)}">',
            "        " + types("Deserialized.System.Collections.ObjectModel.ReadOnlyCollection`1[[Microsoft.Exchange."
                               "Data.SmtpDomainWithSubdomains, Microsoft.Exchange.Data]]", "Deserialized.System.Object"),
            f"        <LST>{domains}</LST>",
            "      </Obj>",
            '      <Nil N="CertificateRequest" />',
            f'      <B N="IsSelfSigned">{str(item.self_signed).lower()}</B>',
            f'      <S N="KeyIdentifier">{facts.subject_key_id or ""}</S>',
            f'      <I32 N="PublicKeySize">{facts.public_key_size}</I32>',
            '      <B N="PrivateKeyExportable">false</B>',
            '      <B N="Archived">false</B>',
            '      <S N="FriendlyName"></S>',
            f'      <B N="HasPrivateKey">{str(item.has_private_key).lower()}</B>',
            f'      <Obj N="IssuerName" RefId="{next(refs)}">',
            "        " + types(x509ns + "X500DistinguishedName", "Deserialized.System.Object"),
            f"        <ToString>{escape(facts.issuer)}</ToString>",
            "        <Props>",
            f'          <S N="Name">{escape(facts.issuer)}</S>',
            f'          <BA N="RawData">{base64.b64encode(facts.issuer_der).decode()}</BA>',
            "        </Props>",
            "      </Obj>",
            f'      <DT N="NotAfter">{_dt(facts.not_after)}</DT>',
            f'      <DT N="NotBefore">{_dt(facts.not_before)}</DT>',
            f'      <BA N="RawData">{base64.b64encode(der).decode()}</BA>',
            f'      <S N="SerialNumber">{facts.serial_number}</S>',
            f'      <S N="Thumbprint">{facts.thumbprint}</S>',
            '      <I32 N="Version">3</I32>',
            f'      <S N="Issuer">{escape(facts.issuer)}</S>',
            f'      <S N="Subject">{escape(facts.subject)}</S>',
            "    </Props>",
            "    <MS>",
            f'      <BA N="SerializationData">{base64.b64encode(blob).decode()}</BA>',
            "    </MS>",
            "  </Obj>",
        ]
    lines.append("</Objs>")
    return "\r\n".join(lines) + "\r\n"


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


if __name__ == "__main__":  # regenerate tests/fixtures/clixml (new keys: review the golden diff after)
    import shutil
    from pathlib import Path

    here = Path(__file__).parent / "fixtures"
    target = here / "clixml"
    _, _, leaf = founding_chain()
    (target / "excas1").mkdir(parents=True, exist_ok=True)
    # Export-Clixml writes UTF-16 LE with a byte order mark (Windows PowerShell's default)
    (target / "excas1" / "Get-ExchangeCertificate.xml").write_bytes(
        b"\xff\xfe" + clixml(Exported(leaf.cert, server="EXCAS1")).encode("utf-16-le"))
    (target / "exchange-online").mkdir(exist_ok=True)
    shutil.copy(here / "cases" / "founding-incident" / "exchange-online" / "Get-MessageTrace.txt",
                target / "exchange-online" / "Get-MessageTrace.txt")
