"""``medapp formulary import`` / ``search`` end to end, on a scratch database of their own."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from medapp.cli import _ProgressLine, main
from medapp.db import migrate
from medapp.db.engine import make_engine
from medapp.formulary.ndc import PackageNdc
from medapp.formulary.search import invalidate_vocabulary


@pytest.fixture
def db_url(scratch_url: str) -> str:
    engine = make_engine(scratch_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    invalidate_vocabulary()
    return scratch_url


@pytest.fixture(scope="module")
def current(shared_data: Path) -> Path:
    return shared_data / "formulary" / "fda-current-format"


def run(url: str, *args: str) -> int:
    return main(["--database-url", url, "formulary", *args])


def test_import_then_search(
    db_url: str, current: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rejects = tmp_path / "rejects.txt"
    code = run(
        db_url,
        "import",
        str(current / "product_trimmed.txt"),
        "--packages",
        str(current / "package_trimmed.txt"),
        "--rejects",
        str(rejects),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Imported product_trimmed.txt (FDA current)" in out
    assert "Rejected lines (3):" in out
    assert "product_trimmed.txt:3: DEASCHEDULE 'DEA'" in out
    assert len(rejects.read_text().splitlines()) == 3

    assert run(db_url, "search", "diluent", "--json") == 0
    results = json.loads(capsys.readouterr().out)
    assert isinstance(results, list) and len(results) == 1
    assert {"name", "generic_name", "strength", "dosage_form", "manufacturer", "ndc"} <= set(
        results[0]
    )
    assert results[0]["name"] == "Sterile Diluent"
    assert results[0]["ndc"] == "0002-0800"

    assert run(db_url, "search", "0002-0800-01") == 0
    assert "Sterile Diluent" in capsys.readouterr().out

    assert run(db_url, "search", "nothing like this", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []

    upc = PackageNdc("0002", "0800", "01").upc_a
    assert run(db_url, "search", upc) == 0
    assert "Sterile Diluent" in capsys.readouterr().out
    assert run(db_url, "search", upc[:-1] + str((int(upc[-1]) + 1) % 10)) == 0
    assert "check digit" in capsys.readouterr().out


def test_reimport_reports_unchanged(
    db_url: str, current: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("import", str(current / "annotation_product.txt"))
    assert run(db_url, *args) == 0
    capsys.readouterr()
    assert run(db_url, *args) == 0
    out = capsys.readouterr().out
    products = next(line for line in out.splitlines() if line.strip().startswith("products"))
    assert products.split() == ["products", "3", "0", "0", "3", "0"]


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("/no/such/product.txt", "The file /no/such/product.txt does not exist."),
        ("README", "is not an FDA NDC products file"),
    ],
)
def test_unusable_file_is_one_sentence_and_exit_2(
    db_url: str, shared_data: Path, capsys: pytest.CaptureFixture[str], file: str, message: str
) -> None:
    path = file if file.startswith("/") else str(shared_data / "README.md")
    assert run(db_url, "import", path) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("medapp: ") and message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


def test_progress_line_draws_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = _ProgressLine(tty)
    bar("products", 50, 100)
    bar("saving products", 0, 0)
    bar.done()
    assert "\rproducts" in tty.getvalue() and " 50%" in tty.getvalue()
    assert "saving products…" in tty.getvalue()

    plain = io.StringIO()
    quiet = _ProgressLine(plain)
    quiet("products", 50, 100)
    quiet.done()
    assert plain.getvalue() == ""
