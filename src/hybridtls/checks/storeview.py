"""Views over the certificate store listings that the store checks and RootCAType's check share: each server's
listings, the chain names of an Exchange certificate as the listings show them, and where its root sits.

A listing proves presence where it holds a certificate, and absence only of the store it lists: the AuthRoot
listing of a server that does not hold a root proves the root is not a third-party root there; a logical Root
listing (``Cert:\\LocalMachine\\Root``) that does not hold it proves no root store of that server does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from hybridtls.checks.estate import server_key
from hybridtls.model import Citation, EvidenceSet, ExchangeCertificate, StoreCertificate, StoreView, name_key

ROOT_STORES = frozenset({"Root", "AuthRoot"})
MAX_CHAIN = 6  # names walked up from a certificate's issuer: no real chain is longer


def store_server_key(cert: StoreCertificate) -> str:
    return cert.server.key if cert.server else "file:" + cert.source.path


def store_server_name(cert: StoreCertificate) -> str:
    return cert.server.name if cert.server else f"the server of {cert.source.path}"


def listing_name(cert: StoreCertificate) -> str:
    """The listing as a person names it: "the AuthRoot listing", "the certutil -store Root listing"."""
    physical = {StoreView.REGISTRY: " (.Default)", StoreView.GROUP_POLICY: " (Group Policy)",
                StoreView.ENTERPRISE: " (Enterprise)"}.get(cert.view, "") if cert.view else ""
    return f"{cert.store}{physical} listing"


def store_cite(cert: StoreCertificate, what: str) -> Citation:
    return Citation(source=cert.source, text=f"{store_server_name(cert)}: {what} in {listing_name(cert)}")


class Placement(str, enum.Enum):
    """Where a root sits on one server, as its listings prove it."""

    AUTHROOT = "in Third-Party Root Certification Authorities (AuthRoot)"
    GROUP_POLICY = "in Trusted Root from Group Policy only"
    ENTERPRISE = "in Trusted Root from Active Directory (Enterprise) only"
    ROOT_ONLY = "in Trusted Root Certification Authorities only"
    NOWHERE = "in no root store"


@dataclass(frozen=True, slots=True)
class Where:
    """A root's placement on one server, with the listings that prove it (holding it, and lacking it)."""

    placement: Placement
    holding: tuple[StoreCertificate, ...]  # the listed copies of the root on the server
    lacking: tuple[StoreCertificate, ...]  # a certificate of each listing that does not hold it (to cite the listing)


@dataclass(frozen=True, slots=True)
class ServerStores:
    """The listed certificates of one server, and which listings there are."""

    name: str
    listed: tuple[StoreCertificate, ...]
    by_subject: dict[str, list[StoreCertificate]] = field(default_factory=dict)

    @classmethod
    def of(cls, listed: list[StoreCertificate]) -> ServerStores:
        by_subject: dict[str, list[StoreCertificate]] = {}
        for cert in listed:
            if cert.subject_key:
                by_subject.setdefault(cert.subject_key, []).append(cert)
        return cls(store_server_name(listed[0]), tuple(listed), by_subject)

    def listing(self, store: str, *views: StoreView | None) -> StoreCertificate | None:
        """A certificate of the listing of this store (in one of these views, if given): the listing is there."""
        return next((c for c in self.listed if c.store == store and (not views or c.view in views)), None)

    def holding(self, subject: str, thumbprints: frozenset[str], stores: frozenset[str]) -> list[StoreCertificate]:
        """The listed certificates of these stores that are the named certificate (by thumbprint, or subject)."""
        found = [c for c in self.by_subject.get(subject, ()) if c.store in stores]
        found += [c for c in self.listed if c.store in stores and c.thumbprint in thumbprints and c not in found]
        return found

    def where(self, root: ChainName) -> Where | None:
        """Where the root sits here; None when the listings given cannot tell."""
        holding = self.holding(root.key, root.thumbprints, ROOT_STORES)
        authroot = self.listing("AuthRoot")
        logical_root = self.listing("Root", StoreView.LOGICAL, None)
        if any(c.store == "AuthRoot" for c in holding):
            return Where(Placement.AUTHROOT, tuple(c for c in holding if c.store == "AuthRoot"), ())
        if holding and authroot is None:
            return None  # in Trusted Root; whether in AuthRoot too, no AuthRoot listing says
        for view, placement in ((StoreView.GROUP_POLICY, Placement.GROUP_POLICY),
                                (StoreView.ENTERPRISE, Placement.ENTERPRISE)):
            if any(c.view is view for c in holding):  # that physical store's listing first: it is the proof
                return Where(placement, tuple(sorted(holding, key=lambda c: c.view is not view)),
                             (authroot,) if authroot else ())
        if holding:
            return Where(Placement.ROOT_ONLY, tuple(holding), (authroot,) if authroot else ())
        if logical_root is not None:  # the logical Root store is every root store: not there, nowhere
            return Where(Placement.NOWHERE, (), tuple(c for c in (logical_root, authroot) if c))
        return None


