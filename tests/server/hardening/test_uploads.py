"""The shared bounded reader of uploads: refused before parsing when the file, its unpacked size or
its declared dimension is too large; reading stops at the row limit; gaps are bounded."""

from __future__ import annotations

import base64
import time

import openpyxl  # noqa: F401  (imported once here, so timings measure reading, not importing)
import pytest

from server.uploads import Limits, UploadError, read_table
from tests import factories
from tests.xlsx_bombs import one_cell_rows, title_row, xlsx

LIMITS = Limits(max_rows=2000)


def _refused(raw: bytes, code: str, *, filename: str = "f.xlsx", limits: Limits = LIMITS) -> float:
    started = time.perf_counter()
    with pytest.raises(UploadError) as caught:
        read_table(raw, filename=filename, limits=limits)
    assert caught.value.code == code, caught.value.message
    return time.perf_counter() - started


def test_two_million_row_bomb_is_refused_in_milliseconds():
    bomb = xlsx(one_cell_rows(2_000_000))
    assert len(bomb) < 200_000
    assert _refused(bomb, "too-large") < 0.5  # unpacks to ~50 MB: refused before parsing


def test_declared_dimension_is_checked_before_parsing():
    bomb = xlsx(one_cell_rows(10), dimension="A1:A2000000")
    assert _refused(bomb, "too-many-rows") < 0.5
    small = Limits(max_rows=2000, max_cells=10_000)
    wide = xlsx(one_cell_rows(10), dimension="A1:XFD1500")  # 1,500 rows x 64 columns read at most
    assert _refused(wide, "too-large", limits=small) < 0.5
    started = time.perf_counter()  # a wide declaration within the cells: read, and only 64 columns
    assert (
        len(read_table(xlsx(one_cell_rows(10), dimension="A1:XFD11"), filename="f.xlsx", limits=LIMITS)) == 11
    )
    assert time.perf_counter() - started < 0.5


def test_reading_stops_at_the_row_limit_under_the_size_cap():
    many = xlsx(one_cell_rows(300_000))  # ~8 MB unpacked, no dimension: the row limit stops it
    just_over = xlsx(one_cell_rows(3_000))
    # Measured against a file just over the limit in the same moment, so a busy machine slows both:
    # reading all 300,000 rows would take ~100 times as long as stopping at row 2,001.
    best = min(_refused(just_over, "too-many-rows") for _ in range(3))
    assert min(_refused(many, "too-many-rows") for _ in range(3)) < 5 * best + 0.05


def test_gaps_between_rows_cost_nothing():
    gap = xlsx(
        title_row() + b'<row r="900000"><c r="XFD900000"><v>1</v></c><c r="B900000"><v>2</v></c></row>'
    )
    started = time.perf_counter()
    assert read_table(gap, filename="f.xlsx", limits=LIMITS) == [["title"], [None, 2]]
    assert time.perf_counter() - started < 0.5


def test_csv_limits():
    assert _refused(b"title\n" + b"x\n" * 2_500, "too-many-rows", filename="f.csv") < 0.5
    assert _refused(b"a" * (6 * 1024 * 1024), "too-large", filename="f.csv") < 0.5
    rows = read_table(b"title\n\n\nx\n\n", filename="f.csv", limits=LIMITS)
    assert rows == [["title"], ["x"]]


def test_a_legal_file_reads_whole():
    rows = read_table(xlsx(one_cell_rows(2000)), filename="f.xlsx", limits=LIMITS)
    assert len(rows) == 2001 and rows[0] == ["title"] and rows[-1] == [1]
    assert read_table(b"title\n" + b"x\n" * 2000, filename="f.csv", limits=LIMITS)[-1] == ["x"]


def test_opportunity_import_refuses_the_bomb_fast(login, db_session):
    api = login(factories.make_user(db_session))
    content = base64.b64encode(xlsx(one_cell_rows(2_000_000))).decode()
    started = time.perf_counter()
    response = api.post(
        "/api/v1/opportunities/import", json={"filename": "bomb.xlsx", "content_base64": content}
    )
    assert response.status_code == 422 and response.get_json()["code"] == "bad-file"
    assert time.perf_counter() - started < 1.0
    content = base64.b64encode(xlsx(one_cell_rows(2001))).decode()
    response = api.post(
        "/api/v1/opportunities/import", json={"filename": "long.xlsx", "content_base64": content}
    )
    assert response.status_code == 422 and "2000" in response.get_json()["detail"]
