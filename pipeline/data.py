"""Data set loaders: which images, with which label, in which group.

Every loader returns the same table, a :class:`pandas.DataFrame` with one row
per image, in a deterministic order, and the columns

``path``
    Absolute path of the image file (``str``).
``label``
    Class name (``str``) or number (a grade or measurement for regression).
``group``
    Images that must stay on the same side of a train/test split (e.g. the
    KTH-TIPS scale), or missing (``None``) when the data set has none.

A CSV may add a ``mask`` column: the region of interest of each image (see
:func:`texture.read_mask`), kept as a fourth column.  :func:`find_masks`
finds masks for a list of images in a mirrored folder or beside them.

The loaders only list files; the images are read later with
:func:`texture.read_image`.  They import pandas when they build a table, not
with this module: :func:`walk_folder` alone serves ``texture extract DIR``,
which starts faster without it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator, NamedTuple

from texture.errors import ConfigError, DatasetError
from texture.io import IMAGE_EXTENSIONS

from pipeline.names import printable, unescape_path
from pipeline.sample import SAMPLE_SETS, sample_root

__all__ = ["COLUMNS", "GROUPINGS", "Found", "walk_folder", "find_images", "find_masks", "is_mask_file", "load_folder",
           "load_csv", "csv_pieces", "load_sample", "kth_tips_scale"]

COLUMNS = ("path", "label", "group")

# How many missing files an error message lists before summarising the rest.
_SHOWN = 10


class Found(NamedTuple):
    """A file met by :func:`walk_folder`, or a folder it could not list."""

    #: The folder and the file's path relative to it, joined as :mod:`pathlib` joins them.
    path: str
    #: The first part of the relative path: the (class) sub-folder, "" for a file directly in the folder.
    top: str
    #: An image file (by extension), neither hidden nor inside a hidden folder.
    image: bool
    #: Why the folder `path` cannot be listed; None for a file.
    error: OSError | None = None


def walk_folder(folder, *, labelled=False):
    """Every file under `folder`, one at a time, in the order of their paths sorted by parts.

    Depth first, each folder's names sorted: the order of sorting the whole
    listing by its relative paths' parts, while holding only the names of
    the folders being walked, not a path object per file.  Links to folders
    are not followed (as :func:`os.walk`), except a labelled tree's class
    folders.  Hidden files, and the files in hidden folders, are met, as not
    images; a hidden folder that cannot be listed is passed over.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder to walk.
    labelled : bool, default False
        `folder` has one sub-folder per class (see :func:`load_folder`): its
        own files are not images, and it is refused when it cannot be listed,
        has no class sub-folder, or, once walked, a class sub-folder holds no
        image (unless a folder inside it could not be listed).

    Yields
    ------
    Found
        Each file, and each folder that cannot be listed (with its error) in
        the place its files would have had.

    Raises
    ------
    DatasetError
        Only when `labelled`, as said above.
    """
    folder = Path(folder)
    scanned = os.fspath(folder)
    if labelled and not folder.is_dir():
        raise DatasetError("no such folder" if not folder.exists() else "not a folder", folder)
    try:
        names, folders = _folder_names(scanned)
    except OSError as err:
        if labelled:
            raise DatasetError(f"cannot list the folder ({err})", folder) from None
        yield Found(scanned, "", False, err)
        return
    if labelled and not any(not name.startswith(".") for name in folders):
        raise DatasetError("no class sub-folders: expected one sub-folder of images per class", folder)
    prefix = "" if scanned == "." else scanned.rstrip(os.sep) + os.sep  # as pathlib joins: "./a" is "a"
    empty = []
    for name in names:
        hidden = name.startswith(".")
        if name not in folders:
            yield Found(prefix + name, "", not labelled and not hidden and _is_image_name(name))
        elif folders[name] or (labelled and not hidden):  # a class folder may be a link
            met = 0  # images, and folders that cannot be listed
            for found in _walk(prefix + name, name, hidden):
                met += found.image or found.error is not None
                yield found
            if labelled and not hidden and not met:
                empty.append(name)
    if empty:
        raise DatasetError(f"class folders without any image ({', '.join(sorted(IMAGE_EXTENSIONS))}): "
                           + ", ".join(empty), folder)


def _walk(path: str, top: str, hidden: bool) -> Iterator[Found]:
    """The files under the sub-folder `path` of :func:`walk_folder`, in order."""
    try:
        names, folders = _folder_names(path)
    except OSError as err:
        if not hidden:
            yield Found(path, top, False, err)
        return
    for name in names:
        inside_hidden = hidden or name.startswith(".")
        if name not in folders:
            yield Found(path + os.sep + name, top, not inside_hidden and _is_image_name(name))
        elif folders[name]:
            yield from _walk(path + os.sep + name, top, inside_hidden)


def _folder_names(path: str) -> tuple[list[str], dict[str, bool]]:
    """The sorted names in the folder `path`, and of those that are folders, whether to walk into each.

    As :func:`os.walk` decides: a link to a folder is a folder, not walked
    into; an entry whose type cannot be read is a file.
    """
    names, folders = [], {}
    with os.scandir(path) as entries:
        for entry in entries:
            names.append(entry.name)
            try:
                if entry.is_dir():
                    folders[entry.name] = not entry.is_symlink()
            except OSError:
                pass
    names.sort()
    return names, folders


def _is_image_name(name: str) -> bool:
    """Whether a file name ends in an image extension, in any case (not a :class:`~pathlib.Path`: pathlib
    interns every part of the paths it parses)."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def find_images(folder, *, onerror=None):
    """List the image files under `folder`, recursively, in sorted order.

    Images are recognised by extension (:data:`texture.IMAGE_EXTENSIONS`,
    any case); hidden files and folders (name starting with ``.``) are
    skipped.  Batch runs walk the folder with :func:`walk_folder` instead,
    without a list.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder to search.
    onerror : callable, optional
        Called with the :class:`OSError` of each folder that cannot be listed
        (its ``filename`` names it), as :func:`os.walk` does; such folders
        are otherwise passed over silently.

    Returns
    -------
    paths : list of pathlib.Path
        Image files, sorted by their path relative to `folder`.
    """
    found = []
    for file in walk_folder(folder):
        if file.error is not None:
            if onerror is not None:
                onerror(file.error)
        elif file.image:
            found.append(Path(file.path))
    return found


