"""The inputs of a batch run: image paths with what their source says about them, in chunks.

An input may carry a mask, the region of interest its features describe
(see :func:`texture.extract_features`): from a ``mask`` column of a CSV
list, or found for each image in a folder mirroring the input tree or
beside the image (:func:`pipeline.data.find_masks`).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Iterator

from pipeline.data import csv_pieces, find_masks, is_mask_file, walk_folder
from pipeline.names import printable
from texture.errors import ConfigError, DatasetError
from texture.io import IMAGE_EXTENSIONS

__all__ = ["Item", "Inputs", "list_inputs", "CHUNK_SIZE", "chunked"]


@dataclass(frozen=True)
class Item:
    """One input of a batch run: an image path and what the source says about it.

    `mask`, when not empty, is the image's mask file: its features are those
    of the region inside it.  `error`, when not empty, is what went wrong in
    listing it (a folder that cannot be read): the input gets an error row
    saying so, without being read.
    """

    path: str
    label: str = ""
    group: str = ""
    #: The mask file of the image ("" for the whole image).
    mask: str = ""
    error: str = ""


# Text as UTF-8 bytes, whatever code points it holds: a file name that is not
# UTF-8 holds lone surrogates (PEP 383), which this error handler keeps.
_ENCODING = ("utf-8", "surrogatepass")


class Inputs(Sequence):
    """The items of a run, held in a few flat buffers instead of one object per item.

    A list of :class:`Item` costs about 300 bytes per input (the object, its
    attribute dictionary, which pickling an item creates, and one string per
    field); here an input costs its text's bytes and 8 bytes per field that
    is not empty everywhere: a run over millions of files keeps its listing
    in a few tens of megabytes.  Each :class:`Item` is made again when it is
    read, and lives only as long as its chunk.  Slices are views sharing the
    buffers.  Compares equal to any sequence of the same items.

    Parameters
    ----------
    items : iterable of Item
        Consumed one by one: a generator is never held whole.
    """

    def __init__(self, items: Iterable[Item] = ()):
        names = [field.name for field in fields(Item)]
        values = attrgetter(*names)
        texts = [bytearray() for _ in names]  # grown in place: no second copy of a field's text
        ends = [None] * len(names)  # where each item's text ends, from the first item with the field set
        count = 0
        for item in items:
            for field, value in enumerate(values(item)):
                if value:
                    if ends[field] is None:
                        ends[field] = array("q", bytes(8 * count))  # the items before: empty
                    texts[field] += value.encode(*_ENCODING)
                if ends[field] is not None:
                    ends[field].append(len(texts[field]))
            count += 1
        #: Per field, its text and where each item's ends; None where every item has it empty.
        self._columns = tuple(None if end is None else (text, end) for text, end in zip(texts, ends))
        self._start, self._stop = 0, count

    def __len__(self) -> int:
        return self._stop - self._start

    def _item(self, index: int) -> Item:
        values = []
        for column in self._columns:
            if column is None:
                values.append("")
            else:
                text, ends = column
                values.append(text[ends[index - 1] if index else 0:ends[index]].decode(*_ENCODING))
        return Item(*values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            view = object.__new__(Inputs)
            view._columns = self._columns
            view._start, view._stop = self._start + start, self._start + max(start, stop)
            return view
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("Inputs index out of range")
        return self._item(self._start + index)

    def __iter__(self) -> Iterator[Item]:
        for index in range(self._start, self._stop):
            yield self._item(index)

    def __eq__(self, other):
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def __repr__(self) -> str:
        return f"Inputs({list(self)!r})" if len(self) <= 10 else f"Inputs(<{len(self)} items>)"


def list_inputs(source, *, labelled: bool = False, masks=None,
                mask_suffix: str | None = None) -> tuple[Inputs, list[str]]:
    """List the inputs of a batch run.

    Parameters
    ----------
    source : str or os.PathLike
        A folder, searched recursively for images (see
        :func:`pipeline.data.walk_folder`), or a CSV file with a ``path``
        column and optional ``label`` and ``group`` columns (see
        :func:`pipeline.data.load_csv`).
    labelled : bool, default False
        Whether every input needs a label: a folder must then have one
        sub-folder per class (:func:`pipeline.data.load_folder`) and a CSV a
        ``label`` column.  Unlabelled, an image in a sub-folder still takes
        that top-level sub-folder's name as its label.
    masks : str or os.PathLike, optional
        Folder mirroring the input tree (for a CSV, the tree of its folder):
        the mask of ``SRC/a/b.jpg`` is ``masks/a/b.<any image extension>``.
    mask_suffix : str, optional
        The mask of ``a/b.jpg`` is ``a/b<suffix>.<any image extension>``.
        Files of the input folder that are masks (under `masks`, or with the
        suffix) are not inputs.  A CSV with a ``mask`` column gives the masks
        itself; `masks` and `mask_suffix` then conflict with it.  An image
        whose mask file is missing still is an input: its error row names
        the mask looked for.

    Returns
    -------
    items : Inputs
        A sequence of :class:`Item`, in a deterministic order (sorted paths
        for a folder, file order for a CSV).
    skipped : list of str
        Files of the folder that are not listed as images (other extensions,
        hidden), sorted; none for a CSV.

    Raises
    ------
    texture.DatasetError
        No image at all, and from the loaders: no class sub-folders or CSV
        columns missing.  Files a CSV lists but that do not exist are kept:
        each becomes an error row.
    """
    source = Path(source)
    finding = {"masks_dir": masks, "suffix": mask_suffix}
    if source.is_file():
        return _with_masks(Inputs(_csv_items(source, labelled, finding)), source.resolve().parent, finding), []
    if not source.is_dir():
        raise ConfigError(f"{source}: no such folder or CSV file")
    base = source.resolve() if labelled else source  # as load_folder names its images
    skipped = []
    items = Inputs(_folder_items(base, labelled, finding, skipped))
    if not items:
        found = f"its {len(skipped)} files are not images" if skipped else "it is empty"
        raise DatasetError(f"no image in the folder: {found} (images end in "
                           f"{', '.join(sorted(IMAGE_EXTENSIONS))}, any case)", source)
    return _with_masks(items, base, finding), sorted(skipped)


def _folder_items(base: Path, labelled: bool, finding: dict, skipped: list) -> Iterator[Item]:
    """The items of a folder, one at a time as :func:`pipeline.data.walk_folder` meets them; the files that
    are not images go to `skipped`.

    An image takes its top-level sub-folder's name as its label.  A folder
    that cannot be listed is an item with an error, counted as failed.  The
    masks in the input tree are neither items nor skipped files.
    """
    masked = finding["masks_dir"] is not None or finding["suffix"] is not None
    for found in walk_folder(base, labelled=labelled):
        if masked and is_mask_file(found.path, base, **finding):
            continue
        # A folder name that is not UTF-8 makes a label in its printable form (pipeline.names).
        label = printable(found.top)
        if found.error is not None:
            yield Item(found.path, label, error=f"{type(found.error).__name__}: cannot list the folder ({found.error})")
        elif found.image:
            yield Item(found.path, label)
        else:  # anything but a folder is a file here: FIFOs and broken links are listed too
            skipped.append(found.path)


def _with_masks(items: Sequence[Item], root: Path, finding: dict) -> Inputs:
    """`items` with the masks :func:`pipeline.data.find_masks` finds, when asked to find them."""
    if finding["masks_dir"] is None and finding["suffix"] is None:
        return items if isinstance(items, Inputs) else Inputs(items)
    return Inputs(replace(item, mask=mask) for piece in chunked(items, _MASKS_AT_ONCE)
                  for item, mask in zip(piece, find_masks([item.path for item in piece], root, **finding)))


#: Images whose masks are looked for at a time: the run holds their items and masks meanwhile.
_MASKS_AT_ONCE = 1024


#: Rows of a CSV list read at a time (pandas holds several hundred bytes per row as it reads).
_CSV_ROWS = 1024


def _csv_items(source: Path, labelled: bool, finding: dict) -> Iterator[Item]:
    """The items of a CSV list, read a few rows at a time (:func:`pipeline.data.csv_pieces`)."""
    # A listed file that is missing gets an error row, like any unreadable one.
    for table in csv_pieces(source, labelled=labelled, check_files=False, rows=_CSV_ROWS):
        if "mask" in table.columns and (finding["masks_dir"] is not None or finding["suffix"] is not None):
            raise ConfigError(f"{source} has a mask column: give the masks one way, not also --masks or --mask-suffix")
        yield from _items(table)


def _items(table) -> Iterator[Item]:
    """Items of a loader table (a DataFrame: path, label, group[, mask]; missing values become "")."""
    import pandas as pd  # loaded already: the table is a DataFrame

    # Cell by cell: Arrow-backed text would refuse a path that is not UTF-8 (pipeline.data).
    table = table[[column for column in ("path", "label", "group", "mask") if column in table.columns]]
    for row in table.itertuples(index=False):
        yield Item(*("" if pd.isna(cell) else str(cell) for cell in row))


#: Inputs per chunk sent to a worker: enough that the messages cost nothing
#: next to the images (~0.1 ms against ~20 ms per image), few enough that the
#: first rows arrive early and that at the end of a run a worker waits for
#: the others' last chunks briefly (8 images: 0.15 s at most).
CHUNK_SIZE = 8


def chunked(items: Sequence[Item], size: int = CHUNK_SIZE) -> Iterator[list[Item]]:
    """Consecutive chunks of `size` items (the last one shorter)."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
