"""How many certificates `cert` loads: strictly (cryptography), with the lenient fallback, and what OpenSSL parses.

Two corpora, no network:
- the certificate files of the ``cryptography-vectors`` package's ``x509`` directory (real-world certificates
  collected by the pyca project, many of them odd on purpose; CRLs, CSRs and OCSP files left out, as in
  tests/pki/test_vectors.py);
- a generated corpus: a valid certificate re-encoded with every combination of up to three quirks real CAs have
  issued and Windows loads (tests/quirks.py), each signed again by its issuer.

For each file: whether cryptography loads every certificate in it and reads the fields Exchange shows (strict),
whether hybridtls reads it (and how many of those needed the lenient reading), and whether ``openssl x509 -noout``
parses it (the peer; one process per file, so its time is not compared).

Figures (2026-11-30, cryptography 50.0.2, OpenSSL 3.0.19):
- cryptography-vectors, 450 files: cryptography (strict) 422 (93.8%); hybridtls 447 (99.3%), of which 23 read
  leniently; openssl 446 (99.1%). hybridtls refuses three: a bare TBSCertificate (not a certificate: 447 of 449
  certificates, 99.6%), a certificate with version 7, and one whose UTCTime has a four-digit year (OpenSSL
  parses both; whether Windows does is not known).
- generated, 225 quirk combinations (one to three quirks): cryptography 3 (1.3%); hybridtls 225 (100%), of which
  218 read leniently; openssl 175 (77.8%).

Usage: python bench/bench_cert_corpus.py [--list] [--no-openssl]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from cryptography import x509  # noqa: E402

from hybridtls.errors import EvidenceError  # noqa: E402
from hybridtls.evidence.certificates import read_certificate_file  # noqa: E402


def vector_files() -> list[Path]:
    import cryptography_vectors

    root = Path(cryptography_vectors.__file__).parent / "x509"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in {".pem", ".der", ".crt", ".cer"}
                  and "crl" not in p.name.lower() and "csr" not in p.name.lower() and "ocsp" not in str(p).lower()
                  and "requests" not in p.relative_to(root).parts and "_key" not in p.name)


def generated(directory: Path) -> Iterator[Path]:
    from quirks import QUIRKS, quirky

    for size in (1, 2, 3):
        for combination in itertools.combinations(QUIRKS, size):
            if len({q.field for q in combination}) < size:
                continue  # two quirks of one field do not combine
            path = directory / ("+".join(q.name for q in combination) + ".cer")
            path.write_bytes(quirky(*combination))
            yield path


def strict_loads(data: bytes) -> bool:
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
        for cert in certs:
            _ = (cert.subject.rdns, cert.issuer.rdns, cert.not_valid_before_utc, cert.not_valid_after_utc,
                 cert.serial_number, list(cert.extensions))
    except Exception:  # noqa: BLE001 - any refusal counts as not loaded
        return False
    return True


def openssl_parses(path: Path, data: bytes) -> bool | None:
    if shutil.which("openssl") is None:
        return None
    inform = "PEM" if b"-----BEGIN" in data else "DER"
    result = subprocess.run(["openssl", "x509", "-noout", "-inform", inform, "-in", str(path)],
                            capture_output=True, check=False)
    return result.returncode == 0


def measure(name: str, files: list[Path], *, peer: bool, listing: bool) -> None:
    strict = ours = lenient = openssl = 0
    refused: list[str] = []
    for path in files:
        data = path.read_bytes()
        strict += strict_loads(data)
        try:
            certs = read_certificate_file(data, path.name)
        except EvidenceError as exc:
            refused.append(f"{path.name}: {exc.message}")
        else:
            ours += 1
            lenient += any(c.lenient[:1] and c.lenient[0].startswith("read leniently") for c in certs)
        if peer:
            openssl += bool(openssl_parses(path, data))
    total = len(files)

    def share(count: int) -> str:
        return f"{count} ({100 * count / total:.1f}%)"

    print(f"{name}: {total} files")
    print(f"  cryptography (strict)   {share(strict)}")
    print(f"  hybridtls cert          {share(ours)}, of which {lenient} read leniently")
    if peer:
        print(f"  openssl x509 -noout     {share(openssl)}")
    if listing:
        for line in refused:
            print(f"    refused  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--list", action="store_true", help="list the files hybridtls refuses, with the reason")
    parser.add_argument("--no-openssl", action="store_true", help="skip the OpenSSL peer")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # cryptography warns about the odd encodings these corpora exist to show
    measure("cryptography-vectors x509", vector_files(), peer=not args.no_openssl, listing=args.list)
    with tempfile.TemporaryDirectory() as directory:
        measure("generated quirk combinations", list(generated(Path(directory))), peer=not args.no_openssl,
                listing=args.list)


if __name__ == "__main__":
    main()
