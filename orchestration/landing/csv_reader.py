"""Delivered CSV files (database exports, reference sheets): their header, and what each
delivered, counted without the CSV reader that loads them, and the quarantine reason of
each kind of record DuckDB's reader rejects. The twin of reader.py, which counts the lines
of event files.

A "line" is the physical line on which a record starts (the header is line 1). Every
record (a quoted field may hold line breaks) and every empty line (which DuckDB's reader
skips without a word) is counted here: that is what "received" means for a CSV source,
whatever DuckDB later reads or rejects.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from pathlib import Path

from orchestration.landing.deliveries import delivery_key
from orchestration.landing.specs import TableSpec

# What DuckDB's CSV reader reports for a record it cannot read -> the quarantine reason.
READER_REASONS = {
    "INVALID ENCODING": "invalid_utf8",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
    "TOO MANY COLUMNS": "too_many_fields",
    "MISSING COLUMNS": "too_few_fields",
    "UNQUOTED VALUE": "malformed_csv_row",
    "INVALID STATE": "malformed_csv_row",
    "CAST": "malformed_csv_row",
}


def read_header(data: bytes) -> list[str]:
    """The header row of a CSV file's bytes; [] for an empty file."""
    # Only the header line is decoded here: a row with bytes that are not UTF-8 further down
    # is the reader's to quarantine (invalid_utf8), not a reason to reject the whole file.
    # utf-8-sig: a sheet saved by a spreadsheet program starts with a byte-order mark.
    first = data.split(b"\n", 1)[0].decode("utf-8-sig")
    if not first.strip():
        return []
    return [name.strip() for name in next(csv.reader(io.StringIO(first)))]


QUOTE, COMMA = ord('"'), ord(",")


def _still_quoted(line: bytes, quoted: bool) -> bool:
    """Whether a quoted field is still open at the end of `line` (RFC 4180: a quote opens
    a field only at its start, and "" inside one is a quote)."""
    at_field_start = not quoted
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if quoted:
            if char == QUOTE:
                if i + 1 < n and line[i + 1] == QUOTE:
                    i += 2
                    continue
                quoted = False
        elif char == COMMA:
            at_field_start = True
            i += 1
            continue
        elif char == QUOTE and at_field_start:
            quoted = True
        at_field_start = False
        i += 1
    return quoted


# A line ends at CRLF, LF or a lone CR, as DuckDB's CSV reader ends one: a lone CR outside
# a quoted field (an old Mac line break, or text pasted unquoted) starts a new record.
LINE_BREAK = re.compile(rb"\r\n|\n|\r")


def record_lines(data: bytes) -> tuple[list[int], list[int]]:
    """The physical line on which each record after the header starts, and the empty lines
    (outside quoted fields) that hold no record: what the file delivered, counted without
    the CSV reader that loads it."""
    lines = LINE_BREAK.split(data)
    if lines and lines[-1] == b"":
        lines.pop()  # the final line break ends the last line, it starts none
    starts: list[int] = []
    empty: list[int] = []
    quoted = False
    for number, line in enumerate(lines, start=1):
        if not quoted and number > 1:
            if not line:
                empty.append(number)
                continue
            starts.append(number)
        if quoted or QUOTE in line:
            quoted = _still_quoted(line, quoted)
    return starts, empty


class CsvFile:
    """One delivered CSV file: where it is, what its header says, what it lacks."""

    def __init__(self, spec: TableSpec, path: Path, relative: str) -> None:
        self.path, self.relative = path, relative
        self.delivery = delivery_key(relative)
        self.file_date = path.name.split(".")[0] if spec.partitioned else None
        self.error: str | None = None
        self.header: list[str] = []
        self.record_lines: list[int] = []
        self.empty_lines: list[int] = []
        try:
            data = path.read_bytes()  # read once: the header, then every record's line
            if path.name.endswith(".gz"):
                data = gzip.decompress(data)
            self.header = read_header(data)
            self.record_lines, self.empty_lines = record_lines(data)
        except (OSError, EOFError, UnicodeDecodeError, zlib.error, csv.Error) as error:
            self.error = f"unreadable: {error}"
        self.missing = [column for column in spec.columns if column not in self.header]
        self.extra = [column for column in self.header if column not in spec.columns]
