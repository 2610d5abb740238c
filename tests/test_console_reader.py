from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from hybridtls.evidence.console import read_console_text
from hybridtls.evidence.raw import RawRecord


def fields(record: RawRecord) -> dict[str, str]:
    return {f.label: f.value.text for f in record.fields}


def test_founding_case_record_with_wrapped_collection() -> None:
    text = (
        "\n\nAccessRules        : {System.Security.AccessControl.CryptoKeyAccessRule,\n"
        "                        System.Security.AccessControl.CryptoKeyAccessRule}\n"
        "CertificateDomains : {owa.domain.com, autodiscover.domain.com}\n"
        "HasPrivateKey      : True\n"
        "RootCAType         : Registry\n"
        "Status             : Valid\n\n"
    )
    [record] = read_console_text(text, "f.txt")
    assert record.source.line == 3
    access = record.get("AccessRules")
    assert access is not None and access.value.items == ("System.Security.AccessControl.CryptoKeyAccessRule",) * 2
    domains = record.get("CertificateDomains")
    assert domains is not None and domains.value.items == ("owa.domain.com", "autodiscover.domain.com")
    assert domains.line == 5
    root = record.get("rootcatype")
    assert root is not None and root.value.text == "Registry" and root.line == 7


def test_labels_with_spaces_and_empty_values() -> None:
    text = "Message Trace ID  : d33e3c2f\nFrom IP           : \nTo IP             :\nStatus            : Pending\n"
    [record] = read_console_text(text, "t.txt")
    assert record.get("MessageTraceId") is not None
    assert record.get("FromIP").value.empty  # type: ignore[union-attr]
    assert record.get("ToIP").value.empty  # type: ignore[union-attr]
    assert record.get("Status").value.text == "Pending"  # type: ignore[union-attr]


def test_records_split_by_blank_lines_and_by_repeating_first_property() -> None:
    text = "Thumbprint : AAAA\nServices : SMTP\n\n\nThumbprint : BBBB\nServices : IIS\nThumbprint : CCCC\nServices : None\n"
    records = read_console_text(text, "x.txt")
    assert [fields(r)["Thumbprint"] for r in records] == ["AAAA", "BBBB", "CCCC"]
    assert [r.source.line for r in records] == [1, 5, 7]


def test_forum_paste_with_blank_line_between_every_property() -> None:
    lines = ["Thumbprint : AAAA", "Services : SMTP", "RootCAType : Registry",
             "Thumbprint : BBBB", "Services : IIS", "RootCAType : ThirdParty"]
    records = read_console_text("\n\n".join(lines) + "\n", "paste.txt")
    assert [fields(r) for r in records] == [
        {"Thumbprint": "AAAA", "Services": "SMTP", "RootCAType": "Registry"},
        {"Thumbprint": "BBBB", "Services": "IIS", "RootCAType": "ThirdParty"},
    ]


def test_quote_prefixes_indent_nbsp_prompts_and_prose() -> None:
    text = (
        "> I ran this on the CAS:\n"
        ">\n"
        "> [PS] C:\\Scripts>Get-ExchangeCertificate -Server excas1 -Thumbprint xxxxx | fl\n"
        ">\n"
        ">     RootCAType\u00a0\u00a0: Registry   \n"
        ">     Status     : Valid\n"
        ">\n"
        "> PS C:\\> Get-ExchangeCertificate -Server 'EXMBX1.contoso.com' | fl\n"
        ">     RootCAType : ThirdParty\n"
    )
    records = read_console_text(text, "q.txt")
    assert [fields(r) for r in records] == [{"RootCAType": "Registry", "Status": "Valid"}, {"RootCAType": "ThirdParty"}]
    assert records[0].command and "-Server excas1" in records[0].command
    assert records[1].command and "EXMBX1.contoso.com" in records[1].command
    assert records[0].source.line == 5


def test_truncated_values_are_marked() -> None:
    text = "CertificateDomains : {a.contoso.com, b.contoso.com, c.contoso.com, d.contoso.com...}\nSubject : CN=mail.con...\n"
    [record] = read_console_text(text, "t.txt")
    domains = record.get("CertificateDomains")
    assert domains is not None and domains.value.truncated
    assert domains.value.items == ("a.contoso.com", "b.contoso.com", "c.contoso.com", "d.contoso.com")
    assert record.get("Subject").value.truncated  # type: ignore[union-attr]


def test_value_cut_at_console_width_rejoins_without_a_space() -> None:
    value = "<I>CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US<S>CN=mail.contoso.com"
    width = 80
    label = "TlsCertificateName : "
    first = (label + value)[:width]
    rest = value[width - len(label):]
    text = first + "\n" + " " * len(label) + rest + "\nEnabled            : True\n"
    [record] = read_console_text(text, "c.txt")
    assert fields(record)["TlsCertificateName"] == value


