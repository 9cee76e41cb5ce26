"""The memory of a batch run's own process does not hold state per input for the whole run.

A run over millions of files must fit in the memory of the machine that
starts it: the listing is held compactly (:class:`pipeline.run.inputs.Inputs`)
and every row, chunk and message lives only as long as its chunk.  Measured
with tracemalloc (Python's allocations, deterministic) over two list lengths,
with a task that reads no file.
"""

import os
import pathlib
import tracemalloc

import pytest

from pipeline.batch import Engine, Inputs, Item, Task, list_inputs, run_batch
from pipeline.run.engines.serial import SerialEngine


class PathLength(Task):
    """The length of each input's path: rows without reading any file."""

    columns = ["length"]

    def signature(self):
        return "path-length-1"

    def compute(self, items):
        return [[len(item.path)] for item in items]


def write_list(folder, n):
    """A CSV list of `n` inputs (files that need not exist) in 7 classes."""
    listing = folder / f"list{n}.csv"
    listing.write_text("path,label\n" + "".join(f"/data/class{k % 7}/image{k:07d}.png,class{k % 7}\n"
                                                for k in range(n)))
    return listing


class Watched(Engine):
    """Runs `engine`; once chunk number `at` is done, notes the bytes Python holds in this process."""

    def __init__(self, engine, at):
        self.engine, self.chunk_size, self.at = engine, engine.chunk_size, at
        self.held = None

    def map_chunks(self, task, chunks):
        for k, rows in enumerate(self.engine.map_chunks(task, chunks)):
            if k == self.at:
                # Not the table of interned strings, which pathlib's parsing of
                # the listed paths resizes once in a while: not per input.
                held = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, pathlib.__file__)])
                self.held = sum(stat.size for stat in held.statistics("filename"))
            yield rows


def bytes_per_extra_input(tmp_path, engine, sizes):
    """Bytes held halfway through a whole run from a CSV list, per input added from sizes[0] to sizes[1]."""
    run_batch(PathLength(), write_list(tmp_path, 100), tmp_path / "warm.csv", engine=engine, quiet=True)  # imports
    held = []
    for n in sizes:
        watched = Watched(engine, at=n // engine.chunk_size // 2)
        tracemalloc.start()
        try:
            run_batch(PathLength(), write_list(tmp_path, n), tmp_path / f"out{n}.csv", engine=watched, quiet=True)
        finally:
            tracemalloc.stop()
        assert (tmp_path / f"out{n}.csv").read_text().count("\n") == 1 + n
        held.append(watched.held)
    return (held[1] - held[0]) / (sizes[1] - sizes[0])


def test_a_run_holds_no_object_per_input(tmp_path):
    # A list of Item objects alone holds about 200 bytes per input (object,
    # attribute dictionary, strings); the compact listing holds its text and
    # a few offsets, about 50 bytes here.
    assert bytes_per_extra_input(tmp_path, SerialEngine(), (1_000, 10_000)) < 100


def test_inputs_are_a_sequence_of_items():
    items = [Item("a.png", "x"), Item("b\udcff.png", "", "g"), Item("c/\u00e9.png", mask="m.png"),
             Item("d", error="OSError: no")]
    inputs = Inputs(iter(items))
    assert inputs == items and list(inputs) == items and len(inputs) == 4
    assert inputs[1] == items[1] and inputs[-1] == items[-1]
    assert inputs[1:3] == items[1:3] and inputs[1:][1:] == items[2:] and inputs[::2] == items[::2]
    assert inputs[5:] == [] and Inputs() == []
    with pytest.raises(IndexError):
        inputs[4]


def test_a_csv_list_longer_than_a_piece_lists_every_row(tmp_path):
    n = 2500  # more than two pieces of the reader
    listing = tmp_path / "list.csv"
    listing.write_text("path,label\n" + "".join(f"img{k}.png,{k % 3}\n" for k in range(n)))
    items, _ = list_inputs(listing, labelled=True)
    assert [item.path for item in items] == [str(tmp_path / f"img{k}.png") for k in range(n)]
    assert [item.label for item in items] == [str(k % 3) for k in range(n)]


def test_listing_a_folder_holds_no_object_per_file(tmp_path):
    # A whole run from a folder (empty files, a task that reads none): its peak is the listing's.  A list of
    # Path objects, sorted, cost some 1,300 bytes per file at its peak; the walk holds one folder's names
    # at a time and the compact listing, some 130 bytes per file in one flat folder.
    peaks = []
    for n in (2_000, 20_000):
        folder = tmp_path / f"in{n}"
        folder.mkdir()
        (folder / "notes.txt").touch()
        for k in range(n):  # links to one empty file: quicker to make than files
            os.link(folder / "notes.txt", folder / f"image{k:07d}.png")
        tracemalloc.start()
        try:
            summary = run_batch(PathLength(), folder, tmp_path / f"out{n}.csv", engine=SerialEngine(), quiet=True)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert summary.skipped == [str(folder / "notes.txt")]
        assert (tmp_path / f"out{n}.csv").read_text().count("\n") == 1 + n
    assert (peaks[1] - peaks[0]) / 18_000 < 300
