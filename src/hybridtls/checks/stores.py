"""Certificate stores: where the root of each Exchange certificate's chain sits on each server, whether its
intermediates are in the CA store, expired and duplicated CA certificates, and roots some servers lack.

These judge what the store listings prove. Where Get-ExchangeCertificate reports RootCAType for the certificate on
the server, HT-ROOT-001/002 judge the root and cite these listings as proof; the checks here speak where RootCAType
does not (not saved) or cannot (the root is missing altogether).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hybridtls import references as refs
from hybridtls.checks import fixes, trustlist
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.estate import about, certificate_selector, get_certificate, group_certificates, server_name
from hybridtls.checks.needs import CA_STORE_LISTING, CERTIFICATES, STORE_LISTINGS
from hybridtls.checks.storeview import (
    ROOT_STORES,
    ChainName,
    ChainNames,
    Placement,
    RootProof,
    ServerStores,
    Where,
    chain_names,
    listing_name,
    servers_with_stores,
    store_cite,
    store_server_name,
    stores_of,
    subject_index,
)
from hybridtls.model import (
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    NotJudged,
    RootCAType,
    Severity,
    StoreCertificate,
)
from hybridtls.powershell import Script

_REFERENCES = (refs.SYSTEM_STORE_LOCATIONS, refs.ROOTCATYPE_PENDING, refs.CERT_REQUIREMENTS)
_ELEVATED = "in an elevated Windows PowerShell (not the Exchange Management Shell):"
# RootCAType values that say Windows found the chain's root on the server: HT-ROOT-001/002 judge those
_ROOT_FOUND = frozenset({RootCAType.THIRD_PARTY, RootCAType.REGISTRY, RootCAType.GROUP_POLICY, RootCAType.ENTERPRISE})


@dataclass(frozen=True, slots=True)
class _Judged:
    """One Exchange certificate on one server with store listings, and the CAs above it."""

    cert: ExchangeCertificate
    name: str  # the certificate group's name
    stores: ServerStores
    chain: ChainNames


def _judged(evidence: EvidenceSet) -> Iterator[_Judged]:
    servers = servers_with_stores(evidence)
    by_subject = subject_index(evidence.store_certificates)
    for group in group_certificates(evidence.certificates):
        if group.is_ca_issued is not True:
            continue
        for cert in group.observations:
            stores = stores_of(cert, servers)
            chain = chain_names(cert, by_subject) if stores else None
            if stores is not None and chain is not None:
                yield _Judged(cert, group.name, stores, chain)


def _severity(cert: ExchangeCertificate, high: Severity) -> Severity:
    return high if cert.has_smtp is not False else Severity.WARNING


def _thumbprint_of(copies: tuple[StoreCertificate, ...] | list[StoreCertificate]) -> str | None:
    return next((c.thumbprint for c in copies if c.thumbprint), None)


def _our_name(store: str | None) -> str:
    """The store as a name written here, never as the evidence spells it: one of the stores these checks read."""
    return "AuthRoot" if store == "AuthRoot" else "Root" if store == "Root" else "CA"


def _pick(script: Script, store: str, subject: str, thumbprint: str | None) -> str:
    """A PowerShell expression selecting the certificate in Cert:\\LocalMachine\\<store> (a name of ours)."""
    exact = script.thumbprint(thumbprint, "")
    if exact:
        return f"Get-Item Cert:\\LocalMachine\\{store}\\{exact}"
    return (f"Get-ChildItem Cert:\\LocalMachine\\{store} | Where-Object {{ $_.Subject -eq "
            f"{script.value(subject, '<Subject>', 'certificate subject')} }} | Select-Object -First 1")


def _elsewhere(root: ChainName, here: ServerStores, servers: dict[str, ServerStores]) -> tuple[str, StoreCertificate | None]:
    """Where else the root is in AuthRoot, in words, and one such copy (to export it from)."""
    found = [(stores.name, where) for stores in servers.values() if stores is not here
             for where in (stores.where(root),) if where and where.placement is Placement.AUTHROOT]
    if not found:
        return "", None
    names = ", ".join(sorted(name for name, _ in found)[:refs.MAX_NAMES_IN_MESSAGE])
    return f" It is in AuthRoot on {names}.", found[0][1].holding[0]


def _import_root_fix(server: str, root: ChainName, source: StoreCertificate | None, from_root_store: bool,
                     cert: ExchangeCertificate | None) -> str:
    """Copy the root into AuthRoot: from this server's Trusted Root store, or exported from a server that has it."""
    script = Script()
    thumbprint = _thumbprint_of([source] if source else []) or next(iter(sorted(root.thumbprints)), None)
    if from_root_store:
        script.comment(f"On {server}, {_ELEVATED}")
        script.add(f"$root = {_pick(script, 'Root', root.display, thumbprint)}",
                   "$root | Format-List Subject, Thumbprint, NotAfter   # check this is the public root you expect")
    else:
        where = store_server_name(source) if source else "a server that trusts it"
        script.comment(f"On {where}, export the root; or download it from the CA's repository:")
        script.add(f"Export-Certificate -Cert ({_pick(script, 'AuthRoot', root.display, thumbprint)}) "
                   "-FilePath 'C:\\certs\\root.cer'")
        script.comment(f"Then on {server}, {_ELEVATED}")
        script.add("$root = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2('C:\\certs\\root.cer')",
                   "$root | Format-List Subject, Thumbprint, NotAfter   # check this is the public root you expect")
    script.add(
        "$authRoot = New-Object System.Security.Cryptography.X509Certificates.X509Store('AuthRoot', 'LocalMachine')",
        "$authRoot.Open('ReadWrite'); $authRoot.Add($root); $authRoot.Close()",
        "# Or: Import-Certificate -FilePath 'C:\\certs\\root.cer' -CertStoreLocation Cert:\\LocalMachine\\AuthRoot",
        "Get-ChildItem Cert:\\LocalMachine\\AuthRoot | Where-Object { $_.Thumbprint -eq $root.Thumbprint } | "
        "Format-List Subject, Thumbprint",
    )
    if cert is not None:
        script.add("# Then in the Exchange Management Shell; RootCAType should read ThirdParty (no restart needed):",
                   f"{get_certificate(script, cert)} | Format-List Subject, Issuer, RootCAType, Status, Services")
    return str(script)