def find_masks(images, root, *, masks_dir=None, suffix=None):
    """The mask file of each image: in a folder mirroring the images' tree, or beside each image.

    A mask may have any image extension (:data:`texture.IMAGE_EXTENSIONS`,
    in lower or upper case), whatever the image's: ``photo.jpg`` may have
    ``photo.png``.  When several exist, the image's own extension wins, then
    the first in sorted order.

    Parameters
    ----------
    images : sequence of str or os.PathLike
        Image paths.
    root : str or os.PathLike
        The folder the images' relative paths start from (the input folder,
        or a CSV's folder); used with `masks_dir`.
    masks_dir : str or os.PathLike, optional
        Folder mirroring `root`: the mask of ``root/a/b.jpg`` is
        ``masks_dir/a/b.<ext>``.
    suffix : str, optional
        The mask of ``a/b.jpg`` is ``a/b<suffix>.<ext>`` beside it (e.g.
        ``_mask``).  Exactly one of `masks_dir` and `suffix`.

    Returns
    -------
    masks : list of str
        One per image.  An image without a mask file gets the pattern that
        was looked for, ``.../b.*``: reading it fails with an error naming
        it, so the image gets an error row and nothing is silently dropped.

    Examples
    --------
    >>> find_masks(["/data/in/a/b.jpg"], "/data/in", masks_dir="/data/masks")  # doctest: +SKIP
    ['/data/masks/a/b.png']
    """
    if (masks_dir is None) == (suffix is None):
        raise ConfigError("give the masks one way: a mirrored folder (--masks) or a file name suffix (--mask-suffix)")
    if suffix is not None and (not suffix or os.sep in suffix or "/" in suffix):
        raise ConfigError(f"the mask suffix must be a non-empty file name part, got {suffix!r}")
    root = Path(root)
    masks = []
    for image in map(Path, images):
        if masks_dir is not None:
            stem = Path(masks_dir, os.path.relpath(image, root)).with_suffix("")
        else:
            stem = image.with_name(image.stem + suffix)
        masks.append(_with_image_extension(stem, image.suffix))
    return masks


