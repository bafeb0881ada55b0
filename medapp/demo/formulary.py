"""The demo formulary: the hand-written school list, plus the FDA product file when present.

* ``resources/school_formulary.csv`` – about 190 products a school health office really keeps
  (rescue inhalers, epinephrine auto-injectors, ADHD stimulants, insulin and glucagon, seizure
  rescue, OTC pain/allergy/GI items, short-course antibiotics, ...), each with its category, a
  typical student dose and a typical school frequency text. NDCs are real product NDCs looked
  up in the FDA 2015 extract; items with no matching product there (OTC items, products
  approved later) have none. See ``resources/demo/README.md``.
* ``<shared>/formulary/fda-ndc-products-2015.tsv`` – 44,261 US prescription products. The
  district scale loads all of them; the school scale adds other strengths, forms and labelers
  of the school drugs up to ``Scale.formulary_cap`` items. Without the file the school demo
  uses the CSV alone and the district demo generates look-alike products (no NDCs).

The 2015 extract has no DEA schedule column: controlled status of FDA rows is derived from the
active ingredients (:func:`dea_schedule_for`), and the CSV's own values win for its products.
"""

from __future__ import annotations

import csv
import gzip
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from uuid import UUID

from medapp import paths
from medapp.demo.base import DemoError, UuidSource

PRODUCTS_FILE = Path("formulary") / "fda-ndc-products-2015.tsv"
PACKAGES_FILE = Path("formulary") / "fda-ndc-packages-2015.tsv"

CSV_COLUMNS = (
    "name",
    "generic_name",
    "dosage_form",
    "strength",
    "route",
    "manufacturer",
    "ndc",
    "is_controlled",
    "dea_schedule",
    "is_otc",
    "category",
    "dose",
    "frequency",
)

# Column sizes of ``medications`` (values are cut to fit).
MAX_NAME, MAX_GENERIC, MAX_FORM, MAX_STRENGTH, MAX_ROUTE, MAX_MANUFACTURER = (
    300,
    1000,
    120,
    300,
    200,
    300,
)


@dataclass(frozen=True)
class FormularyItem:
    """One row of the school formulary CSV."""

    name: str
    generic_name: str
    dosage_form: str
    strength: str
    route: str
    manufacturer: str
    ndc: str | None
    is_controlled: bool
    dea_schedule: str | None
    is_otc: bool
    category: str
    dose: str
    frequency: str


@dataclass(slots=True)
class Med:
    id: UUID
    name: str
    generic_name: str | None
    dosage_form: str
    strength: str
    route: str | None
    manufacturer: str | None
    ndc: str | None
    is_controlled: bool
    dea_schedule: str | None
    is_otc: bool
    source: str  # FDA | MANUAL

    COLUMNS = (
        "id",
        "name",
        "generic_name",
        "dosage_form",
        "strength",
        "route",
        "manufacturer",
        "ndc",
        "is_controlled",
        "dea_schedule",
        "is_otc",
    )

    def row(self) -> tuple[object, ...]:
        return (
            self.id,
            self.name,
            self.generic_name,
            self.dosage_form,
            self.strength,
            self.route,
            self.manufacturer,
            self.ndc,
            self.is_controlled,
            self.dea_schedule,
            self.is_otc,
        )


@dataclass
class Formulary:
    meds: list[Med]
    items: dict[str, FormularyItem]  # CSV name -> item
    by_item: dict[str, Med]  # CSV name -> the medications row that stands for it
    fda_products: Path | None = None
    by_ndc: dict[str, Med] = field(default_factory=dict)


def _bool(value: str) -> bool:
    return value.strip().lower() in ("true", "t", "yes", "y", "1")


