"""Search over the real 2015 FDA formulary (44,261 products, 103,796 packages).

The files are imported once per module into a transaction that is rolled back at the end;
each test works in a savepoint of it. The nurse-query table below is the acceptance measure:
its hit@5 (expected product among the first five results) is printed and must stay ≥ 90 %.
"""

from __future__ import annotations

import statistics
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from medapp.formulary.importer import ImportReport, import_formulary
from medapp.formulary.ndc import PackageNdc
from medapp.formulary.text import ACCENTED, KEY_FROM, search_key
from medapp.services.search import (
    DuplicateNdcError,
    MedicationEntryError,
    MedicationHit,
    add_medication,
    autocomplete,
    group_members,
    invalidate_vocabulary,
    lookup_ndc,
    search_medications,
)

EPIPEN_CARTON = PackageNdc("49502", "500", "01")  # EPIPEN, Mylan Specialty, 49502-500


@pytest.fixture(scope="module")
def formulary(engine: Engine, shared_data: Path) -> Iterator[tuple[Connection, ImportReport]]:
    folder = shared_data / "formulary"
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            report = import_formulary(
                conn,
                folder / "fda-ndc-products-2015.tsv",
                folder / "fda-ndc-packages-2015.tsv",
            )
            conn.execute(text("ANALYZE medications"))
            conn.execute(text("ANALYZE medication_packages"))
            invalidate_vocabulary()
            yield conn, report
        finally:
            trans.rollback()
            invalidate_vocabulary()


@pytest.fixture
def s(formulary: tuple[Connection, ImportReport]) -> Iterator[Session]:
    """A session in a savepoint of the imported formulary (rolled back after each test)."""
    with Session(bind=formulary[0], join_transaction_mode="create_savepoint") as sess:
        yield sess


def blob(hit: MedicationHit) -> str:
    return search_key(f"{hit.name} {hit.generic_name or ''} {hit.strength} {hit.dosage_form}")


def matches(hit: MedicationHit, expected: str) -> bool:
    """Every expected word starts a word of the hit's name, generic, strength or form."""
    words = blob(hit).split()
    return all(any(w.startswith(e) for w in words) for e in expected.split())


# --- the import itself ----------------------------------------------------------------------


def test_the_whole_2015_formulary_imports(formulary: tuple[Connection, ImportReport]) -> None:
    conn, report = formulary
    print(f"\n2015 import: {report.seconds:.1f} s; " + " | ".join(report.summary_lines()[1:3]))
    assert report.products.read == 44_261
    assert report.packages.read == 103_796
    # Real-file oddities, each rejected with its line: letters in NDCs, one product listed
    # under two NDC formats with the same 11-digit packages, packages of a missing product.
    assert report.products.rejected == 2
    assert report.products.inserted == 44_259
    assert report.packages.rejected == 16
    assert report.packages.inserted == 103_780
    assert report.seconds < 60
    assert conn.execute(text("SELECT count(*) FROM medications")).scalar_one() == 44_259


# --- what nurses type: hit@5 ----------------------------------------------------------------