def test_default_table_of_get_exchange_certificate() -> None:
    text = textwrap.dedent("""\
        [PS] C:\\>Get-ExchangeCertificate -Server EX01

        Thumbprint                                Services   Subject
        ----------                                --------   -------
        B8FFF722AAF9E4CFA055581061F6020C70BAC8AF  ...WS..    CN=outlook.exchange.info, OU=EXCH, O=EXCHANGE LAB, S=SEOUL, C=KR
        C07B19E88671134C4C4A38D72F0A587974CE137D  IP.WS..    CN=EX01
        4CE834243B37D27F29379287D3DED6294935EB2D  ....S..    CN=Microsoft Exchange Server Auth Certificate
        EB68147037AA94700E07832B99A71CC6F6FAAD5A  .......    CN=WMSvc-EX01
        """)
    records = read_console_text(text, "table.txt")
    assert [fields(r)["Services"] for r in records] == ["...WS..", "IP.WS..", "....S..", "......."]
    assert fields(records[0])["Subject"] == "CN=outlook.exchange.info, OU=EXCH, O=EXCHANGE LAB, S=SEOUL, C=KR"
    assert [r.source.line for r in records] == [5, 6, 7, 8]
    assert all(r.command and "-Server EX01" in r.command for r in records)


_REAL_LABELS = ["AccessRules", "CertificateDomains", "HasPrivateKey", "IsSelfSigned", "Issuer", "NotAfter",
                "NotBefore", "PublicKeySize", "RootCAType", "SerialNumber", "Services", "Status", "Subject",
                "Thumbprint", "Message Trace ID", "Sender Address", "Recipient Address", "From IP", "TlsCertificateName"]
_LABELS = st.lists(st.sampled_from(_REAL_LABELS), min_size=2, max_size=8, unique=True)
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=,.<>:;'\"/\\-_@#()é€ü漢"
_WORD = st.text(alphabet=_ALPHABET, min_size=1, max_size=30).filter(lambda w: not w.endswith("...") and "{" not in w)
_VALUE = st.lists(_WORD, min_size=0, max_size=12).map(" ".join)


def _render(records: list[list[tuple[str, str]]], width: int) -> str:
    """Format-List as PowerShell prints it at a given console width, word-wrapping long values."""
    out = ["", ""]
    for record in records:
        column = max(len(label) for label, _ in record)
        for label, value in record:
            prefix = label.ljust(column) + " : "
            lines = textwrap.wrap(value, width=width - len(prefix), break_long_words=True, break_on_hyphens=False) or [""]
            out.append((prefix + lines[0]).rstrip())
            out.extend(" " * len(prefix) + line for line in lines[1:])
        out.extend(["", ""])
    return "\n".join(out)


@given(st.lists(st.tuples(_LABELS, st.lists(_VALUE, min_size=8, max_size=8)), min_size=1, max_size=4),
       st.integers(min_value=40, max_value=220))
def test_format_list_round_trip(shapes: list[tuple[list[str], list[str]]], width: int) -> None:
    records = [list(zip(labels, values)) for labels, values in shapes]
    parsed = read_console_text(_render(records, width), "gen.txt")
    assert len(parsed) == len(records)
    for original, record in zip(records, parsed):
        assert [f.label for f in record.fields] == [label for label, _ in original]
        column = max(len(label) for label, _ in original) + 3
        for (_, value), raw in zip(original, record.fields):
            # A word-wrapped line that happens to fill the width is indistinguishable from a hard cut;
            # whitespace may differ there, never the characters.
            assert raw.value.text.replace(" ", "") == value.replace(" ", "")
            if column + len(value) <= width:  # printed on one line: exact
                assert raw.value.text == value


@given(st.text(max_size=3000))
def test_any_text_reads_without_crashing(text: str) -> None:
    for record in read_console_text(text, "any.txt"):
        assert record.fields
        assert all(f.line >= 1 for f in record.fields)


def _join_by_hand(pieces: list[tuple[str, int]], width: int) -> str:
    """The rule as first written, one concatenation at a time (quadratic): the oracle for the linear _join."""
    text, previous_length = pieces[0]
    for piece, length in pieces[1:]:
        cut_mid_word = previous_length >= width >= 60 and not text.endswith(",")
        text = text + piece if cut_mid_word or not text else text + " " + piece
        previous_length = length
    return text


@given(pieces=st.lists(st.tuples(st.sampled_from(["", "a", "b,", "x y", ",", " ", "word" * 20]),
                                 st.sampled_from([0, 10, 59, 60, 80, 120])), min_size=1, max_size=8),
       width=st.sampled_from([0, 59, 60, 80, 120]))
def test_wrapped_values_rejoin_as_the_rule_says(pieces: list[tuple[str, int]], width: int) -> None:
    from hybridtls.evidence.console import _join

    assert _join(pieces, width) == _join_by_hand(pieces, width)
