"""The DANE `3 1 1` value (SHA-256 of the SubjectPublicKeyInfo) of real-world certificates: hybridtls beside OpenSSL.

Corpus: the first certificate of each file in the ``cryptography-vectors`` package's ``x509`` directory (as
bench_cert_corpus.py picks them), no network. For each: hybridtls' value (``tlsa_for``, the SPKI exactly as the
certificate carries it), the peer's (``openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256sum``, the
command docs tell admins to run; one process pair per file, so its time is not compared) and, as a floor for the
time, cryptography re-encoding the parsed key (``public_key().public_bytes(DER, SubjectPublicKeyInfo)``).

Figures (2026-11-30, cryptography 50.0.2, OpenSSL 3.0.19), 450 files: hybridtls computes 447; OpenSSL 441, and
agrees with hybridtls on all 441. OpenSSL gives no value for 6 that hybridtls reads (two DSA keys that inherit
their parameters, three odd names, one odd encoding). cryptography's re-encoded key differs on 6, all of which OpenSSL
agrees with hybridtls on: five RSA-PSS keys (re-encoded as plain RSA) and an EC key with explicit curve parameters.
A TLSA record hashes the SubjectPublicKeyInfo as the certificate carries it, as hybridtls and OpenSSL do. Time:
hybridtls 709 ms for the 450 files, reading each file and its facts included; the floor (parse and re-encode only)
24 ms.

Figures are printed, never asserted. Usage: python bench/bench_dane.py [--no-openssl] [--list]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "bench")]

from bench_cert_corpus import vector_files  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from hybridtls.errors import EvidenceError  # noqa: E402
from hybridtls.evidence.certificates import read_certificate_file  # noqa: E402
from hybridtls.pki.dane import tlsa_for  # noqa: E402


def ours(data: bytes, name: str) -> tuple[str | None, bytes | None]:
    try:
        certs = read_certificate_file(data, name)
    except EvidenceError:
        return None, None
    if not certs:
        return None, None
    try:
        return tlsa_for(certs[0]).data_hex, certs[0].der
    except ValueError:
        return None, certs[0].der


def reencoded(der: bytes) -> str | None:
    try:
        key = x509.load_der_x509_certificate(der).public_key()
        return hashlib.sha256(key.public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    except Exception:  # noqa: BLE001 - any refusal counts as no value
        return None


def openssl(der: bytes) -> str | None:
    pem = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-pubkey"], input=der, capture_output=True)
    if pem.returncode:
        return None
    out = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem.stdout, capture_output=True)
    return hashlib.sha256(out.stdout).hexdigest() if out.returncode == 0 and out.stdout else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-openssl", action="store_true")
    parser.add_argument("--list", action="store_true", help="name each file where the values differ")
    args = parser.parse_args()
    use_openssl = not args.no_openssl and shutil.which("openssl") is not None
    files = vector_files()
    counts = {"files": 0, "ours": 0, "openssl": 0, "agree": 0, "differ": 0, "only_ours": 0, "only_openssl": 0,
              "reencoded": 0, "reencoded_differs": 0}
    our_time = floor_time = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in files:
            counts["files"] += 1
            started = time.perf_counter()
            value, der = ours(path.read_bytes(), path.name)
            our_time += time.perf_counter() - started
            counts["ours"] += value is not None
            if der is None:
                continue
            started = time.perf_counter()
            floor = reencoded(der)
            floor_time += time.perf_counter() - started
            counts["reencoded"] += floor is not None
            counts["reencoded_differs"] += floor is not None and value is not None and floor != value
            if not use_openssl:
                continue
            peer = openssl(der)
            counts["openssl"] += peer is not None
            if value and peer:
                counts["agree" if value == peer else "differ"] += 1
                if value != peer and args.list:
                    print(f"  differ: {path.name}")
            elif value:
                counts["only_ours"] += 1
            elif peer:
                counts["only_openssl"] += 1
    print(f"cryptography-vectors x509: {counts['files']} files")
    print(f"  3 1 1 computed by hybridtls: {counts['ours']} ({our_time * 1000:.0f} ms, reading the file included)")
    print(f"  cryptography re-encoding the parsed key (floor): {counts['reencoded']} "
          f"({floor_time * 1000:.0f} ms, parsing included); differs from hybridtls on {counts['reencoded_differs']}")
    if use_openssl:
        print(f"  openssl x509 -pubkey | openssl pkey -pubin -outform DER: {counts['openssl']}")
        print(f"  hybridtls = openssl on {counts['agree']}, differ on {counts['differ']}; only hybridtls "
              f"{counts['only_ours']}, only openssl {counts['only_openssl']}")


if __name__ == "__main__":
    main()