# (query, words that must all appear in one of the first five results: name, generic name,
# strength and form, as search keys). Brands, generics, prefixes, multi-word, misspellings,
# accents, nurse words for forms, and NDCs in every printed or scanned form.
NURSE_QUERIES: list[tuple[str, str]] = [
    ("adderall", "adderall"),
    ("Adderall", "adderall dextroamphetamine"),
    ("adderal", "adderall"),
    ("EpiPen", "epipen epinephrine"),
    ("epipen jr", "epipen jr"),
    ("epi pen", "epipen"),
    ("Auvi-Q", "auvi q epinephrine"),
    ("methylphenidate", "methylphenidate"),
    ("methylphen", "methylphenidate"),
    ("methylphenadate", "methylphenidate"),
    ("ritalin", "ritalin methylphenidate"),
    ("ritilin", "ritalin"),
    ("concerta", "concerta"),
    ("concerta 36", "concerta 36 mg"),
    ("focalin", "focalin dexmethylphenidate"),
    ("vyvanse", "vyvanse"),
    ("strattera", "strattera atomoxetine"),
    ("atomoxetine", "atomoxetine"),
    ("intuniv", "intuniv guanfacine"),
    ("guanfacine", "guanfacine"),
    ("clonodine", "clonidine"),
    ("insulin lispro", "insulin lispro"),
    ("humalog", "humalog lispro"),
    ("novolog", "novolog aspart"),
    ("lantus", "lantus glargine"),
    ("insulin glargine", "glargine"),
    ("glucagon", "glucagon"),
    ("diastat", "diastat diazepam"),
    ("diazepam", "diazepam"),
    ("amoxicillin", "amoxicillin"),
    ("amoxicilin", "amoxicillin"),
    ("amox", "amoxicillin"),
    ("amoxicillin 500", "amoxicillin 500 mg"),
    ("amoxicillin liquid", "amoxicillin suspension"),
    ("augmentin", "augmentin clavulanate"),
    ("azithromycin", "azithromycin"),
    ("zithromax", "zithromax azithromycin"),
    ("cephalexin", "cephalexin"),
    ("cefalexin", "cephalexin"),
    ("keflex", "keflex cephalexin"),
    ("sertraline", "sertraline"),
    ("sertaline", "sertraline"),
    ("zoloft", "zoloft sertraline"),
    ("singulair", "singulair montelukast"),
    ("singular", "singulair"),
    ("montelukast", "montelukast"),
    ("albuterol", "albuterol"),
    ("albuterol inhaler", "albuterol aerosol"),
    ("albuteral", "albuterol"),
    ("proair", "proair"),
    ("ventolin", "ventolin albuterol"),
    ("xopenex", "xopenex levalbuterol"),
    ("flovent", "flovent fluticasone"),
    ("qvar", "qvar beclomethasone"),
    ("prednisone", "prednisone"),
    ("predisone", "prednisone"),
    ("prednisone 20", "prednisone 20 mg"),
    ("prednisolone", "prednisolone"),
    ("orapred", "orapred prednisolone"),
    ("ondansetron", "ondansetron"),
    ("zofran", "zofran ondansetron"),
    ("acetaminophen codeine", "acetaminophen codeine"),
    ("acetaminophine", "acetaminophen"),
    ("Tylénol", "tylenol codeine"),
    ("TYLENOL WITH CODEINE", "tylenol codeine"),
    ("ibuprofen", "ibuprofen"),
    ("ibuprophen", "ibuprofen"),
    ("cetirizine", "cetirizine"),
    ("diphenhydramine", "diphenhydramine"),
    ("lamictal", "lamictal lamotrigine"),
    ("lamotrigine", "lamotrigine"),
    ("keppra", "keppra levetiracetam"),
    ("levetiracetam", "levetiracetam"),
    ("depakote", "depakote"),
    ("dilantin", "dilantin phenytoin"),
    ("fluoxetine", "fluoxetine"),
    ("prozac", "prozac fluoxetine"),
    ("mylan epinephrine", "epinephrine"),
    ("epinephrine auto injector", "epinephrine injection"),
    ("ritalin la", "ritalin"),
    ("focalin xr", "focalin extended"),
    ("concerta 18 mg", "concerta 18 mg"),
    ("mixed amphetamine salts", "amphetamine"),
    ("lisdexamfetamine", "vyvanse lisdexamfetamine"),
    ("tenex", "tenex guanfacine"),
    ("kapvay", "kapvay clonidine"),
    ("humalog kwikpen", "humalog"),
    ("glucagon emergency kit", "glucagon kit"),
    ("diastat acudial", "diastat"),
    ("proair hfa", "proair"),
    ("ventolin hfa", "ventolin"),
    ("albuterol nebulizer", "albuterol solution"),
    ("amoxicillin 400 mg/5 ml", "amoxicillin 400 mg 5 ml"),
    ("amoxicillin 250mg", "amoxicillin 250 mg"),
    ("prednisolone oral solution", "prednisolone solution"),
    ("ondansetron odt", "ondansetron disintegrating"),
    ("lamotrigine chewable", "lamotrigine chewable"),
    ("keppra liquid", "keppra solution"),
    ("depakote sprinkle", "depakote"),
    ("hydrocortisone cream", "hydrocortisone cream"),
    ("mupirocin ointment", "mupirocin ointment"),
    ("ofloxacin otic", "ofloxacin"),
    ("tylenol 3", "tylenol codeine"),
    # NDCs: product with/without dashes, package 10/11-digit and dashed, scanned barcodes.
    ("49502-500", "epipen"),
    ("495020500", "epipen"),
    ("49502-500-01", "epipen"),
    ("4950250001", "epipen"),
    ("49502050001", "epipen"),
    ("49502-0500-01", "epipen"),
    (EPIPEN_CARTON.upc_a, "epipen"),
    ("0" + EPIPEN_CARTON.upc_a, "epipen"),
    ("NDC 0002-1407-01", "quinidine"),
]


