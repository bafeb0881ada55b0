"""National Drug Codes as they are printed, typed and scanned (pure: no database, no I/O).

An NDC names a labeler, a product and a package, in three digit segments:

* **product NDC** – labeler-product, 4-4, 5-3 or 5-4 digits (``0002-1200``, ``49502-500``);
* **package NDC** – 10 digits as 4-4-2, 5-3-2 or 5-4-1 (``49502-500-01``);
* **11-digit NDC** (billing / HIPAA form) – always 5-4-2: the short segment of the 10-digit code
  padded with a leading zero (``49502-0500-01`` = ``49502050001``). It is unique; a bare
  10-digit string is not (``1234567890`` may be 1234-5678-90 or 12345-678-90), so it is
  resolved against the packages table, never guessed;
* **UPC-A barcode** (what a scanner types): ``3`` + the 10-digit package NDC + a GS1 check
  digit, 12 digits. EAN-13 (a leading ``0``) and GTIN-14 (an indicator digit, ``0``, then the
  UPC-A body and its own check digit) carry the same NDC and are accepted too.

:func:`interpret_ndc` turns any of these into the keys to look up (:class:`NdcQuery`); it raises
:class:`NdcError` — and nothing else — for text that looks like an NDC but cannot be one (a bad
check digit, segments of the wrong length) and returns ``None`` for text that is not NDC-shaped
at all (a drug name). :func:`parse_product_ndc` / :func:`parse_package_ndc` validate the dashed
forms found in the FDA files and typed into the "Add medication" dialog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRODUCT_FORMATS: tuple[tuple[int, int], ...] = ((4, 4), (5, 3), (5, 4))
PACKAGE_FORMATS: tuple[tuple[int, int, int], ...] = ((4, 4, 2), (5, 3, 2), (5, 4, 1))

_SEGMENTED = re.compile(r"[0-9]+(?:[\s-]+[0-9]+)*")
_SEPARATORS = re.compile(r"[\s-]+")
_NDC_LABEL = re.compile(r"^\s*ndc\s*[:#]?\s*", re.IGNORECASE)
MIN_PARTIAL_DIGITS = 4


class NdcError(ValueError):
    """Text that looks like an NDC but is not a valid one; the message says why."""


def _fmt(lengths: tuple[int, ...]) -> str:
    return "-".join(str(n) for n in lengths)


@dataclass(frozen=True)
class ProductNdc:
    """A product NDC (labeler + product segments), in the format its labeler uses."""

    labeler: str
    product: str

    @property
    def dashed(self) -> str:
        return f"{self.labeler}-{self.product}"

    @property
    def digits(self) -> str:
        return self.labeler + self.product

    @property
    def format(self) -> str:
        return _fmt((len(self.labeler), len(self.product)))

    @property
    def padded9(self) -> str:
        """The 5-4 form (the product part of the 11-digit NDC): equal for equal products."""
        return self.labeler.zfill(5) + self.product.zfill(4)


@dataclass(frozen=True)
class PackageNdc:
    """A package NDC in its 10-digit form (4-4-2, 5-3-2 or 5-4-1)."""

    labeler: str
    product: str
    package: str

    @property
    def dashed(self) -> str:
        return f"{self.labeler}-{self.product}-{self.package}"

    @property
    def ndc10(self) -> str:
        return self.labeler + self.product + self.package

    @property
    def ndc11(self) -> str:
        return self.labeler.zfill(5) + self.product.zfill(4) + self.package.zfill(2)

    @property
    def format(self) -> str:
        return _fmt((len(self.labeler), len(self.product), len(self.package)))

    @property
    def product_ndc(self) -> ProductNdc:
        return ProductNdc(self.labeler, self.product)

    @property
    def upc_a(self) -> str:
        """The 12-digit UPC-A barcode printed on the package (``3`` + NDC10 + check digit)."""
        body = "3" + self.ndc10
        return body + gs1_check_digit(body)


@dataclass(frozen=True)
class NdcQuery:
    """What a typed or scanned NDC can mean, as keys to look up (any of them may match).

    ``ndc11`` / ``ndc10`` are package keys (``medication_packages``), ``product_digits`` are
    dash-stripped product NDCs as stored (``medications.ndc_digits``) — several when the
    segment split is unknown — and ``digits_prefix`` is set for a partly typed number.
    """

    form: str  # product | package | package-10 | package-11 | barcode | partial
    ndc11: tuple[str, ...] = ()
    ndc10: tuple[str, ...] = ()
    product_digits: tuple[str, ...] = ()
    digits_prefix: str | None = None


def gs1_check_digit(body: str) -> str:
    """GS1 mod-10 check digit (UPC-A, EAN-13, GTIN-14) for the digits before it."""
    if not body or not _all_ascii_digits(body):
        raise NdcError("a barcode check digit needs digits only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def _all_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def product_digit_forms(padded9: str) -> tuple[str, ...]:
    """Every dash-stripped product NDC whose 5-4 form is ``padded9`` (4-4, 5-3 and 5-4)."""
    forms = [padded9]
    if padded9[0] == "0":
        forms.append(padded9[1:])  # 4-4 labeler padded
    if padded9[5] == "0":
        forms.append(padded9[:5] + padded9[6:])  # 5-3 product padded
    return tuple(dict.fromkeys(forms))


def parse_product_ndc(text: str) -> ProductNdc:
    """A dashed product NDC (4-4, 5-3 or 5-4), e.g. ``0002-1200``."""
    parts = text.strip().split("-")
    if len(parts) != 2 or not all(_all_ascii_digits(p) for p in parts):
        raise NdcError(f"'{_show(text)}' is not a product NDC (digits in two dashed segments)")
    lengths = (len(parts[0]), len(parts[1]))
    if lengths not in PRODUCT_FORMATS:
        raise NdcError(
            f"'{_show(text)}' has segments {_fmt(lengths)}; a product NDC is 4-4, 5-3 or 5-4"
        )
    return ProductNdc(parts[0], parts[1])


def parse_package_ndc(text: str) -> PackageNdc:
    """A dashed 10-digit package NDC (4-4-2, 5-3-2 or 5-4-1), e.g. ``49502-500-01``."""
    parts = text.strip().split("-")
    if len(parts) != 3 or not all(_all_ascii_digits(p) for p in parts):
        raise NdcError(f"'{_show(text)}' is not a package NDC (digits in three dashed segments)")
    lengths = (len(parts[0]), len(parts[1]), len(parts[2]))
    if lengths not in PACKAGE_FORMATS:
        raise NdcError(
            f"'{_show(text)}' has segments {_fmt(lengths)}; a package NDC is 4-4-2, 5-3-2 or 5-4-1"
        )
    return PackageNdc(parts[0], parts[1], parts[2])


def package_from_ndc10(ndc10: str, fmt: str) -> PackageNdc:
    """Split a 10-digit package NDC by its format (``4-4-2``, ``5-3-2`` or ``5-4-1``)."""
    if len(ndc10) != 10 or not _all_ascii_digits(ndc10):
        raise NdcError(f"'{_show(ndc10)}' is not a 10-digit NDC")
    try:
        lengths = tuple(int(n) for n in fmt.strip().split("-"))
    except ValueError:
        raise NdcError(f"'{_show(fmt)}' is not an NDC format") from None
    if lengths not in PACKAGE_FORMATS:
        raise NdcError(f"'{_show(fmt)}' is not an NDC format (4-4-2, 5-3-2 or 5-4-1)")
    a, b = lengths[0], lengths[0] + lengths[1]
    return PackageNdc(ndc10[:a], ndc10[a:b], ndc10[b:])


def ndc10_from_barcode(digits: str) -> str:
    """The 10-digit package NDC inside a scanned UPC-A / EAN-13 / GTIN-14 (check digit verified)."""
    if not _all_ascii_digits(digits) or len(digits) not in (12, 13, 14):
        raise NdcError("a drug barcode has 12 digits (UPC-A), 13 (EAN-13) or 14 (GTIN-14)")
    body, check = digits[:-1], digits[-1]
    if gs1_check_digit(body) != check:
        raise NdcError(
            f"barcode {digits} has a wrong check digit (expected {gs1_check_digit(body)}): "
            "scan it again or type the NDC printed beside it"
        )
    upc_body = body[-11:]  # "3" + NDC10 (EAN-13 / GTIN-14 only add leading digits)
    prefix = body[:-11]
    if len(prefix) == 1 and prefix != "0":
        raise NdcError(f"barcode {digits} is not a drug barcode (EAN-13 of an NDC starts with 0)")
    if len(prefix) == 2 and prefix[1] != "0":
        raise NdcError(f"barcode {digits} is not a drug barcode (not a GTIN-14 of a UPC-A)")
    if upc_body[0] != "3":
        raise NdcError(f"barcode {digits} is not an NDC barcode (a drug UPC-A starts with 3)")
    return upc_body[1:]


def interpret_ndc(text: str) -> NdcQuery | None:
    """What an NDC typed, pasted or scanned into the search box can mean.

    ``None``: not NDC-shaped (letters, or fewer than 4 digits) — search it as text.
    :class:`NdcError`: NDC-shaped but impossible (bad check digit, wrong segment lengths).

    ============================  ===========================================================
    input                         looked up as
    ============================  ===========================================================
    ``0002-1200`` / ``49502-500``  product NDC (and its padded / unpadded equivalents)
    ``00021200``, ``495020500``    dash-stripped product NDC (8 or 9 digits)
    ``49502-500-01``               package, 11-digit key ``49502050001``
    ``49502-0500-01``              11-digit package NDC printed with dashes
    ``4950250001``                 10-digit package NDC (format unknown: packages.ndc10)
    ``49502050001``                11-digit package NDC (packages.ndc11)
    ``349502500013``               UPC-A: check digit verified, then the 10-digit NDC inside
    ``4950``…``4950250``           partial (4–7 digits, dashes ignored): product NDCs starting
                                  with them (typeahead)
    ============================  ===========================================================

    A package NDC also yields its product NDC candidates, so a product that was imported
    without its packages (or added by hand) is still found by scanning its box.
    """
    if not isinstance(text, str):
        raise NdcError("an NDC is text")
    cleaned = _NDC_LABEL.sub("", text, count=1).strip()
    if not cleaned or not _SEGMENTED.fullmatch(cleaned) or not cleaned.isascii():
        return None
    segments = _SEPARATORS.split(cleaned)
    digits = "".join(segments)
    n = len(digits)
    if n < MIN_PARTIAL_DIGITS:
        return None
    if n > 14:
        raise NdcError(f"{n} digits is too long for an NDC or a drug barcode")
    if n >= 12:
        return _package_query(ndc10=ndc10_from_barcode(digits), form="barcode")
    if n < 8:
        return NdcQuery(form="partial", digits_prefix=digits)
    if len(segments) > 1:
        return _segmented_query(segments)
    if n == 11:
        return NdcQuery(
            form="package-11", ndc11=(digits,), product_digits=product_digit_forms(digits[:9])
        )
    if n == 10:
        return _package_query(ndc10=digits, form="package-10")
    forms = (digits,) if n == 8 else product_digit_forms(digits)
    return NdcQuery(form="product", product_digits=forms)


def _package_query(ndc10: str, form: str) -> NdcQuery:
    # The product is the first 8 (4-4-2, 5-3-2) or first 9 (5-4-1) digits.
    return NdcQuery(form=form, ndc10=(ndc10,), product_digits=(ndc10[:8], ndc10[:9]))


def _segmented_query(segments: list[str]) -> NdcQuery:
    lengths = tuple(len(s) for s in segments)
    if len(segments) == 2:
        product = parse_product_ndc("-".join(segments))
        return NdcQuery(form="product", product_digits=product_digit_forms(product.padded9))
    if len(segments) == 3:
        if lengths == (5, 4, 2):  # the 11-digit form printed with dashes
            ndc11 = "".join(segments)
            return NdcQuery(
                form="package-11", ndc11=(ndc11,), product_digits=product_digit_forms(ndc11[:9])
            )
        package = parse_package_ndc("-".join(segments))
        return NdcQuery(
            form="package",
            ndc11=(package.ndc11,),
            ndc10=(package.ndc10,),
            product_digits=product_digit_forms(package.product_ndc.padded9),
        )
    raise NdcError(
        f"an NDC has two or three segments, not {len(segments)} ({_fmt(lengths)}); "
        "type it as printed, e.g. 49502-500-01"
    )


def _show(text: object, limit: int = 40) -> str:
    shown = str(text)
    return shown if len(shown) <= limit else shown[:limit] + "…"
