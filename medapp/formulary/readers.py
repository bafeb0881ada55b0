"""Read the FDA NDC Directory files, row by row, into validated records or rejections.

Two layouts are understood, told apart by their header row:

* the **current FDA download** (``product.txt`` / ``package.txt`` inside ``ndctext.zip`` from
  https://www.fda.gov/drugs/drug-approvals-and-databases/national-drug-code-directory):
  PRODUCTID, PRODUCTNDC, PRODUCTTYPENAME, PROPRIETARYNAME, PROPRIETARYNAMESUFFIX,
  NONPROPRIETARYNAME, DOSAGEFORMNAME, ROUTENAME, …, ENDMARKETINGDATE, …, LABELERNAME, …,
  ACTIVE_NUMERATOR_STRENGTH, ACTIVE_INGRED_UNIT, …, DEASCHEDULE …; packages: PRODUCTID,
  PRODUCTNDC, NDCPACKAGECODE, PACKAGEDESCRIPTION, … (the "unfinished drugs" files, which have
  no PROPRIETARYNAME, are read too: the name is then the non-proprietary name);
* the **2015 extract** kept for tests (``fda-ndc-products-2015.tsv``: PRODUCTNDC,
  PRODUCTNDC_9DIGIT, …; ``fda-ndc-packages-2015.tsv``: NDC10, FORMAT, ELEVEN_DIGIT_NDC,
  PRODUCTNDC, PACKAGEDESCRIPTION).

Files are tab-separated, unquoted text (a line is split on tabs, nothing else: the FDA fields
contain quotes). Each line is decoded as UTF-8 and, failing that, as
Windows-1252 (the FDA files have carried stray Latin-1 bytes), so an odd byte never stops an
import. A line that cannot be used becomes a :class:`Rejection` with its line number and the
reasons; everything else becomes a :class:`ProductRecord` / :class:`PackageRecord`. Reading is
streaming (a 100 MB file is never held in memory) and reports progress in bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from medapp.formulary.ndc import (
    NdcError,
    PackageNdc,
    package_from_ndc10,
    parse_package_ndc,
    parse_product_ndc,
)

DEA_SCHEDULES = ("CI", "CII", "CIII", "CIV", "CV")

# Column widths of medications / medication_packages (migration 0001/0002): longer values are
# shortened with an ellipsis rather than rejected (152 real 2015 products list more than 300
# characters of strengths).
LIMITS = {
    "name": 300,
    "generic_name": 1000,
    "dosage_form": 120,
    "strength": 300,
    "route": 200,
    "manufacturer": 300,
}

ProgressFn = Callable[[int, int], None]  # (bytes read, total bytes)

_WS = re.compile(r"\s+")
_UNIT_NAMES = {"[iU]": "IU", "[USP'U]": "USP units"}


class FormularyFileError(Exception):
    """A formulary file cannot be read at all (missing, unreadable, not an NDC file)."""


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    reason: str
    ndc: str | None = None


@dataclass(frozen=True)
class ProductRecord:
    line: int
    ndc: str  # dashed product NDC as the FDA prints it
    name: str
    generic_name: str | None
    dosage_form: str
    strength: str
    route: str | None
    manufacturer: str | None
    is_otc: bool
    dea_schedule: str | None
    marketing_end: dt.date | None


@dataclass(frozen=True)
class PackageRecord:
    line: int
    ndc: str  # dashed 10-digit package NDC
    ndc10: str
    ndc11: str
    product_ndc: str  # dashed product NDC it belongs to
    description: str | None


@dataclass(frozen=True)
class ProductLayout:
    """Which optional columns a products file has (what an import may overwrite)."""

    name: str  # "FDA current" | "FDA 2015 extract" | "FDA unfinished"
    has_dea: bool
    has_product_type: bool
    has_marketing_end: bool


# --- opening files (plain text or the FDA's ndctext.zip) ------------------------------------


@dataclass(frozen=True)
class Source:
    """A file to read: a path, or a member of a zip archive."""

    path: Path
    member: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path.name}:{self.member}" if self.member else self.path.name

    def size(self) -> int:
        if self.member is None:
            return self.path.stat().st_size
        with zipfile.ZipFile(self.path) as zf:
            return zf.getinfo(self.member).file_size

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with self.path.open("rb") as fh:
                yield fh
        else:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as fh:
                yield fh


def resolve_sources(products: Path, packages: Path | None) -> tuple[Source, Source | None]:
    """Check the files can be read; a zip is the FDA's ndctext.zip (product.txt, package.txt).

    Raises :class:`FormularyFileError` with one sentence saying what is wrong.
    """
    products_src = _one_source(products, ("product.txt", "unfinished_product.txt"))
    packages_src = _one_source(packages, ("package.txt",)) if packages else None
    if packages is None and products_src.member is not None:
        try:
            packages_src = _one_source(products, ("package.txt",))
        except FormularyFileError:
            packages_src = None
    return products_src, packages_src


def _one_source(path: Path, members: tuple[str, ...]) -> Source:
    if not path.exists():
        raise FormularyFileError(f"The file {path} does not exist.")
    if path.is_dir():
        raise FormularyFileError(f"{path} is a folder; give the FDA product or package file.")
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise FormularyFileError(f"The file {path} cannot be read ({exc.strerror}).") from None
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = {Path(n).name.lower(): n for n in zf.namelist()}
        except zipfile.BadZipFile:
            raise FormularyFileError(f"The file {path} is a damaged zip archive.") from None
        for wanted in members:
            if wanted in names:
                return Source(path, names[wanted])
        raise FormularyFileError(f"The zip archive {path} holds no {' or '.join(members)}.")
    return Source(path)


# --- tab-separated lines --------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    """UTF-8, or else Windows-1252; NUL bytes (which PostgreSQL text cannot hold) dropped."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return text.replace("\x00", "")