def test_nurse_queries_hit_in_the_top_five(s: Session) -> None:
    misses: list[str] = []
    ranks: list[int] = []
    for query, expected in NURSE_QUERIES:
        page = search_medications(s, query, limit=5)
        rank = next((i for i, hit in enumerate(page.items, 1) if matches(hit, expected)), 0)
        ranks.append(rank)
        if not rank:
            shown = "; ".join(f"{h.name} {h.strength}" for h in page.items[:3]) or "nothing"
            misses.append(f"{query!r} ({page.query_kind}): {shown}")
    hits = sum(1 for r in ranks if r)
    first = sum(1 for r in ranks if r == 1)
    print(
        f"\nnurse queries: {len(ranks)}; hit@5 {hits}/{len(ranks)} = {hits / len(ranks):.1%}; "
        f"hit@1 {first}/{len(ranks)} = {first / len(ranks):.1%}"
    )
    for miss in misses:
        print(f"  miss: {miss}")
    assert len(NURSE_QUERIES) >= 40
    assert hits / len(ranks) >= 0.9, misses


# --- ranking and grouping -------------------------------------------------------------------


def test_exact_name_comes_first_then_prefixes(s: Session) -> None:
    page = search_medications(s, "adderall")
    assert page.query_kind == "text"
    assert page.items[0].name == "Adderall"
    tiers = [search_key(h.name) == "adderall" for h in page.items]
    assert tiers == sorted(tiers, reverse=True)  # all exact names before anything else


def test_brand_before_generic_mentions(s: Session) -> None:
    page = search_medications(s, "ritalin")
    assert {search_key(h.name) for h in page.items} == {"ritalin"}
    page = search_medications(s, "methylphenidate", limit=100)
    names = [search_key(h.name) for h in page.items]
    brands = [i for i, n in enumerate(names) if not n.startswith("methylphenidate")]
    generics = [i for i, n in enumerate(names) if n.startswith("methylphenidate")]
    assert generics and brands and max(generics) < min(brands)  # Ritalin, Concerta… after


def test_repackagers_are_grouped(s: Session) -> None:
    page = search_medications(s, "amoxicillin", limit=25)
    keys = [(search_key(h.name), h.strength, h.dosage_form) for h in page.items]
    assert len(keys) == len(set(keys))  # distinct name/strength/form on the first page
    capsule = next(h for h in page.items if (h.strength, h.dosage_form) == ("500 mg", "CAPSULE"))
    assert capsule.group_size >= 20  # the same capsule from dozens of labelers, shown once
    members = group_members(s, capsule)
    assert len(members) == capsule.group_size
    assert {(m.strength, m.dosage_form) for m in members} == {("500 mg", "CAPSULE")}
    assert len({m.manufacturer for m in members}) > 10


def test_pagination_and_total(s: Session) -> None:
    first = search_medications(s, "amoxicillin", limit=10)
    second = search_medications(s, "amoxicillin", limit=10, offset=10)
    everything = search_medications(s, "amoxicillin", limit=200)
    assert first.total == second.total == everything.total > 20
    assert first.has_more
    assert [h.id for h in first.items + second.items] == [h.id for h in everything.items[:20]]
    beyond = search_medications(s, "amoxicillin", limit=10, offset=first.total + 5)
    assert beyond.items == () and beyond.total == first.total and not beyond.has_more
    assert len(search_medications(s, "a", limit=10_000).items) <= 200  # clamped


def test_case_and_accents_do_not_matter(s: Session) -> None:
    variants = ["tylenol", "TYLENOL", "Tylénol", "TYLÉNOL", "tylénol", "Tÿlënõl"]
    results = [[h.id for h in search_medications(s, q).items] for q in variants]
    assert results[0] and all(r == results[0] for r in results)

    add_medication(s, name="Tylénol Enfant", dosage_form="SUSPENSION", strength="160 mg/5 mL")
    assert search_medications(s, "tylenol enfant").items[0].name == "Tylénol Enfant"
    assert search_medications(s, "TYLÉNOL ENF").items[0].name == "Tylénol Enfant"


