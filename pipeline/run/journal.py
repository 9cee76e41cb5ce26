"""The journal of a batch run: the output being written, resumed after an interruption, then put in place.

A run owns its output: it holds a lock on ``OUT.lock`` from start to end,
and a second run into the same output refuses at once, touching nothing.
Rows are appended, in input order, to ``OUT.partial.csv`` next to the
output, with the task's signature and settings in ``OUT.partial.json``;
each row is one line, or several for a task that writes one line per part
of its input (a window: :meth:`Task.lines`).  When every input
is accounted for the journal is fsynced and renamed onto the output (Parquet
outputs are converted first), so a finished output is always complete.  An
interrupted run leaves the journal behind and the same command resumes from
it; because rows are written in input order and floats as their shortest
round-trip ``repr``, the resumed output is byte-identical to an
uninterrupted one.  A journal written with other settings (another pixel
limit, feature configuration or model) is discarded: the run starts afresh
and says what changed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from pipeline.atomic import atomic_write, note_created
from pipeline.names import escape_path
from pipeline.run.inputs import Item
from pipeline.run.tasks import ITEM_COLUMNS, Row, Task
from texture.errors import ConfigError

__all__ = ["OUTPUT_SUFFIXES", "check_output", "Journal"]

OUTPUT_SUFFIXES = (".csv", ".parquet")
# Strict UTF-8: rows hold file names in the escaped form of pipeline.names
# (Row.cells), so that every output is readable by any UTF-8 reader.
_TEXT = {"newline": "", "encoding": "utf-8"}


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


def _write(writer, f, cells: Sequence[str]) -> None:
    """Write one row of CSV cells, each read back as written whatever characters it holds.

    The csv module quotes a cell holding the delimiter, the quote or a
    character of its line terminator ("\n" here), but not a lone carriage
    return, which every CSV reader takes for the end of a line (a file name
    may hold one): such a row is quoted here, as the module would quote it
    with a "\r\n" terminator.
    """
    if any("\r" in cell for cell in cells):
        f.write(",".join(_quote(cell) for cell in cells) + "\n")
    else:
        writer.writerow(cells)


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        # Held until the descriptor is closed, or the process ends however it ends.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _differences(before: dict, now: dict) -> str:
    """The settings that differ, as ``name: before -> now``."""
    changed = sorted(key for key in set(before) | set(now) if before.get(key) != now.get(key))
    if not changed:
        return "other settings"
    return ", ".join(f"{key}: {json.dumps(before.get(key))[:60]} -> {json.dumps(now.get(key))[:60]}"
                     for key in changed)


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
        self.lock = output.with_name(output.name + ".lock")
        self._lock_fd = None
        #: Why the journal of an interrupted run was discarded, if it was.
        self.discarded = None

    def __enter__(self) -> "Journal":
        """Take the output's lock, or refuse: another run is writing it."""
        while True:
            fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                _lock(fd)
            except OSError:
                os.close(fd)
                raise ConfigError(f"another run is writing this output (it holds {self.lock.name}); "
                                  "wait for it to end, or write elsewhere", self.output) from None
            # The holder removes the lock file as it ends: lock the file that is there now.
            with contextlib.suppress(OSError):
                if os.stat(self.lock).st_ino == os.fstat(fd).st_ino:
                    self._lock_fd = fd
                    return self
            os.close(fd)

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.lock)  # before unlocking: a run waiting on this file then retries
        os.close(self._lock_fd)
        self._lock_fd = None

    def start(self, items: Sequence[Item]) -> int:
        """Resume the journal of an interrupted run of the same task over `items`, or start afresh.

        Returns
        -------
        int
            Inputs whose rows are kept from the interrupted run: ``items[:n]``.
        """
        signature, settings = self.task.signature(), self.task.settings()
        masks, masked = hashlib.sha256(), False  # of the masks joined by newlines, one item at a time
        for k, item in enumerate(items):
            masks.update(("\n" + item.mask if k else item.mask).encode())
            masked = masked or bool(item.mask.strip())
        if masked:  # masked rows belong to their masks: other masks start afresh
            settings = {**settings, "masks": masks.hexdigest()}
            signature = hashlib.sha256((signature + settings["masks"]).encode()).hexdigest()
        if self.path.exists() and self.meta.exists():
            with contextlib.suppress(ValueError, OSError, AttributeError):
                saved = json.loads(self.meta.read_text())
                if saved.get("signature") == signature:
                    kept = self._resume(items)
                    if kept:
                        return kept
                else:
                    self.discarded = _differences(saved.get("settings") or {}, settings)
        for path in (self.meta, self.path):
            if not path.exists():
                note_created(path)
        self.meta.write_text(json.dumps({"signature": signature, "settings": settings}))
        with open(self.path, "w", **_TEXT) as f:
            _write(csv.writer(f, lineterminator="\n"), f, self.task.header)  # proba_<class> columns hold labels
        return 0

    def _resume(self, items: Sequence[Item]) -> int:
        """Keep the valid prefix of the journal; return the number of inputs it accounts for.

        An input's lines are kept while each has the right number of fields
        and they belong to the input at their position; the journal is
        rewritten to just the kept lines.
        """
        self._drop_incomplete_tail()
        header = self.task.header
        kept = 0
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(self.path, **_TEXT) as src, open(tmp, "w", **_TEXT) as dst:
            reader = csv.reader(src)
            writer = csv.writer(dst, lineterminator="\n")
            if next(reader, None) == header:
                _write(writer, dst, header)
                whole = itertools.takewhile(lambda cells: len(cells) == len(header), reader)
                for lines in self._complete_inputs(whole):
                    if kept >= len(items) or any(cells[0] != escape_path(items[kept].path) for cells in lines):
                        break
                    for cells in lines:
                        _write(writer, dst, cells)
                    kept += 1
        os.replace(tmp, self.path)
        return kept

    def _inputs(self, lines: Iterable[list[str]]) -> Iterator[list[list[str]]]:
        """The journal's lines, grouped into the lines of each input (see :meth:`Task.opens_input`)."""
        group = []
        for cells in lines:
            if group and self.task.opens_input(cells):
                yield group
                group = []
            group.append(cells)
        if group:
            yield group

    def _complete_inputs(self, lines: Iterable[list[str]]) -> Iterator[list[list[str]]]:
        """The lines of each input the journal holds whole.

        With one line per input, every whole line is a whole input.  With
        several, an input is whole once the next one has begun: the last one
        may have been cut short by the interruption, and is computed again.
        """
        groups = self._inputs(lines)
        if self.task.one_line_per_input:
            yield from groups
            return
        previous = next(groups, None)
        for group in groups:
            yield previous
            previous = group

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
        """The rows written so far, one per input."""
        with open(self.path, **_TEXT) as f:
            reader = csv.reader(f)
            next(reader)
            for lines in self._inputs(reader):
                yield self.task.row_of(lines)

    @contextlib.contextmanager
    def appending(self):
        """A function ``write(rows)`` that appends rows and flushes; fsynced when the block ends."""
        with open(self.path, "a", **_TEXT) as f:
            writer = csv.writer(f, lineterminator="\n")

            def write(rows: Sequence[Row]) -> None:
                for row in rows:
                    for cells in self.task.lines(row):
                        _write(writer, f, cells)
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
            if not self.output.exists():
                note_created(self.output)
            os.replace(self.path, self.output)
        self.meta.unlink()

    def _to_parquet(self, f) -> None:
        """Stream the finished journal into Parquet, a few thousand rows at a time."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns, text_columns, integers = self.task.columns, self.task.text_columns, self.task.integer_columns
        text = ITEM_COLUMNS + [c for c in columns if c in text_columns]
        numeric = [c for c in columns if c not in text_columns]
        schema = pa.schema([(c, pa.string() if c in text else pa.int64() if c in integers else pa.float64())
                            for c in ITEM_COLUMNS + columns])
        with pq.ParquetWriter(f, schema) as writer:
            for chunk in pd.read_csv(self.path, dtype=dict.fromkeys(text, "string"), keep_default_na=False,
                                     chunksize=4096):
                # Error rows hold empty strings where the numbers would be.
                chunk[numeric] = chunk[numeric].apply(pd.to_numeric, errors="coerce")
                whole = [c for c in numeric if c in integers]
                chunk[whole] = chunk[whole].astype("Int64")  # missing on error rows
                writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
