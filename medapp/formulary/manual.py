"""Hand-added formulary items ("Add medication"): validated, never duplicating an NDC.

School formularies add what the FDA prescription file lacks — over-the-counter acetaminophen,
ibuprofen, cetirizine — and those items may have no NDC at all. When an NDC is given it must be
a valid product NDC (``50580-488``) or package NDC (``50580-488-02``, as printed on the box);
a package NDC also records the package, so scanning that box later finds the item. An NDC is a
duplicate when the same product exists in any of its printed forms (``0002-1200`` and
``00002-1200`` are one product), or the package is already known.
"""

from __future__ import annotations

import unicodedata
import uuid

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from medapp.db.models import DEA_SCHEDULES, Medication, MedicationPackage
from medapp.formulary.ndc import (
    NdcError,
    PackageNdc,
    ProductNdc,
    interpret_ndc,
    parse_package_ndc,
    parse_product_ndc,
    product_digit_forms,
)
from medapp.formulary.readers import LIMITS
from medapp.formulary.search import MedicationHit, invalidate_vocabulary


class MedicationEntryError(ValueError):
    """A hand-entered medication cannot be saved; ``field`` names the input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DuplicateNdcError(MedicationEntryError):
    """The NDC already belongs to a formulary item (``existing_id`` / ``existing_name``)."""

    def __init__(self, message: str, existing_id: uuid.UUID | None, existing_name: str) -> None:
        super().__init__("ndc", message)
        self.existing_id = existing_id
        self.existing_name = existing_name


def parse_entry_ndc(value: str) -> tuple[ProductNdc, PackageNdc | None]:
    """A product or package NDC typed with its dashes; raises MedicationEntryError."""
    cleaned = value.strip()
    if cleaned.upper().startswith("NDC"):
        cleaned = cleaned[3:].lstrip(" :#")
    dashes = cleaned.count("-")
    try:
        if dashes == 1:
            return parse_product_ndc(cleaned), None
        if dashes == 2:
            package = parse_package_ndc(cleaned)
            return package.product_ndc, package
        interpret_ndc(cleaned)  # a bad barcode check digit says so
    except NdcError as exc:
        raise MedicationEntryError("ndc", f"The NDC is not valid: {exc}.") from None
    raise MedicationEntryError(
        "ndc",
        "Type the NDC with its dashes as printed on the box (e.g. 50580-488-02 or "
        "50580-488): without them the digits can be split more than one way.",
    )


def add_medication(
    session: Session,
    *,
    name: str,
    dosage_form: str,
    strength: str = "",
    generic_name: str | None = None,
    route: str | None = None,
    manufacturer: str | None = None,
    ndc: str | None = None,
    is_otc: bool = True,
    dea_schedule: str | None = None,
    package_description: str | None = None,
) -> MedicationHit:
    """Add one medication by hand (source MANUAL) and return it as a search hit.

    Raises :class:`MedicationEntryError` (a ``ValueError``) naming the field to fix, or
    :class:`DuplicateNdcError` when the NDC is already in the formulary. Flushes, does not
    commit: the caller's unit of work decides.
    """
    values = {
        "name": _required(name, "name"),
        "dosage_form": _required(dosage_form, "dosage_form"),
        "strength": _optional(strength, "strength") or "",
        "generic_name": _optional(generic_name, "generic_name"),
        "route": _optional(route, "route"),
        "manufacturer": _optional(manufacturer, "manufacturer"),
    }
    schedule = (dea_schedule or "").strip().upper().replace("-", "") or None
    if schedule is not None and schedule not in DEA_SCHEDULES:
        raise MedicationEntryError(
            "dea_schedule", f"The DEA schedule must be one of {', '.join(DEA_SCHEDULES)}."
        )
    product: ProductNdc | None = None
    package: PackageNdc | None = None
    if ndc is not None and ndc.strip():
        product, package = parse_entry_ndc(ndc)
        _check_unique(session, product, package)

    med = Medication(
        **values,
        ndc=product.dashed if product else None,
        is_otc=is_otc,
        dea_schedule=schedule,
        is_controlled=schedule is not None,
        source="MANUAL",
    )
    try:
        with session.begin_nested():
            session.add(med)
            session.flush()
            if package is not None:
                session.add(
                    MedicationPackage(
                        medication_id=med.id,
                        ndc=package.dashed,
                        ndc10=package.ndc10,
                        ndc11=package.ndc11,
                        description=_optional(package_description, "name"),
                        source="MANUAL",
                    )
                )
                session.flush()
    except IntegrityError:  # another PC saved the same NDC a moment ago
        raise DuplicateNdcError(
            f"NDC {ndc} was just added to the formulary by someone else.", None, ""
        ) from None
    invalidate_vocabulary()
    return MedicationHit(
        id=med.id,
        name=med.name,
        generic_name=med.generic_name,
        strength=med.strength,
        dosage_form=med.dosage_form,
        route=med.route,
        manufacturer=med.manufacturer,
        ndc=med.ndc,
        is_controlled=med.is_controlled,
        dea_schedule=med.dea_schedule,
        is_otc=med.is_otc,
        is_active=True,
        package_ndc=package.dashed if package else None,
        package_description=package_description,
    )


def _check_unique(session: Session, product: ProductNdc, package: PackageNdc | None) -> None:
    row = session.execute(
        text(
            "SELECT id, name, ndc FROM medications WHERE ndc_digits = ANY(:forms) "
            "ORDER BY ndc LIMIT 1"
        ),
        {"forms": list(product_digit_forms(product.padded9))},
    ).first()
    if row is not None:
        raise DuplicateNdcError(
            f"NDC {product.dashed} is already in the formulary: {row.name} ({row.ndc}).",
            row.id,
            row.name,
        )
    if package is not None:
        row = session.execute(
            text(
                "SELECT m.id, m.name, p.ndc FROM medication_packages p "
                "JOIN medications m ON m.id = p.medication_id WHERE p.ndc11 = :ndc11"
            ),
            {"ndc11": package.ndc11},
        ).first()
        if row is not None:
            raise DuplicateNdcError(
                f"Package NDC {package.dashed} is already in the formulary: {row.name} "
                f"({row.ndc}).",
                row.id,
                row.name,
            )


def _required(value: str | None, field: str) -> str:
    cleaned = _optional(value, field)
    if not cleaned:
        label = field.replace("_", " ")
        raise MedicationEntryError(field, f"The {label} is required.")
    return cleaned


def _optional(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(unicodedata.normalize("NFC", str(value)).split())
    label = field.replace("_", " ")
    if "\x00" in cleaned or not _encodable(cleaned):
        raise MedicationEntryError(field, f"The {label} has characters that cannot be stored.")
    limit = LIMITS.get(field, 1000)
    if len(cleaned) > limit:
        raise MedicationEntryError(field, f"The {label} is longer than {limit} characters.")
    return cleaned or None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
