"""Certificate store listings: ``Get-ChildItem Cert:\\LocalMachine\\<Store>`` (Format-List, the default view and
``*``; the default table under its ``PSParentPath:`` header; CSV and JSON; ``-Recurse`` over every store),
``certutil -store`` blocks and ``reg query`` certificate keys. Never an Exchange certificate: a record with a property
only Exchange reports (RootCAType, Services ...) is not of this kind, and one with the provider's properties
(PSParentPath ...) or under a ``Cert:\\`` command line is of no other."""

from __future__ import annotations

import re

from hybridtls.evidence.certutil import TYPE_HINT as CERTUTIL_TYPE
from hybridtls.evidence.kinds.base import BuildContext, _date, _kind, _server, _text
from hybridtls.evidence.raw import RawField, RawRecord
from hybridtls.evidence.regquery import TYPE_HINT as REGISTRY_TYPE
from hybridtls.model import StoreBasis, StoreCertificate, StoreView, store_name

# Microsoft.PowerShell.Security\Certificate::LocalMachine\AuthRoot[\<thumbprint>]
_PROVIDER_PATH = re.compile(r"Certificate::(?P<location>LocalMachine|CurrentUser)(?:\\(?P<store>[^\\]+))?",
                            re.IGNORECASE)
# Get-ChildItem Cert:\LocalMachine\Root, dir cert:\localmachine\ca -Recurse, gci -Path 'Cert:\LocalMachine\My\AB12...'
_COMMAND_PATH = re.compile(r"\bcert:\\+(?P<location>LocalMachine|CurrentUser)(?:\\+(?P<store>[^\\\s'\"|;)]+))?",
                           re.IGNORECASE)
_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")
TYPE_NAME = "X509Certificate2"


def command_type(command: str | None) -> str | None:
    """The type of object a command line lists: certificates, for a ``Cert:\\`` path."""
    return TYPE_NAME if command and _COMMAND_PATH.search(command) else None


def _store(record: RawRecord) -> tuple[str | None, str | None, StoreBasis | None]:
    """The store's location ("LocalMachine\\Root"), its name, and how they were known."""
    for label in ("PSParentPath", "PSPath"):
        raw = record.get(label)
        match = _PROVIDER_PATH.search(raw.value.text) if raw else None
        if raw and match:
            above = record.source.line is not None and raw.line < record.source.line  # the table's group header
            return _found(match, StoreBasis.TABLE_HEADER if above else StoreBasis.PS_PATH)
    match = _COMMAND_PATH.search(record.command or "")
    return _found(match, StoreBasis.COMMAND_LINE) if match else (None, None, None)


def _found(match: re.Match[str], basis: StoreBasis) -> tuple[str | None, str | None, StoreBasis | None]:
    location = "LocalMachine" if match["location"].casefold() == "localmachine" else "CurrentUser"
    if not match["store"]:
        return location, None, None  # the location's list of stores (-Recurse without a header): no store known
    store = store_name(match["store"])
    return f"{location}\\{store}", store, basis


def _thumbprint(record: RawRecord, ctx: BuildContext) -> str | None:
    text = _text(record, ctx, "Thumbprint")
    if text and _THUMBPRINT.fullmatch(text):
        return text.upper()
    child = _text(record, ctx, "PSChildName")
    if child and _THUMBPRINT.fullmatch(child):
        return child.upper()
    if text:
        raw: RawField | None = record.get("Thumbprint")
        ctx.note(raw.line if raw else record.source.line, f"Thumbprint {text!r} is masked or malformed; the "
                 "certificate is matched by its Subject only")
    return None


def build_store_certificate(record: RawRecord, ctx: BuildContext) -> StoreCertificate:
    location, store, basis = _store(record)
    serial = _text(record, ctx, "SerialNumber")
    return StoreCertificate(
        source=record.source,
        field_lines=record.lines,
        server=_server(record, ctx),
        store=store,
        view=StoreView.LOGICAL if store else None,
        store_basis=basis,
        location=location,
        thumbprint=_thumbprint(record, ctx),
        subject=_text(record, ctx, "Subject"),
        issuer=_text(record, ctx, "Issuer"),
        serial_number=re.sub(r"\s", "", serial).upper() if serial else None,
        not_before=_date(record, ctx, "NotBefore"),
        not_after=_date(record, ctx, "NotAfter"),
        friendly_name=_text(record, ctx, "FriendlyName", trusted=False),
    )


STORE_CERTIFICATE = _kind(
    "StoreCertificate", (("Thumbprint", "PSChildName"), ("Subject", "Issuer", "PSParentPath", "PSPath")),
    ("Subject", "Issuer", "Thumbprint", "FriendlyName", "NotBefore", "NotAfter", "Extensions", "SerialNumber",
     "HasPrivateKey", "DnsNameList", "EnhancedKeyUsageList"),
    build_store_certificate, (TYPE_NAME, "StoreCertificate"), ("NotBefore", "NotAfter"),
    # what only Get-ExchangeCertificate reports: such a record is an Exchange certificate, never a store's
    excluded=("RootCAType", "Services", "ServicesStringForm", "CertificateDomains", "IsSelfSigned", "Status",
              "AccessRules", "IISServices", "PrivateKeyExportable", "Identity", "CertificateRequest"),
    # what only the certificate provider adds
    decisive=("PSParentPath", "PSPath", "PSChildName", "PSDrive", "PSProvider", "EnhancedKeyUsageList",
              "SendAsTrustedIssuer", "EnrollmentPolicyEndPoint", "EnrollmentServerEndPoint"),
)