def _with_image_extension(stem, preferred):
    """``stem`` plus the first image extension (`preferred` first) naming a file, else ``stem.*``.

    A few file checks per image rather than a folder listing, which would
    cost a folder's size per image.
    """
    extensions = sorted(IMAGE_EXTENSIONS)
    for extension in dict.fromkeys([preferred, *extensions, *(e.upper() for e in extensions)]):
        candidate = stem.with_name(stem.name + extension)
        if candidate.is_file():
            return str(candidate)
    return str(stem.with_name(stem.name + ".*"))


def is_mask_file(path, root, *, masks_dir=None, suffix=None):
    """Whether a file found under the input folder `root` is a mask rather than an input image.

    A file inside `masks_dir` (when it lies within `root`), or whose stem
    ends with `suffix`.
    """
    path = Path(path)
    if suffix is not None:
        return path.stem.endswith(suffix)
    if masks_dir is not None:
        masks_dir = Path(masks_dir).resolve()
        return masks_dir == path.resolve().parent or masks_dir in path.resolve().parents
    return False


def load_folder(root, *, group=None, onerror=None):
    """List a class-per-folder image tree (the usual "ImageFolder" layout).

    Parameters
    ----------
    root : str or os.PathLike
        Folder with one sub-folder per class; the sub-folder's name is the
        label (a name that is not UTF-8 in the printable form of
        :func:`pipeline.names.printable`).  Images are found recursively inside each class folder; files
        directly in `root` and hidden folders are ignored.
    group : callable or str, optional
        Maps an image's :class:`pathlib.Path` to its group, e.g.
        :func:`kth_tips_scale`, or the name of such a function of this
        module (``"kth_tips_scale"``).  Without it the group is missing.
    onerror : callable, optional
        Called with the :class:`OSError` of each folder inside a class folder
        (or a class folder itself) that cannot be listed, as in
        :func:`find_images`; a class folder is then not refused as empty.
        Without it, such a folder is refused: no image goes missing silently.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``path``, ``label``, ``group`` (see the module documentation),
        sorted by class name, then by path.

    Raises
    ------
    DatasetError
        `root` is not a folder or cannot be listed, has no class sub-folder,
        a class sub-folder holds no image, or (without `onerror`) a folder
        inside cannot be listed.
    ConfigError
        `group` is neither callable nor the name of a grouping function.

    Examples
    --------
    >>> from pipeline.data import load_folder, kth_tips_scale
    >>> table = load_folder("kth_tips_grey", group=kth_tips_scale)  # doctest: +SKIP
    >>> table.groupby("label").size()                               # doctest: +SKIP
    """
    import pandas as pd

    group = _grouping(group)
    root = Path(root).resolve()
    paths, labels = [], []
    for found in walk_folder(root, labelled=True):
        if found.error is not None:
            if onerror is None:
                raise DatasetError(f"cannot list the folder ({found.error})", found.path)
            onerror(found.error)
        elif found.image:
            paths.append(found.path)
            labels.append(found.top)
    return pd.DataFrame({
        "path": _path_column(paths),
        # A folder name that is not UTF-8 makes a label in its printable form (pipeline.names).
        "label": [printable(label) for label in labels],
        "group": [None if group is None else group(Path(path)) for path in paths],
    })


def load_csv(path, *, labelled=True, check_files=True):
    """List the images of a CSV file with the columns ``path,label[,group]``.

    Parameters
    ----------
    path : str or os.PathLike
        CSV file with a header row.  Relative image paths are resolved
        against the CSV's folder, so a data set folder can be moved whole.
        A path may be in the escaped form of :mod:`pipeline.names` (as
        texture writes the names that are not UTF-8: ``bad_\\xff.png``).
        ``label`` may be a class name or a number; an optional ``mask``
        column names each image's mask file (relative to the CSV's folder
        like the images; a blank cell: no mask); other columns are ignored.
    labelled : bool, default True
        Whether the ``label`` column is required.  Lists of images to
        predict need only ``path``; their missing labels are ``None``.
    check_files : bool, default True
        Refuse the CSV when a listed image does not exist.  Batch runs pass
        False: there each missing file gets its own error row, so that every
        input is accounted for and the rest still run.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``path``, ``label``, ``group`` (see the module documentation),
        and ``mask`` when the CSV has one (absolute paths, ``None`` where
        blank), in the CSV's row order.

    Raises
    ------
    DatasetError
        The CSV does not exist or cannot be parsed, lacks a required column,
        has no rows or empty cells in ``path``/``label``, or (with
        `check_files`) lists files that do not exist (all of them are named,
        none is silently dropped).
    """
    import pandas as pd

    return pd.concat(list(csv_pieces(path, labelled=labelled, check_files=check_files)), ignore_index=True)


