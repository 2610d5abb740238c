"""Certificate files named on the command line (subjects, --intermediates, --trust), and chains completed from
caIssuers URLs on request."""

from __future__ import annotations

from collections.abc import Sequence

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certificates import PasswordSource, read_certificate_file
from hybridtls.evidence.files import DEFAULT_MAX_FILE_BYTES, read_limited
from hybridtls.model import CertificateFile, ChainAnalysis, ChainEnd, InputProblem, Notice, Source
from hybridtls.pki.trust import TrustStore


def read_certificate_paths(paths: Sequence[str], passwords: PasswordSource | None, problems: list[InputProblem],
                           *, max_file_size: int = DEFAULT_MAX_FILE_BYTES) -> list[CertificateFile]:
    found: list[CertificateFile] = []
    for given in paths:
        try:
            found.extend(read_certificate_file(read_limited(given, given, max_file_size), given, passwords))
        except EvidenceError as exc:
            problems.append(InputProblem(source=Source(path=exc.path, line=exc.line), message=exc.message, hint=exc.hint))
    return found


def build_chains_fetching(subjects: Sequence[CertificateFile], store: TrustStore, notices: list[Notice],
                          rounds: int = 4) -> tuple[ChainAnalysis, ...]:
    """Chains of certificate files, downloading each missing issuer from its caIssuers URL (--fetch-aia)."""
    from dataclasses import replace

    from hybridtls.evidence.aia import fetch_issuer

    pool: list[CertificateFile] = []
    fetched: set[str] = set()
    tried: set[str] = set()
    chains = store.chains_of_files(subjects)
    for _ in range(rounds):
        urls = [u for c in chains if c.end is ChainEnd.MISSING_ISSUER for u in c.missing_issuer_urls
                if u.startswith(("http://", "https://")) and u not in tried]
        if not urls:
            break
        for url in dict.fromkeys(urls):
            tried.add(url)
            try:
                downloaded = fetch_issuer(url)
            except EvidenceError as exc:
                notices.append(Notice(source=Source(path=exc.path), message=exc.message, hint=exc.hint))
                continue
            fetched.update(c.thumbprint for c in downloaded)
            pool.extend(downloaded)
        chains = store.chains_of_files(subjects, pool)
    return tuple(replace(c, fetched=tuple(t.thumbprint for t in c.path if t.thumbprint in fetched)) for c in chains)