def test_sql_and_python_search_keys_agree(s: Session) -> None:
    samples = [
        "Tylénol® with Codeine #3",
        "  ÉPIPEN  Jr.  ",
        "Insulin-Lispro (rDNA) 100 [iU]/mL",
        "naïve café Ōmega ſ İstanbul",
        "Straße æther Ø ½ ™ 汉字 😀",
        ACCENTED,
        KEY_FROM,
        unicodedata.normalize("NFC", "Bu\u0301ho"),
        "%_';--&|!:*()<->\\",
        "",
    ]
    for sample in samples:
        sql = s.execute(text("SELECT medapp_search_key(:v)"), {"v": sample}).scalar_one()
        assert sql == search_key(sample), sample


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=40)
)
def test_sql_and_python_search_keys_agree_on_any_text(s: Session, value: str) -> None:
    sql = s.execute(text("SELECT medapp_search_key(:v)"), {"v": value}).scalar_one()
    assert sql == search_key(value)


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "   ",
        "'",
        '"',
        "%",
        "_",
        "%%__",
        "\\",
        "a & b | !c",
        "amox:* & !",
        "<->",
        "'); DROP TABLE medications; --",
        "x" * 500,
        "amoxicillin " * 60,
        "\x00",
        "amox\x00icillin",
        "\ud800amox",  # a lone surrogate (cannot even be sent to the server)
        "😀💊",
        "ndc",
        "---",
        "0" * 40,
        "1-1-1-1-1",
    ],
)
def test_hostile_input_never_errors(s: Session, hostile: str) -> None:
    page = search_medications(s, hostile)
    assert page.query_kind in ("ndc", "text", "fuzzy", "empty")
    assert autocomplete(s, hostile) is not None
    assert lookup_ndc(s, hostile) is None or isinstance(lookup_ndc(s, hostile), MedicationHit)
    s.execute(text("SELECT 1"))  # the transaction is still usable


def test_misspelling_reports_the_correction(s: Session) -> None:
    page = search_medications(s, "sertaline")
    assert page.query_kind == "fuzzy" and page.corrected == "sertraline"
    assert page.items[0].name.lower().startswith("sertraline")
    assert search_medications(s, "zzzzqqqq").total == 0


# --- NDCs and barcodes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "49502-500",
        "49502500",
        "495020500",
        "49502-500-01",
        "4950250001",
        "49502050001",
        "49502-0500-01",
        "NDC 49502-500-01",
        EPIPEN_CARTON.upc_a,
        "0" + EPIPEN_CARTON.upc_a,
    ],
)
def test_every_form_of_an_ndc_finds_the_product_first(s: Session, code: str) -> None:
    page = search_medications(s, code)
    assert page.query_kind == "ndc"
    assert page.items[0].ndc == "49502-500"
    assert page.items[0].name == "EPIPEN"
    hit = lookup_ndc(s, code)
    assert hit is not None and hit.ndc == "49502-500"


def test_package_codes_name_the_package(s: Session) -> None:
    hit = lookup_ndc(s, EPIPEN_CARTON.upc_a)
    assert hit is not None and hit.package_ndc == "49502-500-01"
    assert hit.package_description is not None and "SYRINGE" in hit.package_description


def test_bad_barcode_says_why(s: Session) -> None:
    code = EPIPEN_CARTON.upc_a
    bad = code[:-1] + str((int(code[-1]) + 1) % 10)
    page = search_medications(s, bad)
    assert page.items == () and page.query_kind == "ndc"
    assert page.message is not None and "check digit" in page.message
    assert lookup_ndc(s, bad) is None


def test_partial_ndc_lists_a_labelers_products(s: Session) -> None:
    page = search_medications(s, "49502")
    assert page.query_kind == "ndc" and page.total > 1
    assert all((h.ndc or "").replace("-", "").startswith("49502") for h in page.items)


def test_a_package_missing_from_the_packages_table_still_finds_its_product(s: Session) -> None:
    # 49502-500-99 is not a real package; its product part 49502-500 is.
    hit = lookup_ndc(s, "49502-500-99")
    assert hit is not None and hit.ndc == "49502-500" and hit.package_ndc is None


# --- autocomplete ---------------------------------------------------------------------------


