"""What Windows said about trust on a server: chains ``certutil -verify`` could not build or trust (HT-STORE-007), an
AuthRoot trust list that is no longer refreshed (HT-STORE-008), and a server that manages its roots by hand and lacks
the root Exchange Online's certificates chain to from March 2026, DigiCert Global Root G2 (HT-STORE-009).

Part of the ``stores`` family (``stores.FAMILY`` lists these checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks.base import Check, CheckContext, needs
from hybridtls.checks.needs import CHAIN_VERIFICATIONS, ROOT_UPDATE_STATES, STORE_LISTINGS
from hybridtls.checks.storeview import listing_name, store_cite, store_server_key, store_server_name
from hybridtls.model import (
    ChainVerification,
    Citation,
    EvidenceSet,
    Finding,
    FindingSubject,
    RootUpdateState,
    Severity,
    StoreCertificate,
    StoreView,
    name_key,
)
from hybridtls.model import verify as bits
from hybridtls.powershell import Script

_ELEVATED = "in an elevated Windows PowerShell:"
# what each error bit means, in the order a message names them; the first group are errors, the rest warnings
_SERIOUS = {
    bits.UNTRUSTED_ROOT: "the chain ends in a root this server does not trust",
    bits.PARTIAL_CHAIN: "the chain could not be built up to a root (an intermediate is missing and could not be "
                        "downloaded)",
    bits.NOT_TIME_VALID: "a certificate of the chain is expired or not yet valid",
    bits.REVOKED: "a certificate of the chain is revoked",
    "CERT_TRUST_IS_NOT_SIGNATURE_VALID": "a signature in the chain does not verify",
    "CERT_TRUST_IS_EXPLICIT_DISTRUST": "a certificate of the chain is explicitly distrusted (Disallowed store)",
    "CERT_TRUST_IS_NOT_VALID_FOR_USAGE": "the chain is not valid for the usage asked",
}
_REVOCATION = {
    bits.REVOCATION_UNKNOWN: "the revocation status could not be checked",
    bits.OFFLINE_REVOCATION: "the CRL or OCSP server could not be reached",
}

def _server(record: ChainVerification | RootUpdateState) -> tuple[str, str]:
    """The server's key and name (the file's when the record names none)."""
    if record.server is not None:
        return record.server.key, record.server.name
    return "file:" + record.source.path, f"the server of {record.source.path}"


def _day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


# ---------------------------------------------------------------- HT-STORE-007: certutil -verify failed


def _element_name(verification: ChainVerification, index: int) -> str:
    element = verification.elements[index]
    return element.subject or f"certificate {index} of the chain"


def _chain_fix(server: str, verification: ChainVerification, errors: tuple[str, ...]) -> str:
    script = Script()
    script.comment(f"On {server}, {_ELEVATED}")
    last = verification.elements[-1]
    if bits.PARTIAL_CHAIN in errors:
        script.comment(f"Download the CA certificate {last.issuer or 'that issued the last certificate'} from its CA "
                       "(the AIA URL in the certificate), then:")
        script.add("Import-Certificate -FilePath '<path to the intermediate .crt>' "
                   "-CertStoreLocation Cert:\\LocalMachine\\CA")
        script.add("Get-ChildItem Cert:\\LocalMachine\\CA | Where-Object { $_.Subject -eq "
                   f"{script.value(last.issuer, '<Issuer>', 'issuer')} }} | Format-List Subject, Thumbprint, NotAfter")
    if bits.UNTRUSTED_ROOT in errors:
        script.comment("Check that this is the public root you expect, then make it a third-party root:")
        script.add("$root = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2("
                   "'<path to the root .cer>')",
                   f"if ($root.Thumbprint -ne '{script.thumbprint(last.thumbprint)}') {{ throw 'not the root certutil "
                   "named' }",
                   "Import-Certificate -FilePath '<path to the root .cer>' -CertStoreLocation Cert:\\LocalMachine\\AuthRoot")
    if bits.NOT_TIME_VALID in errors or bits.REVOKED in errors:
        script.comment("Replace the expired or revoked certificate: renew it with its CA (for an intermediate, install "
                       "the CA's current one), then list what is out of date:")
        script.add("Get-ChildItem Cert:\\LocalMachine\\CA, Cert:\\LocalMachine\\Root | Where-Object { $_.NotAfter "
                   "-lt (Get-Date) } | Format-List Subject, Thumbprint, NotAfter")
    if any(bit in errors for bit in _REVOCATION):
        script.comment("Allow this server outbound HTTP (port 80) to the CRL and OCSP URLs certutil printed (through "
                       "the proxy: netsh winhttp set proxy <proxy:port>), then empty the URL cache:")
        script.add("certutil -urlcache * delete")
    script.comment("Then verify again: certutil should end with '-verify command completed successfully.'")
    script.add("certutil -verify -urlfetch '<path to the certificate .cer>'")
    return str(script)


def _failed_chains(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    seen: set[tuple[str, str]] = set()
    for verification in evidence.chain_verifications:
        errors = verification.errors
        found = [bit for bit in (*_SERIOUS, *_REVOCATION) if bit in errors]
        leaf = verification.leaf
        if not found or leaf is None:
            continue
        key, server = _server(verification)
        subject_key = leaf.thumbprint or name_key(leaf.subject or "")
        if (key, subject_key) in seen:
            continue  # the same certificate verified twice on one server: the first dump speaks
        seen.add((key, subject_key))
        words = [f"{_SERIOUS.get(bit) or _REVOCATION[bit]} ({bit})" for bit in found]
        culprits = sorted({_element_name(verification, i) for i, e in enumerate(verification.elements)
                           if any(bit in e.errors for bit in found)})
        verdict = (f"certutil says: {verification.error_code} {verification.error_name or ''}".rstrip() + ". "
                   if verification.failed and verification.error_code else "")
        leaf_name = leaf.subject or "the certificate"
        cited = [Citation(source=verification.source, text=f"{server}: certutil -verify chain of {leaf_name}")]
        if verification.verdict:
            cited.append(Citation(source=verification.cite("verdict"), text=f"{server}: {verification.verdict}"))
        yield FAILED_CHAIN.finding(
            subject=f"{server}: {leaf_name}", server=server,
            about=FindingSubject(server=server if verification.server else None, certificate=leaf.thumbprint,
                                 name=None if leaf.thumbprint else name_key(leaf_name)),
            severity=Severity.ERROR if any(bit in _SERIOUS for bit in found) else Severity.WARNING,
            message=(f"Windows on {server} does not trust the chain of {leaf_name}: " + "; ".join(words) + ". "
                     + verdict + ("Certificates with those errors: " + "; ".join(culprits) + ". " if culprits else "")
                     + "Exchange builds chains the same way there: a certificate of its own then reads Untrusted "
                       "(or RevocationCheckFailure) in Get-ExchangeCertificate, and a peer's (Exchange Online's) "
                       "fails TLS validation; hybrid mail that relies on it fails."),
            evidence=cited,
            remediation=_chain_fix(server, verification, tuple(found)),
        )


FAILED_CHAIN = Check(
    id="HT-STORE-007",
    title="certutil -verify could not build or trust a certificate's chain on the server",
    severity=Severity.ERROR,
    needs=needs(CHAIN_VERIFICATIONS),
    explanation=(
        "certutil -verify -urlfetch builds the certificate's chain with Windows' chain engine, which Exchange's TLS "
        "uses too, fetching missing "
        "intermediates and revocation data from the URLs in the certificates, and prints the CERT_TRUST_* bits of "
        "each element. An untrusted root, a partial chain (an intermediate neither in the CA store nor downloadable), "
        "an expired or revoked certificate make the chain fail there; revocation that cannot be checked (no route to "
        "the CRL or OCSP server) makes Exchange report RevocationCheckFailure."
    ),
    remediation="Install the missing root (in AuthRoot) or intermediate (in CA), renew what expired, or open the way "
                "to the CRL and OCSP URLs; then run certutil -verify -urlfetch again.",
    command="certutil -verify -urlfetch '<Certificate.cer>'",
    references=(refs.CERT_TRUST_STATUS, refs.SYSTEM_STORE_LOCATIONS, refs.CERT_REQUIREMENTS),
    run=_failed_chains,
)


# ---------------------------------------------------------------- HT-STORE-008: the AuthRoot list is not refreshed


@dataclass(slots=True)
class _RootUpdate:
    """What the evidence says of one server's root updates, from all its files."""

    name: str
    named: bool  # the server is known (not just a file)
    disabled: RootUpdateState | None = None  # the record saying DisableRootAutoUpdate = 1
    last_sync: RootUpdateState | None = None  # the record with the latest LastSyncTime
    records: list[RootUpdateState] = field(default_factory=list)

    def stale(self, now: datetime) -> bool:
        sync = self.last_sync.last_sync if self.last_sync else None
        return sync is not None and (now - sync).days > refs.AUTHROOT_STALE_DAYS

    def by_hand(self, now: datetime) -> bool:
        return self.disabled is not None or self.stale(now)

    def reasons(self, now: datetime) -> list[str]:
        said = []
        if self.disabled is not None:
            said.append("automatic root update is turned off (DisableRootAutoUpdate = 1)")
        if self.stale(now) and self.last_sync and self.last_sync.last_sync:
            sync = self.last_sync.last_sync
            said.append(f"its AuthRoot trust list was last synced on {_day(sync)}, {(now - sync).days} days before "
                        f"{_day(now)}")
        return said

    def citations(self, now: datetime) -> list[Citation]:
        cited = []
        if self.disabled is not None:
            cited.append(Citation(source=self.disabled.cite("auto_update_disabled"),
                                  text=f"{self.name}: DisableRootAutoUpdate 1"))
        if self.stale(now) and self.last_sync and self.last_sync.last_sync:
            cited.append(Citation(source=self.last_sync.cite("last_sync"),
                                  text=f"{self.name}: LastSyncTime {_day(self.last_sync.last_sync)}"))
        return cited