def csv_pieces(path, *, labelled=True, check_files=True, rows=None):
    """The table of :func:`load_csv`, in consecutive pieces of at most `rows` rows.

    For lists of any length: pandas' reader holds several hundred bytes per
    row while it reads, so the paths are read `rows` at a time.  The
    ``label`` and ``group`` columns are read whole first (short, and typed by
    all their cells, as :func:`load_csv` types them: numbers when every cell
    is one).  The whole file is checked, and the errors of :func:`load_csv`
    raised, before the iterator ends; pieces may come before that error.

    Parameters
    ----------
    path, labelled, check_files
        As in :func:`load_csv`.
    rows : int, optional
        Rows per piece; the whole table in one piece when None.

    Yields
    ------
    pandas.DataFrame
        The columns of :func:`load_csv`, indexed by row number from 0.
    """
    import pandas as pd

    path = Path(path)
    # keep_default_na=False: a class named "NA", "null" or "None" is a name, not a blank cell.
    options = {"encoding": "utf-8-sig", "skipinitialspace": True, "keep_default_na": False}
    header = list(next(_read_csv(path, nrows=0, **options)).columns)
    required = ("path", "label") if labelled else ("path",)
    missing_columns = [c for c in required if c not in header]
    if missing_columns:
        raise DatasetError(
            f"missing column(s) {', '.join(missing_columns)}; the CSV needs a header "
            f"row with path,label[,group] (found: {', '.join(map(str, header))})",
            path,
        )
    if rows is None:
        pieces, names = _read_csv(path, dtype={"path": str, "mask": str}, **options), None
    else:
        named = [c for c in COLUMNS[1:] if c in header]
        names = next(_read_csv(path, usecols=named, **options)) if named else None
        pieces = _read_csv(path, usecols=[c for c in ("path", "mask") if c in header], dtype=str, chunksize=rows,
                           **options)
    folder = path.resolve().parent
    blank, missing, start = [], [], 0
    for table in pieces:
        table.index = range(start, start + len(table))
        if names is not None:
            for column in names.columns:
                table[column] = names[column].iloc[start:start + len(table)].to_numpy()
        start += len(table)
        # +2: one for the header, one because people count lines from 1.
        blank.extend(table.index[table[list(required)].map(_is_blank).any(axis=1)] + 2)
        # One Path at a time: pathlib interns every part of a path it parses, and
        # the table of interned strings never shrinks after holding a whole list's.
        files = _path_column((folder / unescape_path(name) for name in table["path"]), table.index)
        if check_files:
            missing.extend(name for name, file in zip(table["path"], files) if not os.path.isfile(file))
        for column in ("label", "group"):  # a blank cell where one is allowed: missing
            if column in table.columns:
                table[column] = table[column].mask(table[column].map(_is_blank))
        listed = pd.DataFrame({
            "path": files,
            **{column: table[column].to_numpy() if column in table.columns else None
               for column in COLUMNS[1:]},
        }, index=table.index)
        if "mask" in table.columns:
            # object dtype: a blank cell stays None (a string column would make it NaN).
            listed["mask"] = pd.Series([None if _is_blank(name) else str(folder / unescape_path(name))
                                        for name in table["mask"]], index=table.index, dtype=object)
        if not blank and not missing:
            yield listed
    if not start:
        raise DatasetError("no rows below the header", path)
    if blank:
        raise DatasetError(f"empty {' or '.join(required)} on line(s) {_listing(blank)}", path)
    if missing:
        raise DatasetError(f"{len(missing)} listed image(s) not found: {_listing(missing)}", path)