class TabFile:
    """Header + rows of an unquoted tab-separated file, with line numbers and byte progress."""

    def __init__(self, source: Source, progress: ProgressFn | None = None) -> None:
        self.source = source
        self._progress = progress
        self.total_bytes = source.size()
        self.bytes_read = 0
        self.header: list[str] = []

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) for every non-blank line after the header."""
        with ExitStack() as stack:
            try:
                fh = stack.enter_context(self.source.open())
            except (OSError, zipfile.BadZipFile, KeyError) as exc:
                raise FormularyFileError(
                    f"The file {self.source.label} cannot be read ({exc})."
                ) from None
            lines = enumerate(self._lines(fh), start=1)
            first = next(lines, None)
            if first is None:
                raise FormularyFileError(f"The file {self.source.label} is empty.")
            self.header = [h.strip().lstrip("\ufeff").upper() for h in first[1].split("\t")]
            step, next_report = max(self.total_bytes // 200, 1 << 16), 0
            held: tuple[int, list[str]] | None = None  # the last line is checked before use
            for number, line in lines:
                if self._progress and self.bytes_read >= next_report:
                    self._progress(self.bytes_read, self.total_bytes)
                    next_report = self.bytes_read + step
                if not line.strip():
                    continue
                if held is not None:
                    yield held
                held = (number, line.split("\t"))
            if held is not None:
                self._refuse_cut_short(*held)
                yield held
            if self._progress:
                self._progress(self.total_bytes, self.total_bytes)

    def _refuse_cut_short(self, number: int, fields: list[str]) -> None:
        """A last line with fewer fields than the header is a file cut short (an interrupted
        download or copy): the whole file is refused, so half a formulary is never loaded."""
        width = len(self.header)
        if len(fields) < width:
            raise FormularyFileError(
                f"The file {self.source.label} ends in the middle of line {number} "
                f"({len(fields)} of {width} fields): it looks cut short (an interrupted "
                "download?). Download it again."
            )

    def _lines(self, fh: IO[bytes]) -> Iterator[str]:
        try:
            for raw in fh:
                self.bytes_read += len(raw)
                yield _decode(raw).rstrip("\r\n")
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise FormularyFileError(
                f"The file {self.source.label} could not be read to the end ({exc})."
            ) from None


def _clean(value: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", value)).strip()


def _fit(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    limit = LIMITS[field]
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _parse_date(value: str, column: str, reasons: list[str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        reasons.append(f"{column} '{value[:20]}' is not a date (YYYYMMDD)")
        return None


def _strength(numerators: str, units: str, reasons: list[str]) -> str:
    """ "25" + "mg/1" → "25 mg"; several ingredients → "70 mg; 5600 IU"."""
    if not numerators and not units:
        return ""
    nums = [n.strip() for n in numerators.split(";")]
    unit_list = [u.strip() for u in units.split(";")]
    if len(nums) != len(unit_list):
        reasons.append(
            f"ACTIVE_NUMERATOR_STRENGTH has {len(nums)} values but ACTIVE_INGRED_UNIT {len(unit_list)}"
        )
        return ""
    parts = []
    for num, unit in zip(nums, unit_list, strict=True):
        if num.startswith("."):
            num = "0" + num
        if unit.endswith("/1"):
            unit = unit[:-2]
        for code, word in _UNIT_NAMES.items():
            unit = unit.replace(code, word)
        parts.append(f"{num} {unit}".strip())
    return "; ".join(parts)


# --- products -------------------------------------------------------------------------------

_PRODUCT_REQUIRED = ("PRODUCTNDC", "DOSAGEFORMNAME", "LABELERNAME")


class ProductFile:
    """Validated rows of an FDA products file (either layout)."""

    def __init__(self, source: Source, progress: ProgressFn | None = None) -> None:
        self.tab = TabFile(source, progress)
        self.layout: ProductLayout | None = None

    def __iter__(self) -> Iterator[ProductRecord | Rejection]:
        rows = self.tab.rows()
        first = next(rows, None)
        header = self.tab.header
        missing = [c for c in _PRODUCT_REQUIRED if c not in header]
        if missing or not {"PROPRIETARYNAME", "NONPROPRIETARYNAME"} & set(header):
            raise FormularyFileError(
                f"{self.tab.source.label} is not an FDA NDC products file "
                f"(no {', '.join(missing) or 'PROPRIETARYNAME'} column)."
            )
        self.layout = ProductLayout(
            name=(
                "FDA 2015 extract"
                if "PRODUCTNDC_9DIGIT" in header
                else "FDA current"
                if "PROPRIETARYNAME" in header
                else "FDA unfinished"
            ),
            has_dea="DEASCHEDULE" in header,
            has_product_type="PRODUCTTYPENAME" in header,
            has_marketing_end="ENDMARKETINGDATE" in header,
        )
        if first is None:
            return
        index = {name: i for i, name in enumerate(header)}
        label = self.tab.source.label
        for line, fields in _chain(first, rows):
            yield _product(label, line, fields, index, len(header))


def _chain(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


def _product(
    label: str, line: int, fields: list[str], index: dict[str, int], width: int
) -> ProductRecord | Rejection:
    if len(fields) != width:
        return Rejection(label, line, f"expected {width} tab-separated fields, found {len(fields)}")

    def get(column: str) -> str:
        i = index.get(column)
        return _clean(fields[i]) if i is not None else ""

    reasons: list[str] = []
    raw_ndc = get("PRODUCTNDC")
    ndc: str | None = None
    try:
        product = parse_product_ndc(raw_ndc)
        ndc = product.dashed
        nine = get("PRODUCTNDC_9DIGIT")
        if nine and nine != product.padded9:
            reasons.append(f"PRODUCTNDC_9DIGIT {nine} does not match PRODUCTNDC {ndc}")
        product_id = get("PRODUCTID")
        if product_id and not product_id.startswith(ndc + "_"):
            reasons.append(f"PRODUCTID {product_id[:30]} does not belong to PRODUCTNDC {ndc}")
    except NdcError as exc:
        reasons.append(f"PRODUCTNDC: {exc}")

    brand, suffix, generic = (
        get("PROPRIETARYNAME"),
        get("PROPRIETARYNAMESUFFIX"),
        get("NONPROPRIETARYNAME"),
    )
    name = brand or generic
    if suffix and brand and not brand.lower().endswith(suffix.lower()):
        name = f"{brand} {suffix}"
    if not name:
        reasons.append("no PROPRIETARYNAME or NONPROPRIETARYNAME")
    dosage_form = get("DOSAGEFORMNAME")
    if not dosage_form:
        reasons.append("no DOSAGEFORMNAME")

    dea_raw = get("DEASCHEDULE").upper().replace("-", "").replace(" ", "")
    dea = dea_raw or None
    if dea is not None and dea not in DEA_SCHEDULES:
        reasons.append(
            f"DEASCHEDULE '{get('DEASCHEDULE')[:10]}' is not one of CI, CII, CIII, CIV, CV"
        )

    numerators, units = get("ACTIVE_NUMERATOR_STRENGTH"), get("ACTIVE_INGRED_UNIT")
    strength = _strength(numerators, units, reasons)
    substances = get("SUBSTANCENAME")
    if substances and numerators:
        n_sub, n_num = len(substances.split(";")), len(numerators.split(";"))
        if n_sub != n_num:
            reasons.append(f"{n_sub} substances in SUBSTANCENAME but {n_num} strengths")
    start = _parse_date(get("STARTMARKETINGDATE"), "STARTMARKETINGDATE", reasons)
    end = _parse_date(get("ENDMARKETINGDATE"), "ENDMARKETINGDATE", reasons)
    if start and end and end < start:
        reasons.append(f"ENDMARKETINGDATE {end} is before STARTMARKETINGDATE {start}")

    if reasons or ndc is None:
        return Rejection(label, line, "; ".join(reasons), ndc or raw_ndc[:20] or None)
    route = get("ROUTENAME")
    manufacturer = get("LABELERNAME")
    return ProductRecord(
        line=line,
        ndc=ndc,
        name=_fit(name, "name") or "",
        generic_name=_fit(generic or None, "generic_name"),
        dosage_form=_fit(dosage_form, "dosage_form") or "",
        strength=_fit(strength, "strength") or "",
        route=_fit(route or None, "route"),
        manufacturer=_fit(manufacturer or None, "manufacturer"),
        is_otc="OTC" in get("PRODUCTTYPENAME").upper(),
        dea_schedule=dea,
        marketing_end=end,
    )


# --- packages -------------------------------------------------------------------------------


class PackageFile:
    """Validated rows of an FDA packages file (either layout)."""

    def __init__(self, source: Source, progress: ProgressFn | None = None) -> None:
        self.tab = TabFile(source, progress)

    def __iter__(self) -> Iterator[PackageRecord | Rejection]:
        rows = self.tab.rows()
        first = next(rows, None)
        header = self.tab.header
        current = {"NDCPACKAGECODE", "PRODUCTNDC"} <= set(header)
        extract = {"NDC10", "FORMAT", "PRODUCTNDC"} <= set(header)
        if not (current or extract):
            raise FormularyFileError(
                f"{self.tab.source.label} is not an FDA NDC packages file "
                "(no NDCPACKAGECODE or NDC10/FORMAT column)."
            )
        if first is None:
            return
        index = {name: i for i, name in enumerate(header)}
        label = self.tab.source.label
        for line, fields in _chain(first, rows):
            yield _package(label, line, fields, index, len(header), current)


def _package(
    label: str, line: int, fields: list[str], index: dict[str, int], width: int, current: bool
) -> PackageRecord | Rejection:
    if len(fields) != width:
        return Rejection(label, line, f"expected {width} tab-separated fields, found {len(fields)}")

    def get(column: str) -> str:
        i = index.get(column)
        return _clean(fields[i]) if i is not None else ""

    reasons: list[str] = []
    package: PackageNdc | None = None
    try:
        if current:
            package = parse_package_ndc(get("NDCPACKAGECODE"))
        else:
            package = package_from_ndc10(get("NDC10"), get("FORMAT"))
            eleven = get("ELEVEN_DIGIT_NDC")
            if eleven and eleven != package.ndc11:
                reasons.append(f"ELEVEN_DIGIT_NDC {eleven} does not match NDC10 {package.dashed}")
    except NdcError as exc:
        reasons.append(f"package NDC: {exc}")
    product_ndc = get("PRODUCTNDC")
    if package is not None and product_ndc != package.product_ndc.dashed:
        reasons.append(f"PRODUCTNDC {product_ndc[:20]} does not match package NDC {package.dashed}")
    product_id = get("PRODUCTID")
    if product_id and product_ndc and not product_id.startswith(product_ndc + "_"):
        reasons.append(f"PRODUCTID {product_id[:30]} does not belong to PRODUCTNDC {product_ndc}")
    if reasons or package is None:
        return Rejection(label, line, "; ".join(reasons), package.dashed if package else None)
    return PackageRecord(
        line=line,
        ndc=package.dashed,
        ndc10=package.ndc10,
        ndc11=package.ndc11,
        product_ndc=package.product_ndc.dashed,
        description=get("PACKAGEDESCRIPTION") or None,
    )