def _root_updates(evidence: EvidenceSet) -> dict[str, _RootUpdate]:
    servers: dict[str, _RootUpdate] = {}
    for state in evidence.root_update_states:
        key, name = _server(state)
        server = servers.setdefault(key, _RootUpdate(name=name, named=state.server is not None))
        server.records.append(state)
        if state.auto_update_disabled is True and server.disabled is None:
            server.disabled = state
        if state.last_sync is not None and (server.last_sync is None or server.last_sync.last_sync is None
                                            or state.last_sync > server.last_sync.last_sync):
            server.last_sync = state
    return servers


def _update_fix(server: _RootUpdate) -> str:
    script = Script()
    script.comment(f"On {server.name}, {_ELEVATED}")
    if server.disabled is not None:
        script.comment("Where a Group Policy sets it ('Turn off Automatic Root Certificates Update'), change the "
                       "policy instead; otherwise:")
        script.add("Remove-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot' "
                   "-Name DisableRootAutoUpdate")
    script.comment("Let Windows refresh the list (needs HTTP to ctldl.windowsupdate.com); the time should be today:")
    script.add('certutil -verifyctl AuthRoot | findstr /i "LastSyncTime"')
    script.comment("Without a route to Windows Update: on a machine that has one, run certutil -generateSSTFromWU "
                   "roots.sst, copy the file over, then:")
    script.add("Import-Certificate -FilePath '<path to roots.sst>' -CertStoreLocation Cert:\\LocalMachine\\AuthRoot")
    return str(script)


