"""The inputs of a batch run: image paths with what their source says about them, in chunks.

An input may carry a mask, the region of interest its features describe
(see :func:`texture.extract_features`): from a ``mask`` column of a CSV
list, or found for each image in a folder mirroring the input tree or
beside the image (:func:`pipeline.data.find_masks`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

from pipeline.data import find_images, find_masks, is_mask_file, load_csv, load_folder
from pipeline.names import printable
from texture.errors import ConfigError, DatasetError
from texture.io import IMAGE_EXTENSIONS

__all__ = ["Item", "list_inputs", "CHUNK_SIZE", "chunked"]


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


def list_inputs(source, *, labelled: bool = False, masks=None,
                mask_suffix: str | None = None) -> tuple[list[Item], list[str]]:
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
    finding = {"masks_dir": masks, "suffix": mask_suffix}
    if source.is_file():
        # A listed file that is missing gets an error row, like any unreadable one.
        table = load_csv(source, labelled=labelled, check_files=False)
        if "mask" in table.columns and (masks is not None or mask_suffix is not None):
            raise ConfigError(f"{source} has a mask column: give the masks one way, not also --masks or --mask-suffix")
        items = _items(table)
        return _with_masks(items, source.resolve().parent, finding), []
    if not source.is_dir():
        raise ConfigError(f"{source}: no such folder or CSV file")
    unlisted = []  # folders that cannot be listed: each gets an error row, counted as failed
    if labelled:
        items = _items(load_folder(source, onerror=unlisted.append))
    else:
        paths = find_images(source, onerror=unlisted.append)
        # A folder name that is not UTF-8 makes a label in its printable form (pipeline.names).
        items = [Item(str(path), printable(path.relative_to(source).parts[0]) if path.parent != source else "")
                 for path in paths]
    base = source.resolve() if labelled else source  # as load_folder names its images
    if unlisted:
        for exc in unlisted:
            path = Path(exc.filename)
            label = printable(path.relative_to(base).parts[0]) if path != base else ""  # as its images'd have
            items.append(Item(str(path), label, error=f"{type(exc).__name__}: cannot list the folder ({exc})"))
        items.sort(key=lambda item: Path(item.path).relative_to(base).parts)
    masked = masks is not None or mask_suffix is not None
    if masked:  # the masks in the input tree are not inputs, nor skipped files
        items = [item for item in items if not is_mask_file(item.path, base, **finding)]
    # Anything but a folder is a file here: FIFOs and broken links are listed too.
    listed = {item.path for item in items}
    skipped = sorted(str(path) for path in base.rglob("*") if not path.is_dir() and str(path) not in listed
                     and not (masked and is_mask_file(path, base, **finding)))
    if not items:
        found = f"its {len(skipped)} files are not images" if skipped else "it is empty"
        raise DatasetError(f"no image in the folder: {found} (images end in "
                           f"{', '.join(sorted(IMAGE_EXTENSIONS))}, any case)", source)
    return _with_masks(items, base, finding), skipped


def _with_masks(items: list[Item], root: Path, finding: dict) -> list[Item]:
    """`items` with the masks :func:`pipeline.data.find_masks` finds, when asked to find them."""
    if finding["masks_dir"] is None and finding["suffix"] is None:
        return items
    found = find_masks([item.path for item in items], root, **finding)
    return [replace(item, mask=mask) for item, mask in zip(items, found)]


def _items(table) -> list[Item]:
    """Items of a loader table (a DataFrame: path, label, group[, mask]; missing values become "")."""
    import pandas as pd  # loaded already: the table is a DataFrame

    # Cell by cell: Arrow-backed text would refuse a path that is not UTF-8 (pipeline.data).
    table = table[[column for column in ("path", "label", "group", "mask") if column in table.columns]]
    return [Item(*("" if pd.isna(cell) else str(cell) for cell in row)) for row in table.itertuples(index=False)]


#: Inputs per chunk sent to a worker: enough that the messages cost nothing
#: next to the images (~0.1 ms against ~20 ms per image), few enough that the
#: first rows arrive early and that at the end of a run a worker waits for
#: the others' last chunks briefly (8 images: 0.15 s at most).
CHUNK_SIZE = 8


def chunked(items: Sequence[Item], size: int = CHUNK_SIZE) -> Iterator[list[Item]]:
    """Consecutive chunks of `size` items (the last one shorter)."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
