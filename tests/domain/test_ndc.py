"""NDC forms: every printed, typed and scanned shape, and nothing but NdcError on garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medapp.formulary.ndc import (
    NdcError,
    NdcQuery,
    PackageNdc,
    gs1_check_digit,
    interpret_ndc,
    ndc10_from_barcode,
    package_from_ndc10,
    parse_package_ndc,
    parse_product_ndc,
    product_digit_forms,
)

EPIPEN = PackageNdc("49502", "500", "01")  # 5-3-2, the EpiPen 2-Pak carton
EPIPEN_UPC = "3" + "4950250001" + gs1_check_digit("34950250001")


def test_package_forms() -> None:
    assert EPIPEN.dashed == "49502-500-01"
    assert EPIPEN.ndc10 == "4950250001"
    assert EPIPEN.ndc11 == "49502050001"
    assert EPIPEN.format == "5-3-2"
    assert EPIPEN.product_ndc.dashed == "49502-500"
    assert EPIPEN.product_ndc.padded9 == "495020500"
    assert EPIPEN.upc_a == EPIPEN_UPC


@pytest.mark.parametrize(
    ("ndc10", "fmt", "dashed", "ndc11"),
    [
        ("0002120010", "4-4-2", "0002-1200-10", "00002120010"),
        ("4950250001", "5-3-2", "49502-500-01", "49502050001"),
        ("4979900011", "5-4-1", "49799-0001-1", "49799000101"),
    ],
)
def test_ten_digit_by_format_pads_the_short_segment(
    ndc10: str, fmt: str, dashed: str, ndc11: str
) -> None:
    package = package_from_ndc10(ndc10, fmt)
    assert package.dashed == dashed
    assert package.ndc11 == ndc11
    assert parse_package_ndc(dashed) == package


def test_gs1_check_digit_known_values() -> None:
    assert gs1_check_digit("03600029145") == "2"  # the textbook UPC-A 036000291452
    assert gs1_check_digit("0" * 11) == "0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # product NDC, dashed (all three formats) and bare
        ("0002-1200", NdcQuery("product", product_digits=("000021200", "00021200"))),
        ("49502-500", NdcQuery("product", product_digits=("495020500", "49502500"))),
        ("49799-0001", NdcQuery("product", product_digits=("497990001", "49799001"))),
        ("49502500", NdcQuery("product", product_digits=("49502500",))),
        ("495020500", NdcQuery("product", product_digits=("495020500", "49502500"))),
        # package NDC: dashed 10-digit, dashed 11-digit, bare 10 and 11 digits
        (
            "49502-500-01",
            NdcQuery(
                "package",
                ndc11=("49502050001",),
                ndc10=("4950250001",),
                product_digits=("495020500", "49502500"),
            ),
        ),
        (
            "49502-0500-01",
            NdcQuery(
                "package-11", ndc11=("49502050001",), product_digits=("495020500", "49502500")
            ),
        ),
        (
            "4950250001",
            NdcQuery("package-10", ndc10=("4950250001",), product_digits=("49502500", "495025000")),
        ),
        (
            "49502050001",
            NdcQuery(
                "package-11", ndc11=("49502050001",), product_digits=("495020500", "49502500")
            ),
        ),
        # what is printed on labels and what scanners add around it
        (" NDC 49502-500-01\n", interpret_ndc("49502-500-01")),
        ("NDC: 49502 500 01", interpret_ndc("49502-500-01")),
        # scanned barcodes: UPC-A, EAN-13, GTIN-14 (all carry NDC10 4950250001)
        (
            EPIPEN_UPC,
            NdcQuery("barcode", ndc10=("4950250001",), product_digits=("49502500", "495025000")),
        ),
        ("0" + EPIPEN_UPC, interpret_ndc(EPIPEN_UPC)),
        ("00" + EPIPEN_UPC, interpret_ndc(EPIPEN_UPC)),
        (
            "10" + EPIPEN_UPC[:-1] + gs1_check_digit("10" + EPIPEN_UPC[:-1]),
            interpret_ndc(EPIPEN_UPC),
        ),
        # typing in progress: a prefix of the product NDC
        ("4950", NdcQuery("partial", digits_prefix="4950")),
        ("49502-5", NdcQuery("partial", digits_prefix="495025")),
        # not NDC-shaped: searched as text
        ("adderall", None),
        ("123", None),
        ("", None),
        ("   ", None),
        ("5 mg", None),
        ("٣٤٩٥٠٢٥٠٠٠١", None),  # Arabic-Indic digits are not NDC digits
    ],
)
def test_interpret_ndc(text: str, expected: NdcQuery | None) -> None:
    assert interpret_ndc(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (EPIPEN_UPC[:-1] + str((int(EPIPEN_UPC[-1]) + 1) % 10), "check digit"),
        ("0" + EPIPEN_UPC[:-1] + str((int(EPIPEN_UPC[-1]) + 3) % 10), "check digit"),
        ("036000291452", "starts with 3"),  # a real UPC-A, but not a drug's
        ("1" + EPIPEN_UPC[:-1] + gs1_check_digit("1" + EPIPEN_UPC[:-1]), "EAN-13"),
        ("12345-12345", "segments 5-5"),
        ("1234-567-8", "segments 4-3-1"),
        ("1-2-3-45678", "two or three segments"),
        ("123456789012345", "too long"),
    ],
)
def test_impossible_ndcs_say_why(text: str, reason: str) -> None:
    with pytest.raises(NdcError, match=reason):
        interpret_ndc(text)


@pytest.mark.parametrize("text", ["0002-1200", "49502-500", "49799-0001"])
def test_parse_product_ndc_accepts_the_three_formats(text: str) -> None:
    assert parse_product_ndc(text).dashed == text


@pytest.mark.parametrize(
    "text", ["0002-12000", "002-1200", "00021200", "0002_1200", "abcd-1234", "49502-500-01", ""]
)
def test_parse_product_ndc_rejects_others(text: str) -> None:
    with pytest.raises(NdcError):
        parse_product_ndc(text)


@pytest.mark.parametrize(
    "text", ["49502-0500-01", "4950250001", "49502-500-1", "49502-500-001", "a-b-c", ""]
)
def test_parse_package_ndc_rejects_others(text: str) -> None:
    with pytest.raises(NdcError):
        parse_package_ndc(text)


@pytest.mark.parametrize(
    ("ndc10", "fmt"), [("495025000", "5-3-2"), ("4950250001", "5-5-0"), ("49502500AB", "5-3-2")]
)
def test_package_from_ndc10_rejects_bad_input(ndc10: str, fmt: str) -> None:
    with pytest.raises(NdcError):
        package_from_ndc10(ndc10, fmt)


def test_equal_products_share_their_padded_form() -> None:
    # 0002-1200 (4-4) and 00002-1200 (5-4) are the same product in the 11-digit system.
    assert parse_product_ndc("0002-1200").padded9 == parse_product_ndc("00002-1200").padded9
    assert set(product_digit_forms("000021200")) == {"000021200", "00021200"}
    assert set(product_digit_forms("495020500")) == {"495020500", "49502500"}
    # 49799-0001 (5-4) and 49799-001 (5-3) are one 11-digit product: both forms are tried.
    assert product_digit_forms("497990001") == ("497990001", "49799001")
    assert product_digit_forms("497991001") == ("497991001",)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_interpret_ndc_raises_nothing_but_ndc_error(text: str) -> None:
    try:
        interpret_ndc(text)
    except NdcError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789- \t\nNDCndc:#٣", max_size=30))
def test_interpret_ndc_on_ndc_like_text_raises_nothing_but_ndc_error(text: str) -> None:
    try:
        result = interpret_ndc(text)
    except NdcError:
        return
    if result is not None:
        keys = (*result.ndc11, *result.ndc10, *result.product_digits, result.digits_prefix or "")
        assert all(k.isascii() and (k.isdigit() or k == "") for k in keys)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=8))
def test_parsers_raise_nothing_but_ndc_error(text: str, fmt: str) -> None:
    for parse in (parse_product_ndc, parse_package_ndc, ndc10_from_barcode):
        try:
            parse(text)
        except NdcError:
            pass
    try:
        package_from_ndc10(text, fmt)
    except NdcError:
        pass


@given(
    st.sampled_from(["4-4-2", "5-3-2", "5-4-1"]),
    st.text(alphabet="0123456789", min_size=10, max_size=10),
)
def test_every_package_round_trips_through_its_barcode(fmt: str, ndc10: str) -> None:
    package = package_from_ndc10(ndc10, fmt)
    assert ndc10_from_barcode(package.upc_a) == ndc10
    assert interpret_ndc(package.upc_a) == NdcQuery(
        "barcode", ndc10=(ndc10,), product_digits=(ndc10[:8], ndc10[:9])
    )
    dashed = interpret_ndc(package.dashed)
    assert dashed is not None and dashed.ndc11 == (package.ndc11,)
