"""The Windows certificate stores as listed on a server: ``Get-ChildItem Cert:\\LocalMachine\\<Store>``,
``certutil -store``, ``reg query ...\\SystemCertificates\\<Store>\\Certificates``.

A listing says which store it shows and how much of it: ``Cert:\\LocalMachine\\Root`` is the *logical* Trusted Root
store, the union of its physical stores (``.Default``, ``.AuthRoot``, ``.GroupPolicy``, ``.Enterprise``), so it
also lists what sits in Third-Party Root Certification Authorities; ``certutil -store Root`` and the registry key
show one physical store. RootCAType names the physical stores: Registry (``.Default``), ThirdParty (AuthRoot),
GroupPolicy, Enterprise.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hybridtls.model.source import Cited, ServerRef, Source


class StoreView(str, enum.Enum):
    """How much of a system store a listing shows."""

    LOGICAL = "logical"  # Cert:\LocalMachine\<Store>: every physical store of it (Root lists AuthRoot's too)
    REGISTRY = "registry"  # the machine's own registry store (.Default): certutil -store, HKLM\...\SystemCertificates
    GROUP_POLICY = "group policy"  # certutil -grouppolicy, HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates
    ENTERPRISE = "enterprise"  # certutil -enterprise, HKLM\SOFTWARE\Microsoft\EnterpriseCertificates


class StoreBasis(str, enum.Enum):
    """How the store of a listed certificate was known, strongest first."""

    PS_PATH = "PSParentPath or PSPath property"
    TABLE_HEADER = "PSParentPath header above the table"
    CERTUTIL_HEADER = "store named in certutil's header line"
    REGISTRY_KEY = "registry key path"
    COMMAND_LINE = "store path on the command line in the file"


# Stores by the names Windows gives them (certutil, the registry and Cert:\ accept any case).
KNOWN_STORES = ("Root", "AuthRoot", "CA", "My", "TrustedPublisher", "TrustedPeople", "Disallowed", "Trust",
                "Remote Desktop", "SmartCardRoot", "REQUEST", "WebHosting", "TrustedDevices",
                "ClientAuthIssuer", "Homegroup Machine Certificates", "FlightRoot", "eSIM Certification Authorities",
                "Windows Live ID Token Issuer", "UserDS", "AddressBook", "MSIEHistoryJournal")
_BY_KEY = {name.casefold(): name for name in KNOWN_STORES}


def store_name(text: str) -> str:
    """A store's name as Windows spells it (``ROOT`` and ``root`` are ``Root``), or as given when unknown."""
    return _BY_KEY.get(text.strip().casefold(), text.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreCertificate(Cited):
    """One certificate as a listing of a Windows certificate store shows it on one server. Never an Exchange
    certificate: what Exchange says of a certificate (RootCAType, Services) is not in a store listing."""

    source: Source
    field_lines: Mapping[str, int] = field(default_factory=dict)
    server: ServerRef | None = None
    store: str | None = None  # Root, AuthRoot, CA, My ...; None when the evidence does not say
    view: StoreView | None = None  # None when the store is not known
    store_basis: StoreBasis | None = None
    location: str | None = None  # as the evidence names it: "LocalMachine\Root", "AuthRoot", a registry key
    thumbprint: str | None = None  # uppercase hex SHA-1
    subject: str | None = None
    issuer: str | None = None
    serial_number: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    friendly_name: str | None = None

    @property
    def is_self_signed(self) -> bool | None:
        """Subject and Issuer the same name: a root (None when either is not in the listing)."""
        if not self.subject or not self.issuer:
            return None
        return name_key(self.subject) == name_key(self.issuer)

    @property
    def subject_key(self) -> str | None:
        return name_key(self.subject) if self.subject else None

    @property
    def issuer_key(self) -> str | None:
        return name_key(self.issuer) if self.issuer else None


def name_key(name: str) -> str:
    """Names compared as Windows prints them, ignoring case and runs of spaces."""
    return " ".join(name.split()).casefold()