# ---------------------------------------------------------------- certutil -store


_CERTUTIL_STORE = re.compile(r'^(?P<store>[^"]+?)\s*"')
_CERTUTIL_VIEWS = {"-enterprise": StoreView.ENTERPRISE, "-grouppolicy": StoreView.GROUP_POLICY}
_CERTUTIL_VERBS = ("-store", "-verifystore", "-viewstore")


def _certutil_command(command: str | None) -> tuple[str | None, StoreView | None, bool]:
    """The store a certutil command line names, its physical store, and whether it is the user's (-user)."""
    if not command:
        return None, None, False
    tokens = [t.strip("'\"") for t in command.split()]
    folded = [t.casefold() for t in tokens]
    user = "-user" in folded
    view = next((v for flag, v in _CERTUTIL_VIEWS.items() if flag in folded), StoreView.REGISTRY)
    verb = next((i for i, t in enumerate(folded) if t in _CERTUTIL_VERBS), None)
    store = next((tokens[i] for i in range(verb + 1, len(tokens)) if not tokens[i].startswith(("-", "/"))), None) \
        if verb is not None else None
    return store, view, user


def build_certutil_entry(record: RawRecord, ctx: BuildContext) -> StoreCertificate:
    named, view, user = _certutil_command(record.command)
    header = _text(record, ctx, "Store")
    from_header = _CERTUTIL_STORE.match(header) if header else None
    store_text = from_header["store"] if from_header else named
    store = store_name(store_text) if store_text else None
    serial = _text(record, ctx, "Serial Number")
    digest = _text(record, ctx, "Cert Hash(sha1)")
    thumbprint = re.sub(r"\s", "", digest).upper() if digest else None
    if thumbprint and not _THUMBPRINT.fullmatch(thumbprint):
        raw = record.get("Cert Hash(sha1)")
        ctx.note(raw.line if raw else record.source.line, f"Cert Hash(sha1) {digest!r} is not a SHA-1 hash; the "
                 "certificate is matched by its Subject only")
        thumbprint = None
    return StoreCertificate(
        source=record.source, field_lines=record.lines, server=_server(record, ctx),
        store=store,
        view=view if store else None,  # without the command line, -enterprise and -grouppolicy cannot be told apart
        store_basis=(StoreBasis.CERTUTIL_HEADER if from_header else StoreBasis.COMMAND_LINE) if store else None,
        location=("CurrentUser\\" if user else "LocalMachine\\") + store if store else None,
        thumbprint=thumbprint, subject=_text(record, ctx, "Subject"), issuer=_text(record, ctx, "Issuer"),
        serial_number=re.sub(r"\s", "", serial).upper() if serial else None,
        not_before=_date(record, ctx, "NotBefore"), not_after=_date(record, ctx, "NotAfter"),
        friendly_name=_text(record, ctx, "Friendly Name", trusted=False),
    )


# certutil's blocks come from its reader; pasted where the console reader took them, "Cert Hash(sha1)" tells them
CERTUTIL_ENTRY = _kind("CertutilStoreEntry", (("Cert Hash(sha1)",),), ("Serial Number", "Issuer", "Subject"),
                       build_certutil_entry, (CERTUTIL_TYPE,), ("NotBefore", "NotAfter"))


# ---------------------------------------------------------------- reg query


_REGISTRY_KEY = re.compile(
    r"^(?:HKEY_LOCAL_MACHINE|HKLM)\\SOFTWARE\\(?P<where>Policies\\Microsoft\\SystemCertificates|"
    r"Microsoft\\SystemCertificates|Microsoft\\EnterpriseCertificates)\\(?P<store>.+?)\\Certificates\\"
    r"(?P<thumbprint>[0-9A-Fa-f]{40})$", re.IGNORECASE)
_REGISTRY_VIEWS = {"policies\\microsoft\\systemcertificates": StoreView.GROUP_POLICY,
                   "microsoft\\systemcertificates": StoreView.REGISTRY,
                   "microsoft\\enterprisecertificates": StoreView.ENTERPRISE}


def build_registry_key(record: RawRecord, ctx: BuildContext) -> StoreCertificate | None:
    key = _text(record, ctx, "Key") or ""
    match = _REGISTRY_KEY.match(key)
    if not match:
        raw = record.get("Key")
        ctx.note(raw.line if raw else record.source.line, f"registry key {key[:120]!r} is not a certificate of a "
                 "known store; passed over")
        return None
    store = store_name(match["store"])
    return StoreCertificate(source=record.source, field_lines=record.lines, server=_server(record, ctx), store=store,
                            view=_REGISTRY_VIEWS[match["where"].casefold()], store_basis=StoreBasis.REGISTRY_KEY,
                            location=key.rsplit("\\", 2)[0], thumbprint=match["thumbprint"].upper())


REGISTRY_KEY = _kind("RegistryCertificateKey", (), (), build_registry_key, (REGISTRY_TYPE,))  # from its reader only