def servers_with_stores(evidence: EvidenceSet) -> dict[str, ServerStores]:
    """Each server's store listings, by server key (records without a server stay apart, one per file)."""
    by_server: dict[str, list[StoreCertificate]] = {}
    for cert in evidence.store_certificates:
        if not (cert.location or "").startswith("CurrentUser"):  # a user's stores are not what Exchange uses
            by_server.setdefault(store_server_key(cert), []).append(cert)
    return {key: ServerStores.of(listed) for key, listed in by_server.items()}


@dataclass(frozen=True, slots=True)
class ChainName:
    """A CA in a certificate's chain, as the listings name it."""

    key: str  # name_key of its subject
    display: str
    thumbprints: frozenset[str]  # of its listed copies, on any server


@dataclass(frozen=True, slots=True)
class ChainNames:
    """The CAs above an Exchange certificate: its issuers up to the root, as far as the listings show them."""

    intermediates: tuple[ChainName, ...]
    root: ChainName | None  # None: the listings do not show where the chain ends


def subject_index(listed: Iterable[StoreCertificate]) -> dict[str, list[StoreCertificate]]:
    """Every listed certificate, on any server, by subject."""
    by_subject: dict[str, list[StoreCertificate]] = {}
    for store_cert in listed:
        if store_cert.subject_key:
            by_subject.setdefault(store_cert.subject_key, []).append(store_cert)
    return by_subject


def chain_names(cert: ExchangeCertificate, by_subject: dict[str, list[StoreCertificate]]) -> ChainNames | None:
    """Walk up from the certificate's issuer by subject, over every server's listings. None without an issuer."""
    if not cert.issuer:
        return None
    names: list[ChainName] = []
    key, display = name_key(cert.issuer), cert.issuer
    for _ in range(MAX_CHAIN):
        copies = by_subject.get(key, [])
        name = ChainName(key, display, frozenset(c.thumbprint for c in copies if c.thumbprint))
        if not copies:
            return ChainNames((*names, name), None)  # named by the certificate below it, listed nowhere
        if any(c.is_self_signed for c in copies) or (all(c.issuer_key is None for c in copies)
                                                     and any(c.store in ROOT_STORES for c in copies)):
            return ChainNames(tuple(names), name)
        names.append(name)
        above = next((c for c in copies if c.issuer_key and c.issuer_key != key), None)
        if above is None or above.issuer is None or any(n.key == above.issuer_key for n in names):
            return ChainNames(tuple(names), None)
        key, display = name_key(above.issuer), above.issuer
    return ChainNames(tuple(names), None)


def stores_of(cert: ExchangeCertificate, servers: dict[str, ServerStores]) -> ServerStores | None:
    return servers.get(server_key(cert))


@dataclass(frozen=True, slots=True)
class RootProof:
    """What the store listings say of where a certificate's root sits on its server, for a RootCAType finding."""

    words: str  # "Proven by the AuthRoot listing of EXCAS1, ..." or "Inferred from RootCAType only ..."
    citations: tuple[Citation, ...] = ()
    root: ChainName | None = None  # set when proven: the root, only in Trusted Root
    copy: StoreCertificate | None = None  # its listed copy there, to move it from


class StoreEvidence:
    """The store listings of a run, indexed once, to prove or rule out what RootCAType says."""

    def __init__(self, evidence: EvidenceSet) -> None:
        self.servers = servers_with_stores(evidence)
        self.by_subject = subject_index(evidence.store_certificates)

    def root_of(self, cert: ExchangeCertificate) -> RootProof:
        stores = stores_of(cert, self.servers)
        chain = chain_names(cert, self.by_subject) if stores else None
        server = stores.name if stores else (cert.server.name if cert.server else "the server")
        if stores is None or chain is None or chain.root is None:
            return RootProof(f"Inferred from RootCAType only: no store listing of {server} shows the root of its chain.")
        root = chain.root
        where = stores.where(root)
        if where is None:
            return RootProof(f"Inferred from RootCAType only: no AuthRoot listing of {server} says whether the root "
                             f"{root.display} is a third-party root there.")
        if where.placement is Placement.AUTHROOT:
            return RootProof(f"Yet the {listing_name(where.holding[0])} of {server} holds the root {root.display}: the "
                             "listing and Get-ExchangeCertificate may be from different times, or Windows builds the "
                             "chain to another root.", (store_cite(where.holding[0], f"{root.display} listed"),))
        if where.placement is Placement.NOWHERE:
            return RootProof(f"The {listing_name(where.lacking[0])} of {server} does not hold the root {root.display} "
                             "at all: Windows builds the chain to another root, or the listing is older.",
                             (store_cite(where.lacking[0], f"{root.display} not listed"),))
        citations = (*(store_cite(c, f"{root.display} not listed") for c in where.lacking),
                     *(store_cite(c, f"{root.display} listed") for c in where.holding))
        return RootProof(f"Proven by the AuthRoot listing of {server}, which does not hold the root {root.display}, "
                         f"while its {listing_name(where.holding[0])} does.", citations, root,
                         next((c for c in where.holding if c.thumbprint), where.holding[0]))
