"""Certificate files as evidence: read them, build each leaf's chain against the trust anchors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certificates import PasswordSource, read_certificate_file
from hybridtls.model import CertificateFile, ChainAnalysis, ChainEnd, InputProblem, Notice, Source
from hybridtls.pki.chain import TrustAnchor, analyse_chain, leaves


def read_certificate_paths(paths: Sequence[str], passwords: PasswordSource | None,
                           problems: list[InputProblem]) -> list[CertificateFile]:
    found: list[CertificateFile] = []
    for given in paths:
        try:
            data = Path(given).read_bytes()
            found.extend(read_certificate_file(data, given, passwords))
        except OSError as exc:
            problems.append(InputProblem(source=Source(path=given), message=f"cannot read the file ({exc.strerror or exc})"))
        except EvidenceError as exc:
            problems.append(InputProblem(source=Source(path=exc.path, line=exc.line), message=exc.message, hint=exc.hint))
    return found


def trust_anchors(extra: Sequence[CertificateFile], *, include_mozilla: bool = True) -> list[TrustAnchor]:
    from hybridtls.pki.trust import mozilla_roots

    anchors = mozilla_roots() if include_mozilla else []
    anchors.extend(TrustAnchor.of(cert, f"--trust {cert.source.path}") for cert in extra)
    return anchors


def build_chains(subjects: Sequence[CertificateFile], supplied: Sequence[CertificateFile],
                 anchors: Sequence[TrustAnchor]) -> tuple[ChainAnalysis, ...]:
    return tuple(analyse_chain(leaf, supplied, anchors) for leaf in leaves(list(subjects)))


def build_chains_fetching(subjects: Sequence[CertificateFile], supplied: Sequence[CertificateFile],
                          anchors: Sequence[TrustAnchor], notices: list[Notice],
                          rounds: int = 4) -> tuple[ChainAnalysis, ...]:
    """Like build_chains, but download each missing issuer from its caIssuers URL (--fetch-aia)."""
    from dataclasses import replace

    from hybridtls.pki.aia import fetch_issuer

    pool = list(supplied)
    fetched: set[str] = set()
    tried: set[str] = set()
    chains = build_chains(subjects, pool, anchors)
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
        chains = build_chains(subjects, pool, anchors)
    return tuple(replace(c, fetched=tuple(t.thumbprint for t in c.path if t.thumbprint in fetched)) for c in chains)
