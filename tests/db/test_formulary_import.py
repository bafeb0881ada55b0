"""Importing FDA NDC files: both layouts, rejections with line numbers, idempotent upserts.

The small current-format fixtures come from ../shared/data/formulary/fda-current-format (read
in place); variations (suffixes, schedules, bad bytes, broken lines) are written to tmp_path
from their header so each test shows exactly the line it is about.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text

from medapp.db.models import Medication, MedicationPackage
from medapp.formulary.importer import ImportReport, RetireRefused, import_formulary
from medapp.formulary.readers import FormularyFileError


@pytest.fixture(scope="module")
def current(shared_data: Path) -> Path:
    return shared_data / "formulary" / "fda-current-format"


@pytest.fixture(scope="module")
def product_header(current: Path) -> list[str]:
    return (current / "product_trimmed.txt").read_text().splitlines()[0].split("\t")


@pytest.fixture(scope="module")
def package_header(current: Path) -> list[str]:
    return (current / "package_trimmed.txt").read_text().splitlines()[0].split("\t")


def product_line(header: list[str], **values: str) -> str:
    base = {
        "PRODUCTTYPENAME": "HUMAN PRESCRIPTION DRUG",
        "DOSAGEFORMNAME": "TABLET",
        "ROUTENAME": "ORAL",
        "LABELERNAME": "Test Labs",
        "ACTIVE_NUMERATOR_STRENGTH": "10",
        "ACTIVE_INGRED_UNIT": "mg/1",
        "STARTMARKETINGDATE": "20100101",
    }
    base.update(values)
    if "PRODUCTID" not in values and "PRODUCTNDC" in base:
        base["PRODUCTID"] = base["PRODUCTNDC"] + "_0000"
    return "\t".join(base.get(col, "") for col in header)


def package_line(
    header: list[str], package_ndc: str, description: str = "100 TABLET in 1 BOTTLE"
) -> str:
    product = package_ndc.rsplit("-", 1)[0]
    values = {
        "PRODUCTID": product + "_0000",
        "PRODUCTNDC": product,
        "NDCPACKAGECODE": package_ndc,
        "PACKAGEDESCRIPTION": description,
    }
    return "\t".join(values.get(col, "") for col in header)


def write(path: Path, header: list[str], lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\t".join(header) + "\n" + "\n".join(lines) + "\n").encode(encoding))
    return path


def med(conn: Connection, ndc: str) -> Any:
    """The medications row (all columns, attribute access)."""
    table = Medication.__table__
    row = conn.execute(select(table).where(table.c.ndc == ndc)).one_or_none()
    assert row is not None, f"no medication {ndc}"
    return row


def count(conn: Connection, model: type) -> int:
    return conn.execute(select(func.count()).select_from(model)).scalar_one()


# --- the FDA's current layout ---------------------------------------------------------------


def test_current_format_fixture_imports_and_rejects_the_scrambled_row(
    connection: Connection, current: Path
) -> None:
    report = import_formulary(
        connection, current / "product_trimmed.txt", current / "package_trimmed.txt"
    )
    assert report.layout == "FDA current"
    assert (report.products.read, report.products.inserted, report.products.rejected) == (3, 2, 1)
    assert (report.packages.read, report.packages.inserted, report.packages.rejected) == (3, 1, 2)

    scrambled = [r for r in report.rejections if r.file == "product_trimmed.txt"]
    assert [(r.line, r.ndc) for r in scrambled] == [(3, "0002-1200")]
    assert "DEASCHEDULE 'DEA' is not one of" in scrambled[0].reason
    assert "ACTIVE_INGRED_UNIT" in scrambled[0].reason  # 3 strengths, 2 units, 4 substances
    orphans = [r for r in report.rejections if r.file == "package_trimmed.txt"]
    assert [r.line for r in orphans] == [3, 4]
    assert all("0002-1200 is not in the formulary" in r.reason for r in orphans)
    assert all("line 3 was rejected" in r.reason for r in orphans)

    diluent = med(connection, "0002-0800")
    assert diluent.name == "Sterile Diluent"
    assert diluent.generic_name == "diluent"
    assert diluent.dosage_form == "INJECTION, SOLUTION"
    assert diluent.route == "SUBCUTANEOUS"
    assert diluent.strength == "1 mL/mL"
    assert diluent.manufacturer == "Eli Lilly and Company"
    assert diluent.is_otc  # HUMAN OTC DRUG
    assert (diluent.is_controlled, diluent.dea_schedule) == (False, None)
    assert diluent.source == "FDA" and diluent.is_active
    assert diluent.updated_from_file is not None
    assert diluent.updated_from_file.startswith("product_trimmed.txt")
    quinidine = med(connection, "0002-1407")
    assert (quinidine.strength, quinidine.is_otc) == ("80 mg/mL", False)

    package = connection.execute(select(MedicationPackage.__table__)).one()
    assert (package.ndc, package.ndc10, package.ndc11) == (
        "0002-0800-01",
        "0002080001",
        "00002080001",
    )
    assert package.medication_id == diluent.id
    assert package.description == "1 VIAL in 1 CARTON (0002-0800-01) > 10 mL in 1 VIAL"


def test_suffix_schedule_and_marketing_end(
    connection: Connection, tmp_path: Path, product_header: list[str]
) -> None:
    path = write(
        tmp_path / "product.txt",
        product_header,
        [
            product_line(
                product_header,
                PRODUCTNDC="11111-111",
                PROPRIETARYNAME="Methylin",
                PROPRIETARYNAMESUFFIX="ER",
                NONPROPRIETARYNAME="methylphenidate hydrochloride",
                DEASCHEDULE="CII",
            ),
            product_line(
                product_header,
                PRODUCTNDC="11111-112",
                PROPRIETARYNAME="Lyrica CR",
                PROPRIETARYNAMESUFFIX="CR",  # already part of the name: not doubled
                DEASCHEDULE="CV",
                ENDMARKETINGDATE="20190131",
            ),
            product_line(
                product_header,
                PRODUCTNDC="11111-113",
                PROPRIETARYNAME="Multi",
                ACTIVE_NUMERATOR_STRENGTH="70; .5",
                ACTIVE_INGRED_UNIT="mg/1; [iU]/1",
                SUBSTANCENAME="A; B",
            ),
        ],
    )
    report = import_formulary(connection, path)
    assert report.products.inserted == 3 and not report.rejections
    methylin = med(connection, "11111-111")
    assert methylin.name == "Methylin ER"
    assert (methylin.dea_schedule, methylin.is_controlled) == ("CII", True)
    lyrica = med(connection, "11111-112")
    assert lyrica.name == "Lyrica CR"
    assert lyrica.dea_schedule == "CV"
    assert str(lyrica.marketing_end) == "2019-01-31"
    assert med(connection, "11111-113").strength == "70 mg; 0.5 IU"


def test_annotation_and_unfinished_product_files(connection: Connection, current: Path) -> None:
    report = import_formulary(connection, current / "annotation_product.txt")
    assert report.products.inserted == 3
    viagra = med(connection, "0069-4210")
    assert (viagra.name, viagra.strength, viagra.dosage_form) == (
        "Viagra",
        "50 mg",
        "TABLET, FILM COATED",
    )

    report = import_formulary(connection, current / "unfinished_product_trimmed.txt")
    assert report.layout == "FDA unfinished"
    assert report.products.inserted == 3
    lispro = med(connection, "0002-0535")
    assert (lispro.name, lispro.generic_name, lispro.route) == (
        "Insulin lispro",
        "Insulin lispro",
        None,
    )
    assert lispro.strength == "1 g/g"


# --- idempotency and updates ----------------------------------------------------------------


def test_reimport_changes_nothing_and_never_duplicates(
    connection: Connection, current: Path
) -> None:
    args = (connection, current / "product_trimmed.txt", current / "package_trimmed.txt")
    first = import_formulary(*args)
    before = connection.execute(
        text("SELECT id, ndc, updated_at FROM medications ORDER BY ndc")
    ).all()
    second = import_formulary(*args)
    assert (second.products.inserted, second.products.updated) == (0, 0)
    assert second.products.unchanged == first.products.inserted == 2
    assert (second.packages.inserted, second.packages.updated, second.packages.unchanged) == (
        0,
        0,
        1,
    )
    after = connection.execute(
        text("SELECT id, ndc, updated_at FROM medications ORDER BY ndc")
    ).all()
    assert after == before
    assert count(connection, Medication) == 2 and count(connection, MedicationPackage) == 1


def test_a_newer_file_updates_changed_rows_only(
    connection: Connection, tmp_path: Path, product_header: list[str], package_header: list[str]
) -> None:
    rows = {
        "22222-001": dict(PROPRIETARYNAME="Alpha", NONPROPRIETARYNAME="alphazine"),
        "22222-002": dict(PROPRIETARYNAME="Beta", NONPROPRIETARYNAME="betazine"),
        "22222-003": dict(PROPRIETARYNAME="Gamma", NONPROPRIETARYNAME="gammazine"),
    }

    def files(name: str, changes: dict[str, dict[str, str]], description: str) -> tuple[Path, Path]:
        lines = [
            product_line(product_header, PRODUCTNDC=ndc, **(values | changes.get(ndc, {})))
            for ndc, values in rows.items()
        ]
        packages = [package_line(package_header, f"{ndc}-01", description) for ndc in rows]
        return (
            write(tmp_path / f"{name}-product.txt", product_header, lines),
            write(tmp_path / f"{name}-package.txt", package_header, packages),
        )

    import_formulary(connection, *files("old", {}, "100 TABLET in 1 BOTTLE"))
    beta_id = med(connection, "22222-002").id
    newer = files(
        "new",
        {"22222-002": {"LABELERNAME": "New Owner Pharma", "DEASCHEDULE": "CIV"}},
        "100 TABLET in 1 BOTTLE",
    )
    report = import_formulary(connection, *newer)
    assert (report.products.inserted, report.products.updated, report.products.unchanged) == (
        0,
        1,
        2,
    )
    assert (report.packages.inserted, report.packages.updated, report.packages.unchanged) == (
        0,
        0,
        3,
    )
    beta = med(connection, "22222-002")
    assert beta.id == beta_id  # updated in place: prescriptions keep pointing at it
    assert (beta.manufacturer, beta.dea_schedule, beta.is_controlled) == (
        "New Owner Pharma",
        "CIV",
        True,
    )
    assert beta.updated_from_file is not None and beta.updated_from_file.startswith("new-product")
    assert str(med(connection, "22222-001").updated_from_file).startswith("old-product")

    same_products = {"22222-002": {"LABELERNAME": "New Owner Pharma", "DEASCHEDULE": "CIV"}}
    report = import_formulary(connection, *files("pkg", same_products, "90 TABLET in 1 BOTTLE"))
    assert report.products.updated == 0
    assert (report.packages.updated, report.packages.unchanged) == (3, 0)


def test_a_file_without_schedules_leaves_them_alone(
    connection: Connection, tmp_path: Path, product_header: list[str], shared_data: Path
) -> None:
    write(
        tmp_path / "current.txt",
        product_header,
        [
            product_line(
                product_header, PRODUCTNDC="0002-1407", PROPRIETARYNAME="Q", DEASCHEDULE="CIV"
            )
        ],
    )
    import_formulary(connection, tmp_path / "current.txt")
    header_2015 = (
        (shared_data / "formulary" / "fda-ndc-products-2015.tsv").open().readline().rstrip("\n")
    )
    with (shared_data / "formulary" / "fda-ndc-products-2015.tsv").open() as fh:
        line_2015 = next(line for line in fh if line.startswith("0002-1407\t"))
    (tmp_path / "old.tsv").write_text(header_2015 + "\n" + line_2015)
    report = import_formulary(connection, tmp_path / "old.tsv")
    assert report.layout == "FDA 2015 extract"
    assert report.products.updated == 1
    assert any("DEASCHEDULE" in note for note in report.notes)
    quinidine = med(connection, "0002-1407")
    assert quinidine.name == "Quinidine Gluconate"  # updated from the 2015 line…
    assert (quinidine.dea_schedule, quinidine.is_controlled) == ("CIV", True)  # …schedule kept


def test_products_missing_from_a_newer_file_are_kept_and_can_be_retired(
    connection: Connection, tmp_path: Path, product_header: list[str]
) -> None:
    both = [
        product_line(product_header, PRODUCTNDC="33333-001", PROPRIETARYNAME="Kept"),
        product_line(product_header, PRODUCTNDC="33333-002", PROPRIETARYNAME="Gone"),
    ]
    write(tmp_path / "a.txt", product_header, both)
    write(tmp_path / "b.txt", product_header, both[:1])
    import_formulary(connection, tmp_path / "a.txt")

    report = import_formulary(connection, tmp_path / "b.txt")
    assert (report.missing_from_file, report.retired) == (1, 0)
    assert med(connection, "33333-002").is_active

    with pytest.raises(RetireRefused, match=r"retire 1 of the 2 active products \(50%"):
        import_formulary(connection, tmp_path / "b.txt", retire_missing=True)
    report = import_formulary(connection, tmp_path / "b.txt", retire_missing=True, force=True)
    assert (report.missing_from_file, report.retired) == (1, 1)
    assert not med(connection, "33333-002").is_active  # inactive, never deleted
    assert count(connection, Medication) == 2

    report = import_formulary(connection, tmp_path / "a.txt")
    assert report.products.updated == 1  # back in the file: active again
    assert med(connection, "33333-002").is_active


# --- bad lines, bad bytes, bad files ---------------------------------------------------------


def test_malformed_lines_are_reported_and_skipped(
    connection: Connection, tmp_path: Path, product_header: list[str]
) -> None:
    good = product_line(product_header, PRODUCTNDC="44444-001", PROPRIETARYNAME="Good")
    lines = [
        good,  # line 2
        "just some words",  # 3
        product_line(product_header, PRODUCTNDC="4444-01", PROPRIETARYNAME="Short"),  # 4
        product_line(product_header, PRODUCTNDC="44444-003", PROPRIETARYNAME=""),  # 5
        product_line(
            product_header, PRODUCTNDC="44444-004", PROPRIETARYNAME="X", DOSAGEFORMNAME=""
        ),
        product_line(
            product_header,
            PRODUCTNDC="44444-005",
            PROPRIETARYNAME="X",
            ENDMARKETINGDATE="2019-13-01",
        ),
        product_line(
            product_header, PRODUCTNDC="44444-006", PROPRIETARYNAME="X", PRODUCTID="99999-999_1"
        ),
        good.replace("Good", "Again"),  # 9: same PRODUCTNDC as line 2
        "",  # blank lines are not data
        product_line(product_header, PRODUCTNDC="44444-010", PROPRIETARYNAME="Last"),  # 11
    ]
    report = import_formulary(connection, write(tmp_path / "p.txt", product_header, lines))
    reasons = {r.line: r.reason for r in report.rejections}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9]
    assert "expected 20 tab-separated fields, found 1" in reasons[3]
    assert "segments 4-2" in reasons[4]
    assert "no PROPRIETARYNAME or NONPROPRIETARYNAME" in reasons[5]
    assert "DOSAGEFORMNAME" in reasons[6]
    assert "ENDMARKETINGDATE" in reasons[7]
    assert "PRODUCTID" in reasons[8]
    assert "repeats line 2" in reasons[9]
    assert (report.products.read, report.products.inserted, report.products.rejected) == (9, 2, 7)
    assert med(connection, "44444-001").name == "Good"
    assert med(connection, "44444-010").name == "Last"


def test_latin1_bytes_bom_crlf_and_long_values(
    connection: Connection, tmp_path: Path, product_header: list[str]
) -> None:
    long_strength = "; ".join(["1"] * 200)
    lines = [
        product_line(product_header, PRODUCTNDC="55555-001", PROPRIETARYNAME="Tylénol Enfant"),
        product_line(
            product_header,
            PRODUCTNDC="55555-002",
            PROPRIETARYNAME="Many",
            ACTIVE_NUMERATOR_STRENGTH=long_strength,
            ACTIVE_INGRED_UNIT="; ".join(["mg/1"] * 200),
        ),
    ]
    body = "\t".join(product_header) + "\r\n" + "\r\n".join(lines) + "\r\n"
    raw = b"\xef\xbb\xbf" + body.encode("cp1252")  # UTF-8 BOM, then a Latin-1 "é"
    path = tmp_path / "product.txt"
    path.write_bytes(raw)
    report = import_formulary(connection, path)
    assert report.products.inserted == 2 and not report.rejections
    assert med(connection, "55555-001").name == "Tylénol Enfant"
    assert med(connection, "55555-001").name_key == "tylenol enfant"
    strength = med(connection, "55555-002").strength
    assert len(strength) == 300 and strength.endswith("…")


def test_nul_bytes_quotes_and_huge_lines_do_not_stop_an_import(
    connection: Connection, tmp_path: Path, product_header: list[str]
) -> None:
    lines = [
        product_line(product_header, PRODUCTNDC="66666-001", PROPRIETARYNAME="Nul\x00Name"),
        product_line(product_header, PRODUCTNDC="66666-002", PROPRIETARYNAME='5" "Quoted'),
        product_line(product_header, PRODUCTNDC="66666-003", PROPRIETARYNAME="Huge" * 100_000),
        "\t".join(["66666-004"] * 5000),
    ]
    report = import_formulary(connection, write(tmp_path / "p.txt", product_header, lines))
    assert report.products.inserted == 3
    assert [r.line for r in report.rejections] == [5]
    assert med(connection, "66666-001").name == "NulName"
    assert med(connection, "66666-002").name == '5" "Quoted'
    assert len(med(connection, "66666-003").name) == 300


def test_the_fda_zip_is_read_directly(
    connection: Connection, tmp_path: Path, current: Path
) -> None:
    archive = tmp_path / "ndctext.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(current / "product_trimmed.txt", "product.txt")
        zf.write(current / "package_trimmed.txt", "package.txt")
    report = import_formulary(connection, archive)
    assert report.products_file == "ndctext.zip:product.txt"
    assert report.packages_file == "ndctext.zip:package.txt"
    assert (report.products.inserted, report.packages.inserted) == (2, 1)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "nope.txt", "does not exist"),
        (lambda d: d, "is a folder"),
        (lambda d: _text(d / "empty.txt", ""), "is empty"),
        (lambda d: _text(d / "r.txt", "hello\tworld\n1\t2\n"), "not an FDA NDC products file"),
        (lambda d: _bytes(d / "z.zip", b"PK\x03\x04broken"), "damaged zip"),
    ],
    ids=["missing", "folder", "empty", "not-ndc", "bad-zip"],
)
def test_unreadable_files_fail_with_one_sentence(
    connection: Connection,
    tmp_path: Path,
    make,
    message: str,  # noqa: ANN001
) -> None:
    with pytest.raises(FormularyFileError, match=message):
        import_formulary(connection, make(tmp_path))


def _text(path: Path, content: str) -> Path:
    path.write_text(content)
    return path


def _bytes(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_a_failing_import_leaves_nothing_behind(
    connection: Connection, current: Path, tmp_path: Path
) -> None:
    bad_packages = _text(tmp_path / "package.txt", "not\ta\tpackage\tfile\n")
    with pytest.raises(FormularyFileError, match="not an FDA NDC packages file"):
        with connection.begin_nested():  # what the CLI's engine.begin() does for the whole run
            import_formulary(connection, current / "product_trimmed.txt", bad_packages)
    assert count(connection, Medication) == 0


def test_progress_is_reported_in_bytes(connection: Connection, current: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    import_formulary(
        connection,
        current / "product_trimmed.txt",
        current / "package_trimmed.txt",
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    stages = [s for s, _, _ in seen]
    assert stages.index("products") < stages.index("saving products") < stages.index("packages")
    size = (current / "product_trimmed.txt").stat().st_size
    assert ("products", size, size) in seen


def test_summary_lines_read_like_a_report(connection: Connection, current: Path) -> None:
    report: ImportReport = import_formulary(
        connection, current / "product_trimmed.txt", current / "package_trimmed.txt"
    )
    lines = report.summary_lines()
    assert lines[0].split() == ["read", "inserted", "updated", "unchanged", "rejected"]
    assert lines[1].split() == ["products", "3", "2", "0", "0", "1"]
    assert lines[2].split() == ["packages", "3", "1", "0", "0", "2"]