def test_autocomplete(s: Session) -> None:
    assert autocomplete(s, "a") == []
    assert autocomplete(s, "49") == []
    names = [x.text for x in autocomplete(s, "amox")]
    assert names[0].lower() == "amoxicillin"  # the most common name first
    assert len(autocomplete(s, "am")) == 10
    assert len(autocomplete(s, "am", limit=3)) == 3
    methyl = autocomplete(s, "methylphen")
    assert methyl[0].text.lower().startswith("methylphenidate")
    assert any(x.kind == "generic" for x in autocomplete(s, "insulin"))
    exact = autocomplete(s, "ritalin")
    assert exact[0].text == "Ritalin"


# --- hand-added medications -----------------------------------------------------------------


def test_add_an_otc_medication_without_ndc(s: Session) -> None:
    hit = add_medication(
        s, name="Ibuprofen (OTC)", generic_name="ibuprofen", dosage_form="TABLET", strength="200 mg"
    )
    assert hit.ndc is None and hit.is_otc
    found = search_medications(s, "ibuprofen otc")
    assert found.items[0].id == hit.id


def test_add_with_a_package_ndc_makes_the_box_scannable(s: Session) -> None:
    box = PackageNdc("50580", "488", "02")
    hit = add_medication(
        s, name="Tylenol Children's", dosage_form="SUSPENSION", ndc=f"NDC {box.dashed}"
    )
    assert (hit.ndc, hit.package_ndc) == ("50580-488", "50580-488-02")
    scanned = lookup_ndc(s, box.upc_a)
    assert scanned is not None and scanned.id == hit.id


@pytest.mark.parametrize(
    "ndc",
    ["49502-500", "49502-0500", "49502-500-01", "49502-500-77"],
    ids=["same", "padded", "package", "other-package-same-product"],
)
def test_an_ndc_already_in_the_formulary_is_refused(s: Session, ndc: str) -> None:
    with pytest.raises(DuplicateNdcError, match="already in the formulary") as caught:
        add_medication(s, name="My EpiPen", dosage_form="INJECTION", ndc=ndc)
    assert caught.value.existing_name == "EPIPEN"
    assert caught.value.field == "ndc"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (dict(ndc="1234-56"), "ndc", "not valid"),
        (dict(ndc="4950250001"), "ndc", "with its dashes"),
        (dict(ndc="hello"), "ndc", "with its dashes"),
        (dict(name="  "), "name", "name is required"),
        (dict(dosage_form=""), "dosage_form", "dosage form is required"),
        (dict(dea_schedule="C6"), "dea_schedule", "DEA schedule"),
        (dict(name="x" * 301), "name", "longer than 300"),
        (dict(name="Bad\ud800"), "name", "cannot be stored"),
        (dict(manufacturer="Nul\x00"), "manufacturer", "cannot be stored"),
    ],
)
def test_hand_entry_is_validated(s: Session, fields: dict, field: str, message: str) -> None:  # type: ignore[type-arg]
    values = dict(name="Thing", dosage_form="TABLET") | fields
    with pytest.raises(MedicationEntryError, match=message) as caught:
        add_medication(s, **values)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_a_scheduled_hand_entry_is_controlled(s: Session) -> None:
    hit = add_medication(s, name="Test Stimulant", dosage_form="TABLET", dea_schedule="C-II")
    assert (hit.dea_schedule, hit.is_controlled) == ("CII", True)


# --- latency (informative; the benchmark targets are checked on a committed database) ------


def test_search_latency_on_the_real_formulary(s: Session) -> None:
    queries = [q for q, _ in NURSE_QUERIES]
    search_medications(s, "sertaline")  # builds the typo vocabulary once
    timings = []
    for q in queries * 2:
        started = time.perf_counter()
        search_medications(s, q)
        timings.append((time.perf_counter() - started) * 1000)
    prefixes = [q[:n] for q in queries if not q[0].isdigit() for n in (2, 3, 5)]
    ac = []
    for p in prefixes:
        started = time.perf_counter()
        autocomplete(s, p)
        ac.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(timings, n=20)[18]
    ac95 = statistics.quantiles(ac, n=20)[18]
    print(
        f"\nsearch p50 {statistics.median(timings):.1f} ms p95 {p95:.1f} ms; "
        f"autocomplete p50 {statistics.median(ac):.1f} ms p95 {ac95:.1f} ms"
    )
    assert p95 < 250 and ac95 < 250  # only catches pathologies (a seq scan per keystroke…)