def _not_refreshed(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for server in _root_updates(evidence).values():
        reasons = server.reasons(ctx.now)
        if not reasons:
            continue
        yield NOT_REFRESHED.finding(
            subject=server.name, server=server.name,
            about=FindingSubject(server=server.name if server.named else None,
                                 name=None if server.named else server.records[0].source.path),
            message=(f"On {server.name} " + " and ".join(reasons) + ". The server then keeps only the roots it "
                     "has: roots that public CAs and Microsoft move to (Exchange Online's DigiCert Global Root G2 "
                     "from March 2026) must be installed by hand, and a certificate chaining to a missing one is "
                     "untrusted there."),
            evidence=server.citations(ctx.now),
            remediation=_update_fix(server),
        )


NOT_REFRESHED = Check(
    id="HT-STORE-008",
    title="The server's AuthRoot trust list is not refreshed: automatic root update off, or last synced long ago",
    severity=Severity.WARNING,
    needs=needs(ROOT_UPDATE_STATES),
    explanation=(
        "Windows fills 'Third-Party Root Certification Authorities' (AuthRoot) from the Microsoft Trusted Root "
        "Program's certificate trust list, fetched from Windows Update. With DisableRootAutoUpdate = 1 (Group "
        "Policy 'Turn off Automatic Root Certificates Update'), or without a route to Windows Update, the list stops "
        f"changing: a LastSyncTime more than {refs.AUTHROOT_STALE_DAYS} days old says so. New roots then arrive only "
        "by hand. Microsoft's HealthChecker warns of the same setting."
    ),
    remediation="Turn automatic root update back on (or fix the route to Windows Update); where policy forbids it, "
                "import the roots from an SST file made with certutil -generateSSTFromWU.",
    command='reg delete HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot /v DisableRootAutoUpdate /f',
    references=(refs.HEALTHCHECKER_ROOT_UPDATE, refs.EXO_G2_ANNOUNCEMENT, refs.SYSTEM_STORE_LOCATIONS),
    run=_not_refreshed,
)


# ---------------------------------------------------------------- HT-STORE-009: not ready for DigiCert Global Root G2


def _is_g2(cert: StoreCertificate) -> bool:
    if cert.thumbprint:
        return cert.thumbprint.upper() == refs.DIGICERT_G2_SHA1
    return bool(cert.subject) and name_key(cert.subject or "") == name_key(refs.DIGICERT_G2_NAME)


def _g2_fix(server: str) -> str:
    script = Script()
    script.comment(f"On {server}, {_ELEVATED}")
    script.comment(f"Download DigiCert Global Root G2 from DigiCert ({refs.DIGICERT_ROOTS}):")
    script.add("$file = '<path to DigiCertGlobalRootG2.crt>'",
               f"Invoke-WebRequest -Uri '{refs.DIGICERT_G2_DOWNLOAD}' -OutFile $file",
               "$root = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2($file)",
               "$sha256 = -join ([System.Security.Cryptography.SHA256]::Create().ComputeHash($root.RawData) | "
               "ForEach-Object { $_.ToString('X2') })",
               f"if ($root.Thumbprint -ne '{refs.DIGICERT_G2_SHA1}' -or $sha256 -ne '{refs.DIGICERT_G2_SHA256}') "
               "{ throw 'this is not DigiCert Global Root G2' }",
               "Import-Certificate -FilePath $file -CertStoreLocation Cert:\\LocalMachine\\AuthRoot",
               f"Get-Item Cert:\\LocalMachine\\AuthRoot\\{refs.DIGICERT_G2_SHA1} | Format-List Subject, Thumbprint, "
               "NotAfter")
    script.comment(f"And the intermediates Exchange Online's certificates use ({refs.AZURE_CA_DETAILS}):")
    script.add("Import-Certificate -FilePath '<path to each intermediate .crt>' -CertStoreLocation Cert:\\LocalMachine\\CA")
    return str(script)


def _root_listings(evidence: EvidenceSet) -> dict[str, tuple[StoreCertificate | None, StoreCertificate | None]]:
    """Per server: a copy of G2 in any of its root listings, and a certificate of its logical Root listing."""
    found: dict[str, tuple[StoreCertificate | None, StoreCertificate | None]] = {}
    for cert in evidence.store_certificates:
        if cert.store not in ("Root", "AuthRoot"):
            continue
        key = store_server_key(cert)
        holding, listing = found.get(key, (None, None))
        if holding is None and _is_g2(cert):
            holding = cert
        if listing is None and cert.store == "Root" and cert.view is StoreView.LOGICAL:
            listing = cert
        found[key] = (holding, listing)
    return found


def _trusting_g2(evidence: EvidenceSet) -> set[str]:
    """Servers where certutil -verify built a chain up to DigiCert Global Root G2 and trusted it."""
    return {_server(v)[0] for v in evidence.chain_verifications
            if v.root is not None and (v.root.thumbprint or "").upper() == refs.DIGICERT_G2_SHA1
            and bits.UNTRUSTED_ROOT not in v.errors}


def _not_ready(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    listings = _root_listings(evidence)
    trusting = _trusting_g2(evidence)
    effective = datetime.fromisoformat(refs.EXO_G2_EFFECTIVE)
    for key, server in _root_updates(evidence).items():
        holding, listing = listings.get(key, (None, None))
        if holding is not None or listing is None or key in trusting or not server.by_hand(ctx.now):
            continue  # it has the root, or no logical Root listing proves it lacks it, or Windows updates its roots
        name = store_server_name(listing)
        when = "since" if ctx.now >= effective else "from"
        yield NOT_READY.finding(
            subject=name, server=name, about=FindingSubject(server=name if listing.server else None,
                                                            name=None if listing.server else listing.source.path),
            severity=Severity.ERROR if ctx.now >= effective else Severity.WARNING,
            message=(f"{name} manages its roots by hand: " + "; ".join(server.reasons(ctx.now)) + f". Its "
                     f"{listing_name(listing)} does not hold DigiCert Global Root G2 ({refs.DIGICERT_G2_SHA1}). "
                     f"Exchange Online's TLS certificates chain to that root {when} {refs.EXO_G2_EFFECTIVE}: this "
                     "server cannot validate them, so mail it sends to Exchange Online over a connector that checks "
                     "the certificate (the hybrid send connector: RequireTLS, TlsAuthLevel DomainValidation, TlsDomain "
                     "mail.protection.outlook.com) stays queued, and TLS with Exchange Online's certificate fails."),
            evidence=[*server.citations(ctx.now), store_cite(listing, "DigiCert Global Root G2 not listed")],
            remediation=_g2_fix(name),
        )


NOT_READY = Check(
    id="HT-STORE-009",
    title="Server that manages its roots by hand lacks DigiCert Global Root G2, the root of Exchange Online's "
          "certificates",
    severity=Severity.ERROR,
    needs=needs(ROOT_UPDATE_STATES, STORE_LISTINGS,
                also="a Cert:\\LocalMachine\\Root listing of the server (every root store)"),
    explanation=(
        "Microsoft moved Exchange Online's TLS certificates to DigiCert Global Root G2 (SHA-1 "
        f"{refs.DIGICERT_G2_SHA1}), effective {refs.EXO_G2_EFFECTIVE}. Windows servers with automatic root update "
        "get it from Windows Update; a server with it turned off, or whose AuthRoot list is stale, must have it "
        "installed by hand. Without it the server cannot validate Exchange Online's certificate: outbound hybrid "
        "mail over the send connector with TlsAuthLevel DomainValidation stays queued."
    ),
    remediation="Import DigiCert Global Root G2 (checked by thumbprint and SHA-256) into Cert:\\LocalMachine\\AuthRoot, "
                "and Exchange Online's intermediates into CA; better, turn automatic root update back on.",
    command="Import-Certificate -FilePath '<DigiCertGlobalRootG2.cer>' -CertStoreLocation Cert:\\LocalMachine\\AuthRoot",
    references=(refs.EXO_G2_ANNOUNCEMENT, refs.DIGICERT_ROOTS, refs.AZURE_CA_DETAILS, refs.HEALTHCHECKER_ROOT_UPDATE),
    run=_not_ready,
)

CHECKS = (FAILED_CHAIN, NOT_REFRESHED, NOT_READY)
