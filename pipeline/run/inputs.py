"""The inputs of a batch run: image paths with what their source says about them, in chunks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from pipeline.data import find_images, load_csv, load_folder
from pipeline.names import printable
from texture.errors import ConfigError, DatasetError
from texture.io import IMAGE_EXTENSIONS

__all__ = ["Item", "list_inputs", "CHUNK_SIZE", "chunked"]


@dataclass(frozen=True)
class Item:
    """One input of a batch run: an image path and what the source says about it.

    `error`, when not empty, is what went wrong in listing it (a folder that
    cannot be read): the input gets an error row saying so, without being read.
    """

    path: str
    label: str = ""
    group: str = ""
    error: str = ""


def list_inputs(source, *, labelled: bool = False) -> tuple[list[Item], list[str]]:
    """List the inputs of a batch run.

    Parameters
    ----------
    source : str or os.PathLike
        A folder, searched recursively for images (see
        :func:`pipeline.data.find_images`), or a CSV file with a ``path``
        column and optional ``label`` and ``group`` columns (see
        :func:`pipeline.data.load_csv`).
    labelled : bool, default False
        Whether every input needs a label: a folder must then have one
        sub-folder per class (:func:`pipeline.data.load_folder`) and a CSV a
        ``label`` column.  Unlabelled, an image in a sub-folder still takes
        that top-level sub-folder's name as its label.

    Returns
    -------
    items : list of Item
        In a deterministic order (sorted paths for a folder, file order for a CSV).
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
    if source.is_file():
        # A listed file that is missing gets an error row, like any unreadable one.
        return _items(load_csv(source, labelled=labelled, check_files=False)), []
    if not source.is_dir():
        raise ConfigError(f"{source}: no such folder or CSV file")
    if labelled:
        items = _items(load_folder(source))
    else:
        unlisted = []  # folders that cannot be listed: each gets an error row, counted as failed
        paths = find_images(source, onerror=unlisted.append)
        # A folder name that is not UTF-8 makes a label in its printable form (pipeline.names).
        items = [Item(str(path), printable(path.relative_to(source).parts[0]) if path.parent != source else "")
                 for path in paths]
        for exc in unlisted:
            path = Path(exc.filename)
            label = printable(path.relative_to(source).parts[0]) if path != source else ""  # as its images'd have
            items.append(Item(str(path), label, error=f"{type(exc).__name__}: cannot list the folder ({exc})"))
        items.sort(key=lambda item: Path(item.path).relative_to(source).parts)
    # Anything but a folder is a file here: FIFOs and broken links are listed too.
    listed = {item.path for item in items}
    base = source.resolve() if labelled else source  # as load_folder names its images
    skipped = sorted(str(path) for path in base.rglob("*") if not path.is_dir() and str(path) not in listed)
    if not items:
        found = f"its {len(skipped)} files are not images" if skipped else "it is empty"
        raise DatasetError(f"no image in the folder: {found} (images end in "
                           f"{', '.join(sorted(IMAGE_EXTENSIONS))}, any case)", source)
    return items, skipped


def _items(table) -> list[Item]:
    """Items of a loader table (a DataFrame: path, label, group; missing values become "")."""
    import pandas as pd  # loaded already: the table is a DataFrame

    # Cell by cell: Arrow-backed text would refuse a path that is not UTF-8 (pipeline.data).
    return [Item(*("" if pd.isna(cell) else str(cell) for cell in row))
            for row in table[["path", "label", "group"]].itertuples(index=False)]


#: Inputs per chunk sent to a worker: enough that the messages cost nothing
#: next to the images (~0.1 ms against ~20 ms per image), few enough that the
#: first rows arrive early and that at the end of a run a worker waits for
#: the others' last chunks briefly (8 images: 0.15 s at most).
CHUNK_SIZE = 8


def chunked(items: Sequence[Item], size: int = CHUNK_SIZE) -> Iterator[list[Item]]:
    """Consecutive chunks of `size` items (the last one shorter)."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
