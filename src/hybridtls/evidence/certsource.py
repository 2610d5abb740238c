"""Certificate files as evidence: read them, build each leaf's chain against the trust anchors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certificates import PasswordSource, read_certificate_file
from hybridtls.model import CertificateFile, ChainAnalysis, InputProblem, Source
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
    anchors.extend(TrustAnchor(cert, f"--trust {cert.source.path}") for cert in extra)
    return anchors


def build_chains(subjects: Sequence[CertificateFile], supplied: Sequence[CertificateFile],
                 anchors: Sequence[TrustAnchor]) -> tuple[ChainAnalysis, ...]:
    return tuple(analyse_chain(leaf, supplied, anchors) for leaf in leaves(list(subjects)))
