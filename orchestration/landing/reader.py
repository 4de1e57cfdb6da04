"""Raw event files -> one stream of numbered lines, for one DuckDB query over all of them.

The event log is split into lines here, not by DuckDB's CSV reader: a JSON line may hold
any byte, and each line needs its number in its file (the quarantine names it; ties in
de-duplication fall back to it). Each file is read once (gzip inflated in C), its line
breaks found with NumPy, and its lines handed to DuckDB as an Arrow stream without a
Python object per line. The physical line count of each file is taken here,
independently of anything DuckDB decides about the lines, and is what "received" means.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

LINE_SCHEMA = pa.schema(
    [("file_id", pa.int32()), ("line", pa.int64()), ("text", pa.large_binary())]
)
BATCH_LINES = 500_000
NEWLINE, CARRIAGE_RETURN = 10, 13


@dataclass
class FileOutcome:
    """What reading one delivered file gave: its physical lines, or why it is unreadable."""

    relative: str
    lines: int = 0
    error: str | None = None


def read_bytes(path: Path) -> bytes:
    """A delivered file's bytes, inflated when it is gzip."""
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def split_lines(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, buffer): line i is buffer[offsets[i]:offsets[i + 1]], without its line end.

    A line ends at LF; a CR right before the LF belongs to the line end (a file written on
    Windows). A last line without LF is still a line; an empty file has none.
    """
    data_array = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(data_array == NEWLINE)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [data_array.size])).astype(np.int64)
    if data_array.size == 0 or (newlines.size and newlines[-1] == data_array.size - 1):
        starts, ends = starts[:-1], ends[:-1]  # nothing after the last LF: no extra line
    terminated = np.zeros(ends.size, dtype=bool)
    terminated[: newlines.size] = True
    before_end = np.maximum(ends - 1, 0)
    crlf = terminated & (ends > starts) & (data_array[before_end] == CARRIAGE_RETURN)
    ends = ends - crlf
    keep = np.ones(data_array.size, dtype=bool)
    keep[newlines] = False
    keep[ends[crlf]] = False
    buffer = data_array[keep] if newlines.size else data_array
    offsets = np.zeros(ends.size + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=offsets[1:])
    return offsets, buffer


def line_batches(
    file_id: int, offsets: np.ndarray, buffer: np.ndarray, batch_lines: int = BATCH_LINES
) -> Iterator[pa.RecordBatch]:
    """Arrow batches of (file_id, line, text) over one file's lines, numbered from 1."""
    count = offsets.size - 1
    if count <= 0:
        return
    texts = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(buffer)]
    )
    numbers = pa.array(np.arange(1, count + 1, dtype=np.int64))
    ids = pa.array(np.full(count, file_id, dtype=np.int32))
    for start in range(0, count, batch_lines):
        size = min(batch_lines, count - start)
        yield pa.RecordBatch.from_arrays(
            [ids.slice(start, size), numbers.slice(start, size), texts.slice(start, size)],
            schema=LINE_SCHEMA,
        )


class EventLineStream:
    """The lines of many event files as one Arrow stream, read one file at a time.

    `outcomes` fills in as DuckDB pulls the stream: read it after the query has run.
    """

    def __init__(self, files: list[tuple[str, Path]]) -> None:
        self.files = files
        self.outcomes: list[FileOutcome] = [FileOutcome(relative) for relative, _ in files]

    def _batches(self) -> Iterator[pa.RecordBatch]:
        for file_id, (_, path) in enumerate(self.files):
            outcome = self.outcomes[file_id]
            try:
                data = read_bytes(path)
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile):
                outcome.error = "not a readable (gzip) file: truncated or corrupt"
                continue
            offsets, buffer = split_lines(data)
            del data
            outcome.lines = offsets.size - 1
            yield from line_batches(file_id, offsets, buffer)

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(LINE_SCHEMA, self._batches())
