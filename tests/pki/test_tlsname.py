from __future__ import annotations

import pytest

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