def proven_root_fix(cert: ExchangeCertificate, proof: RootProof) -> str | None:
    """For a RootCAType finding the listings prove: the root copied from Trusted Root into AuthRoot, by thumbprint."""
    if proof.root is None or proof.copy is None:
        return None
    return _import_root_fix(server_name(cert), proof.root, proof.copy, True, cert)


# ---------------------------------------------------------------- HT-STORE-001: the root is not a third-party root


def _not_third_party(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    servers = servers_with_stores(evidence)
    for judged in _judged(evidence):
        cert, root = judged.cert, judged.chain.root
        if cert.root_ca_type is not None:
            continue  # HT-ROOT-001/002 judge what RootCAType says, citing these listings
        where = judged.stores.where(root) if root else None
        if root is None or where is None:
            yield NotJudged(subject=f"{server_name(cert)}: {judged.name}",
                            reason="the listings do not show the root of its chain" if root is None else
                            f"its root {root.display} is in Trusted Root there, and no AuthRoot listing of the "
                            "server says whether it is a third-party root too", source=cert.source)
            continue
        if where.placement not in (Placement.ROOT_ONLY, Placement.GROUP_POLICY, Placement.ENTERPRISE):
            continue
        also, _ = _elsewhere(root, judged.stores, servers)
        yield NOT_THIRD_PARTY.finding(
            subject=f"{server_name(cert)}: {judged.name}", server=server_name(cert), about=about(cert),
            severity=_severity(cert, Severity.ERROR if where.placement is Placement.ROOT_ONLY else Severity.WARNING),
            message=(f"On {server_name(cert)} the root of {judged.name}, {root.display}, is {where.placement.value}, "
                     "not in 'Third-Party Root Certification Authorities' (AuthRoot): Exchange reports such a "
                     "certificate with RootCAType Registry (or GroupPolicy, Enterprise), and Exchange Online mail to "
                     "this server is deferred (message trace: Pending)." + also),
            evidence=[*(store_cite(c, f"{root.display} listed") for c in where.holding),
                      *(store_cite(c, f"{root.display} not listed") for c in where.lacking)],
            remediation=_import_root_fix(server_name(cert), root, where.holding[0] if where.holding else None,
                                         True, cert),
        )


NOT_THIRD_PARTY = Check(
    id="HT-STORE-001",
    title="Root of an Exchange certificate's chain is in Trusted Root, not in Third-Party Root CAs (store listings)",
    severity=Severity.ERROR,
    needs=needs(STORE_LISTINGS, CERTIFICATES,
                also="the AuthRoot listing of each server (its absence from it is the proof), and where Get-ExchangeCertificate "
                     "does not report RootCAType"),
    explanation=(
        "Windows keeps roots in several physical stores: 'Trusted Root Certification Authorities' (.Default, "
        "where a root imported by hand goes), 'Third-Party Root Certification Authorities' (AuthRoot, filled from "
        "the Microsoft Trusted Root Program), and Group Policy's and Active Directory's. Cert:\\LocalMachine\\Root "
        "lists them all, so a root there proves nothing; a root missing from the AuthRoot listing of a server "
        "proves it is not a third-party root there. Exchange then reports RootCAType Registry (GroupPolicy, "
        "Enterprise) for the certificate, the founding fault behind Office 365 to on-premises mail sitting in "
        "Pending. This check speaks where RootCAType was not saved; where it was, HT-ROOT-001/002 cite the listings."
    ),
    remediation="Add the root to Cert:\\LocalMachine\\AuthRoot on each named server (no restart), then confirm "
                "RootCAType ThirdParty.",
    command=fixes.AUTHROOT_IMPORT,
    references=_REFERENCES,
    run=_not_third_party,
)


# ---------------------------------------------------------------- HT-STORE-002: the root is nowhere


def _root_missing(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    servers = servers_with_stores(evidence)
    for judged in _judged(evidence):
        cert, root = judged.cert, judged.chain.root
        if root is None or cert.root_ca_type in _ROOT_FOUND:
            continue  # Windows found a root there: HT-ROOT-001/002 say which store
        where = judged.stores.where(root)
        if where is None or where.placement is not Placement.NOWHERE:
            continue
        also, copy = _elsewhere(root, judged.stores, servers)
        yield ROOT_MISSING.finding(
            subject=f"{server_name(cert)}: {judged.name}", server=server_name(cert), about=about(cert),
            severity=_severity(cert, Severity.ERROR),
            message=(f"On {server_name(cert)} the root of {judged.name}, {root.display}, is in no root store: the "
                     f"{listing_name(where.lacking[0])} does not hold it. Windows cannot build the certificate's "
                     "chain there (RootCAType None, Status Untrusted), and Exchange does not use it for TLS as a "
                     "trusted certificate." + also),
            evidence=[store_cite(c, f"{root.display} not listed") for c in where.lacking],
            remediation=_import_root_fix(server_name(cert), root, copy, False, cert),
        )


ROOT_MISSING = Check(
    id="HT-STORE-002",
    title="Root of an Exchange certificate's chain is in no root store of the server",
    severity=Severity.ERROR,
    needs=needs(STORE_LISTINGS, CERTIFICATES,
                also="a Cert:\\LocalMachine\\Root listing of the server (every root store), and the other servers' "
                     "listings to export the root from"),
    explanation=(
        "Cert:\\LocalMachine\\Root lists every root store of the server (its own, AuthRoot, Group Policy's, "
        "Active Directory's). When the root of an Exchange certificate's chain is not in it, Windows cannot build "
        "the chain to a trusted root on that server, typically after a move to a new CA on a server that does not "
        "update its roots from Windows Update. The certificate then reads Untrusted there."
    ),
    remediation="Import the root into Cert:\\LocalMachine\\AuthRoot on each named server, from a server that has it "
                "or from the CA.",
    command=fixes.AUTHROOT_IMPORT,
    references=_REFERENCES,
    run=_root_missing,
)


# ---------------------------------------------------------------- HT-STORE-003: an intermediate is not in CA


def _intermediate_missing(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    servers = servers_with_stores(evidence)
    for judged in _judged(evidence):
        cert, stores = judged.cert, judged.stores
        if stores.listing("CA") is None:
            continue
        for ca in judged.chain.intermediates:
            if stores.holding(ca.key, ca.thumbprints, frozenset({"CA"})):
                continue
            misplaced = stores.holding(ca.key, ca.thumbprints, ROOT_STORES | {"My"})
            copy = next((c for other in servers.values() if other is not stores
                         for c in other.holding(ca.key, ca.thumbprints, frozenset({"CA"}))), None)
            instead = (f" It is in {', '.join(sorted({listing_name(c) for c in misplaced}))} instead: an "
                       "intermediate in Trusted Root becomes a root of its own, and Exchange reports RootCAType "
                       "Registry." if misplaced else "")
            yield INTERMEDIATE_MISSING.finding(
                subject=f"{server_name(cert)}: {judged.name}: {ca.display}", server=server_name(cert),
                about=about(cert, name=ca.display),
                message=(f"On {server_name(cert)} the intermediate CA {ca.display}, which is in the chain of "
                         f"{judged.name}, is not in 'Intermediate Certification Authorities' (the CA store)." +
                         instead + " Windows then fetches it from the CA's web site when it can, and a server that "
                         "cannot presents the certificate without its chain: Exchange Online's validation of it "
                         "fails."),
                evidence=[store_cite(stores.listing("CA"), f"{ca.display} not listed"),  # type: ignore[arg-type]
                          *(store_cite(c, f"{ca.display} listed") for c in misplaced),
                          *((store_cite(copy, f"{ca.display} listed"),) if copy else ())],
                remediation=_intermediate_fix(server_name(cert), ca, copy, cert),
            )


def _intermediate_fix(server: str, ca: ChainName, copy: StoreCertificate | None, cert: ExchangeCertificate) -> str:
    script = Script()
    thumbprint = copy.thumbprint if copy else None
    if copy is not None:
        script.comment(f"On {store_server_name(copy)}, export the intermediate CA certificate:")
        script.add(f"Export-Certificate -Cert ({_pick(script, 'CA', ca.display, thumbprint)}) "
                   "-FilePath 'C:\\certs\\intermediate.cer'")
    else:
        script.comment("Download the intermediate CA certificate from your CA (its repository, or the certificate's")
        script.comment("Authority Information Access URL) to C:\\certs\\intermediate.cer, then")
    script.comment(f"on {server}, {_ELEVATED}")
    script.add("Import-Certificate -FilePath 'C:\\certs\\intermediate.cer' -CertStoreLocation Cert:\\LocalMachine\\CA",
               f"$leaf = {certificate_selector(script, cert)}",
               "$chain = New-Object System.Security.Cryptography.X509Certificates.X509Chain",
               "$chain.Build($leaf); $chain.ChainElements | ForEach-Object { $_.Certificate.Subject }")
    return str(script)


INTERMEDIATE_MISSING = Check(
    id="HT-STORE-003",
    title="Intermediate CA of an Exchange certificate is not in the server's CA store",
    severity=Severity.WARNING,
    needs=needs(STORE_LISTINGS, CA_STORE_LISTING, CERTIFICATES,
                also="the other servers' CA listings, to export the intermediate from"),
    explanation=(
        "A server presents its certificate with the chain Windows builds for it, and builds it from the "
        "intermediates in 'Intermediate Certification Authorities' (Cert:\\LocalMachine\\CA). An intermediate "
        "missing there is fetched from the CA's web site, which servers without internet access cannot reach: the "
        "certificate then goes out alone and Exchange Online's validation fails. An intermediate imported into "
        "Trusted Root instead becomes a root of its own."
    ),
    remediation="Import the intermediate CA certificate into Cert:\\LocalMachine\\CA on each named server.",
    command=fixes.CA_IMPORT,
    references=_REFERENCES,
    run=_intermediate_missing,
)


# ---------------------------------------------------------------- HT-STORE-004 and 005: expired, duplicated


def _chain_copies(evidence: EvidenceSet) -> Iterator[tuple[ServerStores, ChainName, list[StoreCertificate], str]]:
    """Each CA of an Exchange certificate's chain on each server, once, with its listed copies in the stores that
    matter for it (CA for an intermediate, the root stores for a root)."""
    seen: set[tuple[str, str]] = set()
    for judged in _judged(evidence):
        cas = [(ca, frozenset({"CA"})) for ca in judged.chain.intermediates]
        if judged.chain.root:
            cas.append((judged.chain.root, ROOT_STORES))
        for ca, stores in cas:
            if (judged.stores.name, ca.key) in seen:
                continue
            seen.add((judged.stores.name, ca.key))
            copies = judged.stores.holding(ca.key, ca.thumbprints, stores)
            if copies:
                yield judged.stores, ca, copies, judged.name


def _expired(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for stores, ca, copies, name in _chain_copies(evidence):
        expired = [c for c in copies if c.not_after is not None and c.not_after < ctx.now]
        if not expired:
            continue
        valid = [c for c in copies if c.not_after is not None and c.not_after >= ctx.now]
        words = (f" A valid copy is there too ({valid[0].thumbprint or 'no thumbprint listed'}, until "
                 f"{valid[0].not_after:%Y-%m-%d}); Windows may still build the chain through the expired one."
                 if valid else " No valid copy is listed there: the chain Windows builds ends in an expired CA.")
        context = ctx.valid_then(*(c.not_after for c in expired if c.not_after is not None))
        words += f" It is {context}: context, not a cause." if context else ""
        script = Script()
        script.comment(f"On {stores.name}, {_ELEVATED}")
        for copy in expired[:refs.MAX_NAMES_IN_MESSAGE]:
            store = _our_name(copy.store)
            script.add(f"{_pick(script, store, ca.display, copy.thumbprint)} | "
                       "Format-List Subject, Thumbprint, NotAfter   # check it is the expired copy")
            if valid:
                script.add(f"{_pick(script, store, ca.display, copy.thumbprint)} | Remove-Item")
        if not valid:
            script.comment("Import the CA's current certificate (from the CA's repository) before removing the old one.")
        yield EXPIRED.finding(
            subject=f"{stores.name}: {ca.display}", server=stores.name,
            about=FindingSubject(server=stores.name, certificate=expired[0].thumbprint, name=ca.display),
            severity=Severity.WARNING if valid else Severity.ERROR, context=context,
            message=(f"On {stores.name} the CA {ca.display}, in the chain of {name}, is listed expired "
                     f"(NotAfter {expired[0].not_after:%Y-%m-%d} in its {listing_name(expired[0])})." + words),
            evidence=[*(store_cite(c, f"{ca.display} NotAfter {c.not_after:%Y-%m-%d}") for c in expired),
                      *(store_cite(c, f"{ca.display} NotAfter {c.not_after:%Y-%m-%d}") for c in valid[:1])],
            remediation=str(script),
        )


EXPIRED = Check(
    id="HT-STORE-004",
    title="Expired root or intermediate in the chain of an Exchange certificate",
    severity=Severity.ERROR,
    needs=needs(STORE_LISTINGS, CERTIFICATES, also="NotAfter in the listings (Format-List, certutil -store)"),
    explanation=(
        "A root or intermediate that has expired still sits in the store until someone removes it. When no valid "
        "copy is there, every chain through it fails; when a renewed copy with the same name is there too, Windows "
        "chooses between them and may build the chain through the expired one (as with the cross-signed roots "
        "that expired in 2020 and 2021)."
    ),
    remediation="Remove the expired copy where a valid one is present; otherwise import the CA's current certificate.",
    command='Get-ChildItem Cert:\\LocalMachine\\CA, Cert:\\LocalMachine\\Root | Where-Object NotAfter -lt (Get-Date) | Format-List Subject, Thumbprint, NotAfter, PSParentPath',
    references=_REFERENCES,
    run=_expired,
)


def _duplicated(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for stores, ca, copies, name in _chain_copies(evidence):
        distinct = sorted({c.thumbprint for c in copies if c.thumbprint})
        if len(distinct) < 2:
            continue
        script = Script()
        script.comment(f"On {stores.name}: list the copies, then keep the one your CA issues from today")
        for store in sorted({_our_name(c.store) for c in copies}):
            script.add(f"Get-ChildItem Cert:\\LocalMachine\\{store} | Where-Object {{ $_.Subject -eq "
                       f"{script.value(ca.display, '<Subject>', 'certificate subject')} }} | "
                       "Format-List Subject, Thumbprint, NotBefore, NotAfter, Issuer")
        yield DUPLICATED.finding(
            subject=f"{stores.name}: {ca.display}", server=stores.name,
            about=FindingSubject(server=stores.name, name=ca.display),
            message=(f"On {stores.name} {len(distinct)} different certificates named {ca.display} (the CA in the "
                     f"chain of {name}) are listed: {', '.join(distinct[:refs.MAX_NAMES_IN_MESSAGE])}. Windows builds "
                     "the chain through one of them by key identifier and validity: an old or cross-signed copy can "
                     "lead the chain to another root than the one you expect."),
            evidence=[store_cite(c, f"{ca.display} {c.thumbprint}") for c in copies],
            remediation=str(script),
        )


DUPLICATED = Check(
    id="HT-STORE-005",
    title="Several certificates with the same name in the chain of an Exchange certificate",
    severity=Severity.INFO,
    needs=needs(STORE_LISTINGS, CERTIFICATES, also="thumbprints in the listings"),
    explanation=(
        "A CA renews its certificate under the same name, and cross-signs it under another root; the stores can "
        "then hold several certificates named alike. Windows picks one when it builds the chain, so the chain (and "
        "the root Exchange reports) can differ from server to server. Worth knowing when RootCAType or the chain "
        "reads differently than expected."
    ),
    remediation="Keep the copy your CA issues today; remove expired or superseded copies.",
    command='Get-ChildItem Cert:\\LocalMachine\\CA, Cert:\\LocalMachine\\Root | Sort-Object Subject | Format-List Subject, Thumbprint, NotAfter, PSParentPath',
    references=_REFERENCES,
    run=_duplicated,
)


# ---------------------------------------------------------------- HT-STORE-006: roots that differ across servers


def _uneven(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    servers = servers_with_stores(evidence)
    roots: dict[str, tuple[ChainName, str]] = {}
    for judged in _judged(evidence):
        if judged.chain.root:
            roots.setdefault(judged.chain.root.key, (judged.chain.root, judged.name))
    for root, name in roots.values():
        placed: dict[Placement, list[tuple[ServerStores, Where]]] = {}
        for stores in servers.values():
            where = stores.where(root)
            if where is not None:
                placed.setdefault(where.placement, []).append((stores, where))
        if Placement.AUTHROOT not in placed or len(placed) < 2:
            continue
        lacking = [(stores, where) for placement, found in placed.items() if placement is not Placement.AUTHROOT
                   for stores, where in found]
        having = placed[Placement.AUTHROOT]
        words = "; ".join(f"{placement.value} on {', '.join(sorted(s.name for s, _ in found))}"
                          for placement, found in sorted(placed.items(), key=lambda item: item[0].value))
        script = Script()
        copy = having[0][1].holding[0]
        script.comment(f"On {having[0][0].name}, export the root:")
        script.add(f"Export-Certificate -Cert ({_pick(script, 'AuthRoot', root.display, copy.thumbprint)}) "
                   "-FilePath 'C:\\certs\\root.cer'")
        script.comment(f"Then on each of {', '.join(sorted(s.name for s, _ in lacking))}, {_ELEVATED}")
        script.add("Import-Certificate -FilePath 'C:\\certs\\root.cer' -CertStoreLocation Cert:\\LocalMachine\\AuthRoot")
        yield UNEVEN.finding(
            subject=root.display, about=FindingSubject(name=root.display),
            message=(f"The root {root.display} (of {name}) is not in the same place on every server: {words}. "
                     "Servers that lack it in AuthRoot judge the same certificate differently (RootCAType Registry "
                     "or None there), and mail fails only through them."),
            evidence=[*(store_cite(w.holding[0], f"{root.display} listed") for _, w in having),
                      *(store_cite((w.holding or w.lacking)[0], f"{root.display} {'listed' if w.holding else 'not listed'}")
                        for _, w in lacking)],
            remediation=str(script),
        )


UNEVEN = Check(
    id="HT-STORE-006",
    title="Root of an Exchange certificate's chain is in AuthRoot on some servers and not on others",
    severity=Severity.WARNING,
    needs=needs(STORE_LISTINGS, CERTIFICATES, also="store listings from two or more servers"),
    explanation=(
        "Every server that sends or receives hybrid mail must trust the certificate the same way. When the root is "
        "a third-party root on some servers and missing, or only in Trusted Root, on others, mail flows through "
        "some servers and fails through the rest, which is hard to see from one server. The servers compared here "
        "include those whose Get-ExchangeCertificate output was not saved."
    ),
    remediation="Export the root from a server that has it in AuthRoot and import it into AuthRoot on the others.",
    command=fixes.AUTHROOT_IMPORT,
    references=_REFERENCES,
    run=_uneven,
)


FAMILY = Family(name="stores", commands=frozenset({Command.CHECK}),
                checks=(NOT_THIRD_PARTY, ROOT_MISSING, INTERMEDIATE_MISSING, EXPIRED, DUPLICATED, UNEVEN,
                        *trustlist.CHECKS))
CHECKS = FAMILY.checks