def _read_csv(path, **options):
    """``pandas.read_csv(path, **options)`` as an iterator of tables (one without `chunksize`), its errors a
    :class:`DatasetError` naming the file."""
    import pandas as pd

    try:
        reader = pd.read_csv(path, **options)
        yield from reader if "chunksize" in options else [reader]
    except FileNotFoundError:
        raise DatasetError("no such file", path) from None
    except OSError as err:
        raise DatasetError(f"cannot read the file ({err.strerror or err})", path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DatasetError(f"not a readable CSV ({err})", path) from None


def _path_column(paths, index=None):
    """Paths as a column of Python strings: a name that is not UTF-8 holds a
    surrogate escape (PEP 383), which pandas' Arrow-backed text refuses."""
    import pandas as pd

    return pd.Series([str(path) for path in paths], index=index, dtype=object)


def _is_blank(cell) -> bool:
    """An empty CSV cell: read as "" (or whitespace) since no text is taken for missing."""
    return isinstance(cell, str) and not cell.strip()


def load_sample(name="textures"):
    """List one of the bundled sample data sets.

    Parameters
    ----------
    name : {"textures", "roughness"}
        ``"textures"``: six texture classes (brick, grass, gravel photographs
        and three procedural patterns), 25 images each.  ``"roughness"``:
        60 procedural surfaces labelled with a roughness grade 1..5, for the
        texture score.  See :mod:`pipeline.sample`.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``path``, ``label``, ``group``; the group is missing.

    Raises
    ------
    ConfigError
        `name` is not a bundled data set.

    Examples
    --------
    >>> from pipeline.data import load_sample
    >>> table = load_sample()
    >>> table.groupby("label").size().to_dict()
    {'blobs': 25, 'brick': 25, 'grass': 25, 'gravel': 25, 'waves': 25, 'weave': 25}
    >>> load_sample("roughness")["label"].value_counts().sort_index().to_dict()
    {1: 12, 2: 12, 3: 12, 4: 12, 5: 12}
    """
    if name == "textures":
        return load_folder(sample_root() / "textures")
    if name == "roughness":
        return load_csv(sample_root() / "roughness.csv")
    raise ConfigError(f"unknown sample data set {name!r}; choose one of {', '.join(SAMPLE_SETS)}")


_KTH_TIPS_NAME = re.compile(r"-scale_(\d+)_im_\d+")


def kth_tips_scale(path):
    """Return the scale number of a KTH-TIPS image, its natural group.

    KTH-TIPS names its images ``<sample>-scale_<s>_im_<i>_grey.png``; the
    nine scales ``s`` are the groups to hold out together, since images of
    one sample at one scale differ only in pose and lighting.

    Parameters
    ----------
    path : str or os.PathLike
        Image path; only its file name is used.

    Returns
    -------
    scale : int

    Raises
    ------
    DatasetError
        The file name does not follow the KTH-TIPS pattern.

    References
    ----------
    .. [1] M. Fritz, E. Hayman, B. Caputo, J.-O. Eklundh, "The KTH-TIPS
           database", KTH technical note, 2004.

    Examples
    --------
    >>> kth_tips_scale("sponge/21-scale_4_im_7_grey.png")
    4
    """
    match = _KTH_TIPS_NAME.search(Path(path).name)
    if match is None:
        raise DatasetError("file name is not <sample>-scale_<s>_im_<i>_grey.png", path)
    return int(match.group(1))


#: The grouping functions :func:`load_folder` also accepts by name.
GROUPINGS = {"kth_tips_scale": kth_tips_scale}


def _grouping(group):
    """The grouping function `group` names or is (None stays None)."""
    if isinstance(group, str):
        if group not in GROUPINGS:
            raise ConfigError(f"unknown group {group!r}: pass a function of the image path, or the name "
                              f"of one of {', '.join(GROUPINGS)}")
        return GROUPINGS[group]
    if group is not None and not callable(group):
        raise ConfigError(f"group must be a function of the image path (such as kth_tips_scale) or its name, "
                          f"got {type(group).__name__}")
    return group


def _listing(items):
    """Comma-separated `items`, the first few only, with a count of the rest."""
    items = [str(item) for item in items]
    shown = ", ".join(items[:_SHOWN])
    return shown if len(items) <= _SHOWN else f"{shown} and {len(items) - _SHOWN} more"
