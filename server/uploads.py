"""The one bounded reader of uploaded tables (CSV and XLSX), used by every upload: opportunity
imports, intel uploads. A file is refused before it is parsed when its bytes, its unpacked size or
the dimension its sheet declares exceed the limits, and reading stops at the row limit, so a small
file that claims (or holds) millions of rows costs milliseconds, not the process.

Parsing a bounded file may still take a few hundred milliseconds of CPU: `read_table` runs it in a
real OS thread in the web process, so its event loop keeps answering meanwhile."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from server.config import Settings
from server.offload import off_loop

MAX_COLUMNS = 64  # no import has more columns; cells past this are not read
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?\"")


class UploadError(Exception):
    """code: too-large, too-many-rows, unreadable, encoding, empty."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message[:500]


@dataclass(frozen=True)
class Limits:
    max_rows: int  # data rows after the header
    max_bytes: int = 5 * 1024 * 1024
    max_uncompressed_bytes: int = 20 * 1024 * 1024
    max_cells: int = 200_000

    @classmethod
    def from_settings(cls, settings: Settings, *, max_rows: int) -> Limits:
        return cls(
            max_rows=max_rows,
            max_bytes=settings.UPLOAD_MAX_BYTES,
            max_uncompressed_bytes=settings.UPLOAD_MAX_UNCOMPRESSED_BYTES,
            max_cells=settings.UPLOAD_MAX_CELLS,
        )


def is_xlsx(filename: str, raw: bytes) -> bool:
    return filename.lower().endswith(".xlsx") or raw[:4] == b"PK\x03\x04"


def _column_number(letters: bytes | None) -> int:
    number = 0
    for ch in letters or b"A":
        number = number * 26 + (ch - 64)
    return number


def _too_many_rows(limits: Limits) -> UploadError:
    return UploadError("too-many-rows", f"At most {limits.max_rows} rows per file.")


def _check_archive(archive: zipfile.ZipFile, limits: Limits, *, cut: bool) -> None:
    # A member's declared size bounds what zipfile will unpack from it (it stops there and checks
    # the CRC), so the sum of declared sizes bounds the work, whatever the compression ratio.
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > limits.max_uncompressed_bytes:
        mb = limits.max_uncompressed_bytes // (1024 * 1024)
        raise UploadError("too-large", f"The workbook unpacks to more than {mb} MB.")
    for info in archive.infolist():
        if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename):
            continue
        with archive.open(info) as sheet:
            head = sheet.read(4096)
        found = _DIMENSION.search(head)
        if not found:
            continue
        first_col, first_row, last_col, last_row = found.groups()
        rows = int(last_row or first_row or 1)
        cols = _column_number(last_col or first_col)
        if rows - 1 > limits.max_rows and not cut:
            raise _too_many_rows(limits)
        if min(rows, limits.max_rows + 1) * min(cols, MAX_COLUMNS) > limits.max_cells:
            raise UploadError("too-large", f"The sheet declares more than {limits.max_cells} cells.")


def _first_sheet_rows(raw: bytes) -> Iterator[list[Any]]:
    """Rows of the first worksheet, streamed, as openpyxl reads them (shared strings, dates by
    number format, data only). openpyxl's own read-only worksheet scans the whole sheet on opening
    when the sheet declares no dimension, and pads to whatever dimension it declares; this reads
    the workbook's parts through openpyxl's reader and the sheet row by row, and nothing more."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._reader import WorkSheetParser

    reader = ExcelReader(io.BytesIO(raw), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    target = next(
        (rel.target for _sheet, rel in reader.parser.find_sheets() if "worksheet" in rel.Type), None
    )
    if target is None:
        raise UploadError("unreadable", "The workbook has no worksheet.")
    with reader.archive.open(target) as source:
        parser = WorkSheetParser(
            source,
            reader.shared_strings,
            data_only=True,
            epoch=reader.wb.epoch,
            date_formats=reader.wb._date_formats,
            timedelta_formats=reader.wb._timedelta_formats,
        )
        for _index, cells in parser.parse():
            row: list[Any] = []
            for cell in cells:
                column = cell["column"]
                if column > MAX_COLUMNS:
                    continue
                row.extend([None] * (column - 1 - len(row)))
                if column - 1 < len(row):
                    row[column - 1] = cell["value"]
                else:
                    row.append(cell["value"])
            yield row
    reader.archive.close()


def _read_xlsx(raw: bytes, limits: Limits, *, cut: bool = False) -> list[list[Any]]:
    rows: list[list[Any]] = []
    cells = 0
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            _check_archive(archive, limits, cut=cut)
        for row in _first_sheet_rows(raw):
            while row and row[-1] in (None, ""):
                row.pop()
            if not row:
                continue  # a blank row: only rows the sheet holds are read, so gaps cost nothing
            rows.append(row)
            cells += len(row)
            if cells > limits.max_cells:
                raise UploadError("too-large", f"The sheet holds more than {limits.max_cells} cells.")
            if len(rows) > limits.max_rows + 1:
                break  # one past the limit is enough to know
    except UploadError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a broken file
        raise UploadError(
            "unreadable", f"This is not a readable .xlsx file ({type(exc).__name__})."
        ) from None
    return rows


def decode_text(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadError("encoding", "The CSV is neither UTF-8 nor GB18030.")


def _read_csv(raw: bytes, limits: Limits, *, sniff: bool) -> list[list[Any]]:
    text = decode_text(raw)
    if "\x00" in text:
        raise UploadError("unreadable", "The CSV holds binary data.")
    dialect: Any = csv.excel
    if sniff:  # feeds from outside use `;` or tabs too; the bank's own templates are plain CSV
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            pass
    rows: list[list[Any]] = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(text), dialect=dialect):
            if not any(v.strip() for v in row):
                continue
            rows.append(row[:MAX_COLUMNS])
            cells += min(len(row), MAX_COLUMNS)
            if cells > limits.max_cells:
                raise UploadError("too-large", f"The file holds more than {limits.max_cells} cells.")
            if len(rows) > limits.max_rows + 1:
                break  # one past the limit is enough to know
    except csv.Error as exc:
        raise UploadError("unreadable", f"Bad CSV: {exc}") from None
    return rows


def _read_table(raw: bytes, filename: str, limits: Limits, sniff: bool, cut: bool) -> list[list[Any]]:
    if len(raw) > limits.max_bytes:
        raise UploadError("too-large", f"The file is larger than {limits.max_bytes // (1024 * 1024)} MB.")
    rows = _read_xlsx(raw, limits, cut=cut) if is_xlsx(filename, raw) else _read_csv(raw, limits, sniff=sniff)
    rows = [r for r in rows if any(v not in (None, "") for v in r)]
    if not rows:
        raise UploadError("empty", "The file is empty.")
    if len(rows) - 1 > limits.max_rows:
        if not cut:
            raise _too_many_rows(limits)
        rows = rows[: limits.max_rows + 1]
    return rows


def read_table(
    raw: bytes, *, filename: str, limits: Limits, sniff: bool = False, cut: bool = False
) -> list[list[Any]]:
    """The first sheet (or the CSV) as rows of cell values, blank rows dropped, header first.
    Past `limits.max_rows` the file is refused, or with `cut` only its first rows are kept. Raises
    UploadError; never reads past the limits; never holds up the event loop (server/offload.py)."""
    return off_loop(_read_table, raw, filename, limits, sniff, cut)