def read_school_formulary(path: Path | None = None) -> list[FormularyItem]:
    path = path or paths.resource_path("school_formulary.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise DemoError(f"{path}: expected columns {', '.join(CSV_COLUMNS)}")
        return [
            FormularyItem(
                name=r["name"].strip(),
                generic_name=r["generic_name"].strip(),
                dosage_form=r["dosage_form"].strip(),
                strength=r["strength"].strip(),
                route=r["route"].strip(),
                manufacturer=r["manufacturer"].strip(),
                ndc=r["ndc"].strip() or None,
                is_controlled=_bool(r["is_controlled"]),
                dea_schedule=r["dea_schedule"].strip() or None,
                is_otc=_bool(r["is_otc"]),
                category=r["category"].strip(),
                dose=r["dose"].strip(),
                frequency=r["frequency"].strip(),
            )
            for r in reader
        ]


# --- controlled substances ------------------------------------------------------------------

_SCHEDULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "CII",
        (
            "AMPHETAMINE",
            "DEXTROAMPHETAMINE",
            "LISDEXAMFETAMINE",
            "METHAMPHETAMINE",
            "METHYLPHENIDATE",
            "DEXMETHYLPHENIDATE",
            "OXYCODONE",
            "HYDROCODONE",
            "HYDROMORPHONE",
            "MORPHINE",
            "FENTANYL",
            "SUFENTANIL",
            "ALFENTANIL",
            "REMIFENTANIL",
            "METHADONE",
            "MEPERIDINE",
            "OXYMORPHONE",
            "TAPENTADOL",
            "LEVORPHANOL",
            "COCAINE",
            "OPIUM",
            "NABILONE",
            "PENTOBARBITAL",
            "SECOBARBITAL",
        ),
    ),
    (
        "CIII",
        (
            "BUPRENORPHINE",
            "TESTOSTERONE",
            "METHYLTESTOSTERONE",
            "OXANDROLONE",
            "NANDROLONE",
            "KETAMINE",
            "DRONABINOL",
            "BENZPHETAMINE",
            "PHENDIMETRAZINE",
            "PERAMPANEL",
            "SODIUM OXYBATE",
        ),
    ),
    (
        "CIV",
        (
            "ALPRAZOLAM",
            "CHLORDIAZEPOXIDE",
            "CLOBAZAM",
            "CLONAZEPAM",
            "CLORAZEPATE",
            "DIAZEPAM",
            "ESTAZOLAM",
            "FLURAZEPAM",
            "LORAZEPAM",
            "MIDAZOLAM",
            "OXAZEPAM",
            "TEMAZEPAM",
            "TRIAZOLAM",
            "ZOLPIDEM",
            "ZALEPLON",
            "ESZOPICLONE",
            "SUVOREXANT",
            "TRAMADOL",
            "CARISOPRODOL",
            "PHENOBARBITAL",
            "MODAFINIL",
            "ARMODAFINIL",
            "PHENTERMINE",
            "LORCASERIN",
            "BUTORPHANOL",
            "PENTAZOCINE",
            "DIETHYLPROPION",
            "MEPROBAMATE",
        ),
    ),
    ("CV", ("PREGABALIN", "LACOSAMIDE", "EZOGABINE", "DIPHENOXYLATE")),
)
_ORDER = {"CII": 2, "CIII": 3, "CIV": 4, "CV": 5}


def dea_schedule_for(substances: str) -> str | None:
    """The DEA schedule of a product from its active ingredients (``SUBSTANCENAME``).

    An approximation good enough for demo data: the strictest schedule of any ingredient, with
    codeine by combination (alone CII; with acetaminophen/aspirin/butalbital/carisoprodol CIII;
    in cough preparations CV).
    """
    parts = [p.strip().upper() for p in substances.split(";") if p.strip()]
    found: list[str] = []
    for part in parts:
        for schedule, names in _SCHEDULES:
            if any(part.startswith(n) for n in names):
                found.append(schedule)
                break
    if any(p.startswith("CODEINE") for p in parts):
        others = [p for p in parts if not p.startswith("CODEINE")]
        if not others:
            found.append("CII")
        elif any(
            p.startswith(("ACETAMINOPHEN", "ASPIRIN", "BUTALBITAL", "CARISOPRODOL")) for p in others
        ):
            found.append("CIII")
        else:
            found.append("CV")
    return min(found, key=_ORDER.__getitem__) if found else None


# --- FDA products -----------------------------------------------------------------------------


def _cut(value: str | None, size: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:size] if value else None


