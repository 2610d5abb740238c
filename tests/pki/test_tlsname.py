from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.pki.tlsname import Difference, TlsNameError, compare, parse_tls_certificate_name

ISSUER = "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US"
SUBJECT = "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US"


@pytest.mark.parametrize(
    "text",
    [
        f"<I>{ISSUER}<S>{SUBJECT}",
        f"<i>{ISSUER}<s>{SUBJECT}",
        f'"<I>{ISSUER}<S>{SUBJECT}"',
        f"'<I>{ISSUER}<S>{SUBJECT}'",
        f"  <I>{ISSUER}\\<S>{SUBJECT}  ",
        f"<I>{ISSUER}<\\S>{SUBJECT}",
    ],
)
def test_parse_the_forms_found_in_real_configurations(text: str) -> None:
    parsed = parse_tls_certificate_name(text)
    assert (parsed.issuer, parsed.subject) == (ISSUER, SUBJECT)
    assert str(parsed) == f"<I>{ISSUER}<S>{SUBJECT}"


@pytest.mark.parametrize("text", ["CN=mail.contoso.com", f"<S>{SUBJECT}<I>{ISSUER}", "<I><S>CN=x", ""])
def test_malformed(text: str) -> None:
    with pytest.raises(TlsNameError):
        parse_tls_certificate_name(text)


def test_compare_says_what_differs() -> None:
    configured = parse_tls_certificate_name(f"<I>{ISSUER}<S>{SUBJECT}")
    assert compare(configured, configured).difference is Difference.SAME
    spaced = parse_tls_certificate_name(f"<I>{ISSUER.lower()}<S>{SUBJECT.replace(', ', ',')}")
    assert compare(configured, spaced).difference is Difference.CASE_OR_SPACING
    new_vendor = parse_tls_certificate_name(f"<I>CN=Sectigo RSA Domain Validation Secure Server CA, O=Sectigo Limited, "
                                            f"C=GB<S>{SUBJECT}")
    result = compare(configured, new_vendor)
    assert result.difference is Difference.ISSUER and "new CA vendor (sectigo limited instead of digicert inc)" in result.explanation
    same_vendor = parse_tls_certificate_name(f"<I>CN=DigiCert TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US<S>{SUBJECT}")
    assert "another issuing CA of the same vendor" in compare(configured, same_vendor).explanation
    state_as_st = parse_tls_certificate_name(f"<I>{ISSUER}<S>{SUBJECT.replace('S=Washington', 'ST=Washington')}")
    assert compare(configured, state_as_st).difference is Difference.SUBJECT


def test_powershell_literal_never_expands_or_breaks() -> None:
    name = parse_tls_certificate_name("<I>CN=It's $env:USERNAME CA<S>CN=a\u2019b")
    assert name.powershell == "'<I>CN=It''s $env:USERNAME CA<S>CN=a\u2019\u2019b'"


_AS_FIRST_WRITTEN = re.compile(r"^\s*[\"'\u2018\u2019\u201c\u201d]?\s*<\\?I\\?>(?P<issuer>.*?)\\?<\\?S\\?>(?P<subject>.*?)\s*"
                               r"[\"'\u2018\u2019\u201c\u201d]?\s*$", re.I | re.S)


@given(st.lists(st.sampled_from(["<I>", "<S>", "<i>", "\\<S>", "<\\S>", "a", " ", '"', "'", "\u2019", "\n",
                                 "CN=x, O=y"]), max_size=10))
def test_parsing_agrees_with_the_pattern_as_first_written(parts: list[str]) -> None:
    text = "".join(parts)
    match = _AS_FIRST_WRITTEN.match(text)
    try:
        parsed = parse_tls_certificate_name(text)
    except TlsNameError:
        assert match is None or not match["issuer"].strip() or not match["subject"].strip()
    else:
        assert match is not None and (parsed.issuer, parsed.subject) == (match["issuer"].strip(), match["subject"].strip())


def test_a_long_run_of_spaces_in_the_subject_parses_in_linear_time() -> None:
    import subprocess
    import sys

    # in a process of its own: a regular expression that backtracks holds the interpreter lock, so a thread could
    # not even time out (the pattern as first written needed minutes; found by bench/fuzz.py)
    code = ("from hybridtls.pki.tlsname import parse_tls_certificate_name as p; "
            "print(p('<I>CN=Issuer<S>CN=mail.contoso.com, L' + ' ' * 60000 + 'x' + ' ' * 10).subject[-2:])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout == " x\n", run.stderr
