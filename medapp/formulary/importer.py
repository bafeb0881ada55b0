"""Load the FDA NDC Directory into ``medications`` and ``medication_packages``.

One call, one transaction (the caller's :class:`~sqlalchemy.Connection`; the CLI wraps it in
``engine.begin()``, tests in their rolled-back fixture transaction), so an import is applied
completely or not at all:

1. stream the products file, validating each line (:mod:`medapp.formulary.readers`); good rows
   go to a temporary table through ``COPY``, bad lines become rejections with line numbers;
2. ``INSERT … ON CONFLICT (ndc) DO UPDATE … WHERE (columns) IS DISTINCT FROM (new values)``
   — keyed on the product NDC, so re-importing a newer file updates and never duplicates, and
   ``RETURNING (xmax = 0)`` tells inserted rows from updated ones (the rest are unchanged);
3. the same for packages, keyed on the 11-digit NDC and linked to their product by product
   NDC; a package whose product is neither in the file nor already in the formulary is
   rejected with that reason.

Nothing is ever deleted (dose logs and prescriptions reference medications). Products that are
no longer in the file are counted, and with ``retire_missing=True`` marked ``is_active =
false`` (search ranks them last); they come back to active when a later file lists them again.
Columns the file does not carry are left alone on update: the 2015 extract has no DEASCHEDULE,
so re-importing it does not erase schedules loaded from a current file or entered by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from medapp.formulary.readers import (
    FormularyFileError,
    PackageFile,
    PackageRecord,
    ProductFile,
    ProductLayout,
    ProductRecord,
    Rejection,
    Source,
    resolve_sources,
)

# (stage, done, total): stage is "products" / "packages" while reading (bytes), then
# "saving products" / "saving packages" (done == total == 0).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TableCounts:
    read: int = 0  # data lines in the file
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class ImportReport:
    products_file: str
    packages_file: str | None
    layout: str
    products: TableCounts
    packages: TableCounts
    rejections: tuple[Rejection, ...]
    missing_from_file: int  # FDA products in the formulary that this file no longer lists
    retired: int  # of those, marked inactive now (retire_missing=True)
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def summary_lines(self) -> list[str]:
        lines = [
            f"{'':<10}{'read':>9}{'inserted':>10}{'updated':>9}{'unchanged':>11}{'rejected':>10}"
        ]
        for label, c in (("products", self.products), ("packages", self.packages)):
            if label == "packages" and self.packages_file is None:
                continue
            lines.append(
                f"{label:<10}{c.read:>9,}{c.inserted:>10,}{c.updated:>9,}{c.unchanged:>11,}{c.rejected:>10,}"
            )
        if self.missing_from_file:
            if self.retired:
                lines.append(f"{self.retired:,} products no longer in the file: marked inactive.")
            else:
                lines.append(
                    f"{self.missing_from_file:,} products in the formulary are not in this file "
                    "(left active; --retire-missing marks them inactive)."
                )
        lines.extend(self.notes)
        return lines


_PRODUCT_COLUMNS = (
    "line",
    "ndc",
    "name",
    "generic_name",
    "dosage_form",
    "strength",
    "route",
    "manufacturer",
    "is_otc",
    "dea_schedule",
    "marketing_end",
)
_PACKAGE_COLUMNS = ("line", "ndc", "ndc10", "ndc11", "product_ndc", "description")


def import_formulary(
    conn: Connection,
    products: Path,
    packages: Path | None = None,
    *,
    retire_missing: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an FDA products file (and its packages file) in the caller's transaction.

    ``products`` may also be the FDA's ``ndctext.zip`` (its product.txt and package.txt are
    used). Raises :class:`~medapp.formulary.readers.FormularyFileError` if a file cannot be
    read at all or is cut short (its last line incomplete); bad lines never raise, they are
    reported in :attr:`ImportReport.rejections`. With ``retire_missing``, raises
    :class:`RetireRefused` when more than :data:`RETIRE_LIMIT` of the active FDA formulary would
    be retired (a partial or wrong file), unless ``force``.
    """
    started = time.perf_counter()
    products_src, packages_src = resolve_sources(products, packages)
    label = _file_label(products_src)
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]

    cur.execute("DROP TABLE IF EXISTS _formulary_products, _formulary_packages")
    cur.execute(
        "CREATE TEMP TABLE _formulary_products ("
        " line integer, ndc text PRIMARY KEY, name text, generic_name text, dosage_form text,"
        " strength text, route text, manufacturer text, is_otc boolean, dea_schedule text,"
        " marketing_end date) ON COMMIT DROP"
    )
    product_file = ProductFile(products_src, _stage(progress, "products"))
    rejections: list[Rejection] = []
    rejected_products: dict[str, int] = {}
    first_line: dict[str, int] = {}
    read = 0
    with cur.copy(f"COPY _formulary_products ({', '.join(_PRODUCT_COLUMNS)}) FROM STDIN") as copy:
        for item in product_file:
            read += 1
            if isinstance(item, Rejection):
                rejections.append(item)
                if item.ndc:
                    rejected_products.setdefault(item.ndc, item.line)
                continue
            if item.ndc in first_line:
                rejections.append(
                    Rejection(
                        products_src.label,
                        item.line,
                        f"PRODUCTNDC {item.ndc} repeats line {first_line[item.ndc]}",
                        item.ndc,
                    )
                )
                continue
            first_line[item.ndc] = item.line
            copy.write_row(_product_row(item))
    layout = product_file.layout
    assert layout is not None
    if progress:
        progress("saving products", 0, 0)
    product_counts = _upsert_products(conn, layout, label, read, len(rejections))
    missing, retired = _missing_products(conn, label, retire_missing, force)

    package_counts = TableCounts()
    if packages_src is not None:
        package_counts, package_rejections = _import_packages(
            conn, cur, packages_src, label, rejected_products, progress
        )
        rejections.extend(package_rejections)

    cur.execute("DROP TABLE IF EXISTS _formulary_products, _formulary_packages")
    notes = []
    if not layout.has_dea:
        notes.append(
            "This file has no DEASCHEDULE column: controlled-substance schedules were left as "
            "they were (new products: not controlled). The current FDA file has it."
        )
    _after_import()
    return ImportReport(
        products_file=products_src.label,
        packages_file=packages_src.label if packages_src else None,
        layout=layout.name,
        products=product_counts,
        packages=package_counts,
        rejections=tuple(rejections),
        missing_from_file=missing,
        retired=retired,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


def _file_label(src: Source) -> str:
    stamp = time.strftime("%Y-%m-%d")
    return f"{src.label} ({stamp})"[:300]


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def _product_row(r: ProductRecord) -> tuple[object, ...]:
    return (
        r.line,
        r.ndc,
        r.name,
        r.generic_name,
        r.dosage_form,
        r.strength,
        r.route,
        r.manufacturer,
        r.is_otc,
        r.dea_schedule,
        r.marketing_end,
    )


def _upsert_products(
    conn: Connection, layout: ProductLayout, label: str, read: int, rejected: int
) -> TableCounts:
    # Columns every layout provides; optional ones only when the file has them.
    columns = ["name", "generic_name", "dosage_form", "strength", "route", "manufacturer"]
    if layout.has_product_type:
        columns.append("is_otc")
    if layout.has_dea:
        columns += ["dea_schedule", "is_controlled"]
    if layout.has_marketing_end:
        columns.append("marketing_end")
    columns += ["is_active", "source"]
    source_expr = {
        "is_controlled": "t.dea_schedule IS NOT NULL",
        "is_active": "true",
        "source": "'FDA'",
    }
    select = ", ".join(source_expr.get(c, f"t.{c}") for c in columns)
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    old = ", ".join(f"medications.{c}" for c in columns)
    new = ", ".join(f"EXCLUDED.{c}" for c in columns)
    sql = f"""
        WITH upserted AS (
            INSERT INTO medications (ndc, {", ".join(columns)}, updated_from_file)
            SELECT t.ndc, {select}, :label FROM _formulary_products t
            ON CONFLICT (ndc) DO UPDATE
               SET {assignments}, updated_from_file = EXCLUDED.updated_from_file,
                   updated_at = now()
             WHERE ({old}) IS DISTINCT FROM ({new})
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
               (SELECT count(*) FROM _formulary_products)
        FROM upserted
    """
    inserted, updated, loaded = conn.execute(text(sql), {"label": label}).one()
    return TableCounts(
        read=read,
        inserted=inserted,
        updated=updated,
        unchanged=loaded - inserted - updated,
        rejected=rejected,
    )


#: the largest share of the active formulary one import may retire without ``force``
RETIRE_LIMIT = 0.20


class RetireRefused(FormularyFileError):
    """``retire_missing`` would mark too much of the formulary inactive (a partial file?)."""


def _missing_products(
    conn: Connection, label: str, retire: bool, force: bool = False
) -> tuple[int, int]:
    where = (
        "m.source = 'FDA' AND m.is_active AND m.ndc IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM _formulary_products t WHERE t.ndc = m.ndc)"
    )
    missing = conn.execute(text(f"SELECT count(*) FROM medications m WHERE {where}")).scalar_one()
    if not retire or not missing:
        return missing, 0
    active = conn.execute(text("SELECT count(*) FROM medications WHERE is_active")).scalar_one()
    if not force and missing > RETIRE_LIMIT * active:
        raise RetireRefused(
            f"This file would retire {missing:,} of the {active:,} active products "
            f"({missing / active:.0%}, more than {RETIRE_LIMIT:.0%}): is it the complete FDA "
            "file? Nothing was retired; use --force if it really is."
        )
    retired = conn.execute(
        text(
            f"UPDATE medications m SET is_active = false, updated_at = now(), "
            f"updated_from_file = :label WHERE {where}"
        ),
        {"label": label},
    ).rowcount
    return missing, retired


def _import_packages(
    conn: Connection,
    cur: object,
    src: Source,
    label: str,
    rejected_products: dict[str, int],
    progress: Progress | None,
) -> tuple[TableCounts, list[Rejection]]:
    cur.execute(  # type: ignore[attr-defined]
        "CREATE TEMP TABLE _formulary_packages ("
        " line integer, ndc text, ndc10 text, ndc11 text PRIMARY KEY, product_ndc text,"
        " description text) ON COMMIT DROP"
    )
    rejections: list[Rejection] = []
    first_line: dict[str, int] = {}
    read = 0
    package_file = PackageFile(src, _stage(progress, "packages"))
    copy_sql = f"COPY _formulary_packages ({', '.join(_PACKAGE_COLUMNS)}) FROM STDIN"
    with cur.copy(copy_sql) as copy:  # type: ignore[attr-defined]
        for item in package_file:
            read += 1
            if isinstance(item, Rejection):
                rejections.append(item)
                continue
            if item.ndc11 in first_line:
                rejections.append(
                    Rejection(
                        src.label,
                        item.line,
                        f"package {item.ndc} has the same 11-digit NDC {item.ndc11} "
                        f"as line {first_line[item.ndc11]}",
                        item.ndc,
                    )
                )
                continue
            first_line[item.ndc11] = item.line
            copy.write_row(_package_row(item))
    if progress:
        progress("saving packages", 0, 0)

    orphans = conn.execute(
        text(
            "SELECT t.line, t.ndc, t.product_ndc FROM _formulary_packages t "
            "WHERE NOT EXISTS (SELECT 1 FROM medications m WHERE m.ndc = t.product_ndc) "
            "ORDER BY t.line"
        )
    ).all()
    for line, ndc, product_ndc in orphans:
        why = f"its product {product_ndc} is not in the formulary"
        if product_ndc in rejected_products:
            why += f" (the product's line {rejected_products[product_ndc]} was rejected)"
        rejections.append(Rejection(src.label, line, why, ndc))

    columns = ("medication_id", "ndc", "ndc10", "description", "source")
    old = ", ".join(f"medication_packages.{c}" for c in columns)
    new = ", ".join(f"EXCLUDED.{c}" for c in columns)
    inserted, updated, loaded = conn.execute(
        text(
            f"""
            WITH upserted AS (
                INSERT INTO medication_packages
                       (medication_id, ndc, ndc10, ndc11, description, source, updated_from_file)
                SELECT m.id, t.ndc, t.ndc10, t.ndc11, t.description, 'FDA', :label
                  FROM _formulary_packages t JOIN medications m ON m.ndc = t.product_ndc
                ON CONFLICT (ndc11) DO UPDATE
                   SET medication_id = EXCLUDED.medication_id, ndc = EXCLUDED.ndc,
                       ndc10 = EXCLUDED.ndc10, description = EXCLUDED.description,
                       source = EXCLUDED.source, updated_from_file = EXCLUDED.updated_from_file,
                       updated_at = now()
                 WHERE ({old}) IS DISTINCT FROM ({new})
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                   (SELECT count(*) FROM _formulary_packages t
                     WHERE EXISTS (SELECT 1 FROM medications m WHERE m.ndc = t.product_ndc))
            FROM upserted
            """
        ),
        {"label": label},
    ).one()
    counts = TableCounts(
        read=read,
        inserted=inserted,
        updated=updated,
        unchanged=loaded - inserted - updated,
        rejected=len(rejections),
    )
    return counts, rejections


def _package_row(r: PackageRecord) -> tuple[object, ...]:
    return (r.line, r.ndc, r.ndc10, r.ndc11, r.product_ndc, r.description)


def _after_import() -> None:
    from medapp.formulary.search import invalidate_vocabulary

    invalidate_vocabulary()


def rejection_lines(rejections: Iterable[Rejection]) -> list[str]:
    """``file:line: reason`` lines, for terminals and report files."""
    return [f"{r.file}:{r.line}: {r.reason}" for r in rejections]