def _open_tsv(path: Path) -> TextIO:
    """A shared-data table as text; the installer's bundled copy is gzip-compressed (``.gz``)."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _existing(path: Path) -> Path | None:
    """``path`` itself, else its ``.gz`` twin (the frozen bundle's copy), else None."""
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def fda_products(path: Path) -> Iterator[dict[str, str]]:
    with _open_tsv(path) as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        needed = {
            "PRODUCTNDC",
            "PROPRIETARYNAME",
            "NONPROPRIETARYNAME",
            "DOSAGEFORMNAME",
            "ROUTENAME",
            "LABELERNAME",
            "SUBSTANCENAME",
            "ACTIVE_NUMERATOR_STRENGTH",
            "ACTIVE_INGRED_UNIT",
        }
        if not needed <= set(header):
            raise DemoError(f"{path}: not an FDA NDC product file (missing columns)")
        for values in reader:
            if len(values) >= len(header):
                yield dict(zip(header, values, strict=False))


def _fda_med(row: dict[str, str], new_id: UuidSource) -> Med | None:
    ndc = (row["PRODUCTNDC"] or "").strip()
    name = _cut(row["PROPRIETARYNAME"], MAX_NAME) or _cut(row["NONPROPRIETARYNAME"], MAX_NAME)
    if not ndc or not name:
        return None
    strength = " ".join(
        v
        for v in (row["ACTIVE_NUMERATOR_STRENGTH"].strip(), row["ACTIVE_INGRED_UNIT"].strip())
        if v
    )
    schedule = dea_schedule_for(row["SUBSTANCENAME"] or "")
    return Med(
        id=new_id(),
        name=name,
        generic_name=_cut(row["NONPROPRIETARYNAME"], MAX_GENERIC),
        dosage_form=_cut(row["DOSAGEFORMNAME"], MAX_FORM) or "UNKNOWN",
        strength=strength[:MAX_STRENGTH],
        route=_cut(row["ROUTENAME"], MAX_ROUTE),
        manufacturer=_cut(row["LABELERNAME"], MAX_MANUFACTURER),
        ndc=ndc[:20],
        is_controlled=schedule is not None,
        dea_schedule=schedule,
        is_otc=False,
        source="FDA",
    )


def _item_med(item: FormularyItem, new_id: UuidSource) -> Med:
    return Med(
        id=new_id(),
        name=item.name[:MAX_NAME],
        generic_name=item.generic_name[:MAX_GENERIC] or None,
        dosage_form=item.dosage_form[:MAX_FORM],
        strength=item.strength[:MAX_STRENGTH],
        route=item.route[:MAX_ROUTE] or None,
        manufacturer=item.manufacturer[:MAX_MANUFACTURER] or None,
        ndc=item.ndc,
        is_controlled=item.is_controlled or item.dea_schedule is not None,
        dea_schedule=item.dea_schedule,
        is_otc=item.is_otc,
        source="MANUAL",
    )


_LABELERS = (
    "Northbrook Generics",
    "Meridian Pharma",
    "Bluewater Laboratories",
    "Granite State Pharmaceuticals",
    "Summit Rx",
    "Prairie Health Products",
    "Coastal Pharmaceuticals",
    "Evergreen Labs",
    "Keystone Medical",
    "Redwood Therapeutics",
)
_STRENGTH_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _generated(items: list[FormularyItem], count: int, new_id: UuidSource) -> list[Med]:
    """Look-alike products for a district formulary when the FDA file is not available."""
    out: list[Med] = []
    factors = (1, 2, 0.5, 4, 1.5, 3)
    i = 0
    while len(out) < count:
        item = items[i % len(items)]
        round_ = i // len(items)
        labeler = _LABELERS[round_ % len(_LABELERS)]
        factor = factors[(round_ // len(_LABELERS)) % len(factors)]
        number = _STRENGTH_NUMBER.search(item.strength)
        strength = item.strength
        if number is not None:
            scaled = f"{float(number.group()) * factor:g}"
            strength = strength[: number.start()] + scaled + strength[number.end() :]
        out.append(
            Med(
                id=new_id(),
                name=f"{item.generic_name.title()} {strength}"[:MAX_NAME],
                generic_name=item.generic_name,
                dosage_form=item.dosage_form,
                strength=strength,
                route=item.route or None,
                manufacturer=labeler,
                ndc=None,
                is_controlled=item.is_controlled,
                dea_schedule=item.dea_schedule,
                is_otc=item.is_otc,
                source="MANUAL",
            )
        )
        i += 1
    return out


def find_products_file(shared: Path | None) -> Path | None:
    if shared is None:
        return None
    return _existing(shared / PRODUCTS_FILE)


def build_formulary(
    items: list[FormularyItem],
    *,
    full: bool,
    cap: int,
    products: Path | None,
    rng: random.Random,
    new_id: UuidSource,
    generated_size: int = 44_000,
) -> Formulary:
    """The medications rows of a demo, and which row stands for each school item."""
    by_name = {i.name: i for i in items}
    if len(by_name) != len(items):
        raise DemoError("school_formulary.csv has duplicate names")
    item_ndcs = {i.ndc: i for i in items if i.ndc}
    meds: list[Med] = []
    by_item: dict[str, Med] = {}
    by_ndc: dict[str, Med] = {}

    if full and products is not None:
        for row in fda_products(products):
            med = _fda_med(row, new_id)
            if med is None or med.ndc in by_ndc:
                continue
            item = item_ndcs.get(med.ndc or "")
            if item is not None:  # the school list knows these products better
                med.is_controlled = item.is_controlled or item.dea_schedule is not None
                med.dea_schedule = item.dea_schedule
                by_item[item.name] = med
            by_ndc[med.ndc or ""] = med
            meds.append(med)
    for item in items:
        if item.name not in by_item:
            med = _item_med(item, new_id)
            if med.ndc and med.ndc in by_ndc:  # NDC missing from this FDA file version
                med.ndc = None
            by_item[item.name] = med
            meds.append(med)
            if med.ndc:
                by_ndc[med.ndc] = med
    if full and products is None:
        meds += _generated(items, generated_size - len(meds), new_id)
    elif not full and products is not None and cap > len(meds):
        generics = {i.generic_name.lower() for i in items}
        extras = [
            med
            for row in fda_products(products)
            if row["NONPROPRIETARYNAME"].strip().lower() in generics
            and row["PRODUCTNDC"].strip() not in by_ndc
            and (med := _fda_med(row, new_id)) is not None
        ]
        unique = {m.ndc: m for m in sorted(extras, key=lambda m: m.ndc or "", reverse=True)}
        pool = sorted(unique.values(), key=lambda m: m.ndc or "")
        for med in rng.sample(pool, min(len(pool), cap - len(meds))):
            meds.append(med)
            by_ndc[med.ndc or ""] = med
    return Formulary(
        meds=meds, items=by_name, by_item=by_item, fda_products=products, by_ndc=by_ndc
    )


# --- packages ---------------------------------------------------------------------------------

PACKAGE_COLUMNS = ("id", "medication_id", "ndc", "ndc10", "ndc11", "description", "source")
_DIGITS10 = re.compile(r"^\d{10}$")
_DIGITS11 = re.compile(r"^\d{11}$")


def package_rows(shared: Path, by_ndc: dict[str, Med], new_id: UuidSource) -> Iterator[tuple]:
    """FDA package rows (barcode NDCs) of the products in the demo formulary."""
    path = _existing(shared / PACKAGES_FILE)
    if path is None:
        return
    seen: set[str] = set()
    with _open_tsv(path) as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        for r in reader:
            med = by_ndc.get((r.get("PRODUCTNDC") or "").strip())
            ndc10 = (r.get("NDC10") or "").strip()
            ndc11 = (r.get("ELEVEN_DIGIT_NDC") or "").strip()
            fmt = (r.get("FORMAT") or "").strip()
            if med is None or not _DIGITS10.match(ndc10) or not _DIGITS11.match(ndc11):
                continue
            try:
                a, b, _ = (int(x) for x in fmt.split("-"))
            except ValueError:
                continue
            if ndc11 in seen:
                continue
            seen.add(ndc11)
            dashed = f"{ndc10[:a]}-{ndc10[a : a + b]}-{ndc10[a + b :]}"
            description = (r.get("PACKAGEDESCRIPTION") or "").strip() or None
            yield (new_id(), med.id, dashed, ndc10, ndc11, description, "FDA")
