"""The journal of a batch run: the output being written, resumed after an interruption, then put in place.

Rows are appended, in input order, to ``OUT.partial.csv`` next to the
output, with the task's signature in ``OUT.partial.json``.  When every input
is accounted for the journal is fsynced and renamed onto the output (Parquet
outputs are converted first), so a finished output is always complete.  An
interrupted run leaves the journal behind and the same command resumes from
it; because rows are written in input order and floats as their shortest
round-trip ``repr``, the resumed output is byte-identical to an
uninterrupted one.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from pathlib import Path
from typing import Iterator, Sequence

from pipeline.atomic import atomic_write
from pipeline.run.inputs import Item
from pipeline.run.tasks import ITEM_COLUMNS, Row, Task
from texture.errors import ConfigError

__all__ = ["OUTPUT_SUFFIXES", "check_output", "Journal"]

OUTPUT_SUFFIXES = (".csv", ".parquet")
# File names need not be valid UTF-8 (POSIX names are bytes; Python decodes
# the others with surrogate escapes): write them back as the same bytes.
_TEXT = {"newline": "", "encoding": "utf-8", "errors": "surrogateescape"}


def check_output(output: Path) -> None:
    """Refuse an output the journal cannot produce, before any work is done."""
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"{output}: output must end in .csv or .parquet")
    if output.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            from pipeline.extras import install_hint

            raise ConfigError(f"Parquet output needs pyarrow: {install_hint('parquet')}") from None


class Journal:
    """The rows of a run's output, written as they come and put in place at the end.

    Parameters
    ----------
    output : pathlib.Path
        ``.csv`` or ``.parquet``.
    task : Task
        Gives the header, and the signature that a resumed journal must carry.
    """

    def __init__(self, output: Path, task: Task):
        self.output, self.task = output, task
        self.path = output.with_name(output.name + ".partial.csv")
        self.meta = output.with_name(output.name + ".partial.json")

    def start(self, items: Sequence[Item]) -> int:
        """Resume the journal of an interrupted run of the same task over `items`, or start afresh.

        Returns
        -------
        int
            Rows kept from the interrupted run: those of ``items[:n]``.
        """
        signature = self.task.signature()
        if self.path.exists() and self.meta.exists():
            with contextlib.suppress(ValueError, OSError):
                if json.loads(self.meta.read_text()).get("signature") == signature:
                    kept = self._resume(items)
                    if kept:
                        return kept
        self.meta.write_text(json.dumps({"signature": signature}))
        with open(self.path, "w", **_TEXT) as f:
            csv.writer(f, lineterminator="\n").writerow(self.task.header)
        return 0

    def _resume(self, items: Sequence[Item]) -> int:
        """Keep the valid prefix of the journal; return its row count.

        A row is kept while it has the right number of fields and belongs to
        the input at its position; the journal is rewritten to just the kept rows.
        """
        self._drop_incomplete_tail()
        header = self.task.header
        kept = 0
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(self.path, **_TEXT) as src, open(tmp, "w", **_TEXT) as dst:
            reader = csv.reader(src)
            writer = csv.writer(dst, lineterminator="\n")
            if next(reader, None) == header:
                writer.writerow(header)
                for cells in reader:
                    if kept >= len(items) or len(cells) != len(header) or cells[0] != items[kept].path:
                        break
                    writer.writerow(cells)
                    kept += 1
        os.replace(tmp, self.path)
        return kept

    def _drop_incomplete_tail(self) -> None:
        """Truncate the journal after its last newline: a killed writer may leave half a row."""
        with open(self.path, "rb+") as f:
            end = f.seek(0, os.SEEK_END)
            while end > 0:
                start = max(0, end - 65536)
                f.seek(start)
                block = f.read(end - start)
                newline = block.rfind(b"\n")
                if newline >= 0:
                    f.truncate(start + newline + 1)
                    return
                end = start
            f.truncate(0)

    def rows(self) -> Iterator[Row]:
        """The rows written so far."""
        with open(self.path, **_TEXT) as f:
            reader = csv.reader(f)
            next(reader)
            for cells in reader:
                yield Row.from_cells(cells)

    @contextlib.contextmanager
    def appending(self):
        """A function ``write(rows)`` that appends rows and flushes; fsynced when the block ends."""
        with open(self.path, "a", **_TEXT) as f:
            writer = csv.writer(f, lineterminator="\n")

            def write(rows: Sequence[Row]) -> None:
                writer.writerows(row.cells() for row in rows)
                f.flush()

            yield write
            os.fsync(f.fileno())

    def finish(self) -> None:
        """Put the complete journal in place as the output (converted to Parquet if asked)."""
        if self.output.suffix.lower() == ".parquet":
            with atomic_write(self.output, "wb") as f:
                self._to_parquet(f)
            self.path.unlink()
        else:
            os.replace(self.path, self.output)
        self.meta.unlink()

    def _to_parquet(self, f) -> None:
        """Stream the finished journal into Parquet, a few thousand rows at a time."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns, text_columns = self.task.columns, self.task.text_columns
        text = ITEM_COLUMNS + [c for c in columns if c in text_columns]
        numeric = [c for c in columns if c not in text_columns]
        schema = pa.schema([(c, pa.string() if c in text else pa.float64()) for c in ITEM_COLUMNS + columns])
        with pq.ParquetWriter(f, schema) as writer:
            # Parquet text must be UTF-8: bytes of non-UTF-8 file names become \xNN escapes.
            for chunk in pd.read_csv(self.path, dtype=dict.fromkeys(text, "string"), keep_default_na=False,
                                     chunksize=4096, encoding_errors="backslashreplace"):
                # Error rows hold empty strings where the numbers would be.
                chunk[numeric] = chunk[numeric].apply(pd.to_numeric, errors="coerce")
                writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
