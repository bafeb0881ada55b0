"""``medapp formulary import`` refuses what would damage the formulary: a file cut short (exit
2, the line named, nothing imported) and a ``--retire-missing`` that would retire more than
20 % of the active products (exit 2 unless ``--force``). Files are real FDA lines, cut in tmp."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from medapp.cli import main
from medapp.db import migrate
from medapp.db.engine import make_engine
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
def ndc_lines(shared_data: Path) -> list[bytes]:
    """Header + the first 1,000 products of the FDA 2015 products file, as raw lines."""
    with (shared_data / "formulary" / "fda-ndc-products-2015.tsv").open("rb") as fh:
        return [fh.readline() for _ in range(1001)]


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT count(*), count(*) FILTER (WHERE is_active) FROM medications")
            ).one()
    finally:
        engine.dispose()
    return int(row[0]), int(row[1])


def run(url: str, *args: str) -> int:
    return main(["--database-url", url, "formulary", "import", *args])


def test_a_file_cut_mid_line_is_refused_with_its_line_and_nothing_imported(
    db_url: str, ndc_lines: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    last = ndc_lines[500]
    cut = last[: last.index(b"\t", last.index(b"\t") + 1) + 4]  # two fields and a bit
    path = write(tmp_path / "product.txt", [*ndc_lines[:500], cut])
    assert run(db_url, str(path)) == 2
    err = capsys.readouterr().err
    assert "ends in the middle of line 501" in err and "cut short" in err
    assert "Nothing was imported" in err
    assert "Traceback" not in err
    assert counts(db_url) == (0, 0)

    # the same cut with a line end after it (a copy that stopped at a line break) too
    write(path, [*ndc_lines[:500], cut + b"\n"])
    assert run(db_url, str(path)) == 2
    assert counts(db_url) == (0, 0)

    # the whole excerpt imports
    assert run(db_url, str(write(path, ndc_lines[:501]))) == 0
    assert counts(db_url) == (500, 500)


def test_retire_missing_refuses_more_than_a_fifth_unless_forced(
    db_url: str, ndc_lines: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = write(tmp_path / "full.txt", ndc_lines)
    assert run(db_url, str(full)) == 0
    total, active = counts(db_url)
    assert total == active > 900  # a few real lines are rejected (e.g. repeated NDCs)
    capsys.readouterr()

    partial = write(tmp_path / "partial.txt", ndc_lines[:701])  # 30 % of the products missing
    assert run(db_url, str(partial), "--retire-missing") == 2
    err = capsys.readouterr().err
    assert "more than 20%" in err and "--force" in err and "Nothing was imported" in err
    assert counts(db_url) == (total, active)  # nothing retired, nothing changed

    assert run(db_url, str(partial), "--retire-missing", "--force") == 0
    out = capsys.readouterr().out
    assert "marked inactive" in out
    retired = active - counts(db_url)[1]
    assert 0.2 * active < retired < 0.4 * active

    # back to the full file, then a small cut (10 %) retires without --force
    assert run(db_url, str(full)) == 0
    assert run(db_url, str(write(tmp_path / "most.txt", ndc_lines[:901])), "--retire-missing") == 0
    assert 0 < active - counts(db_url)[1] <= 0.2 * active
