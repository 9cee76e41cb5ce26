"""pipeline.data: class-per-folder trees, CSV lists, the bundled sample and KTH-TIPS."""

import doctest
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import pipeline.data
from pipeline.names import printable
from pipeline.data import (
    COLUMNS,
    find_images,
    find_masks,
    is_mask_file,
    kth_tips_scale,
    load_csv,
    load_folder,
    load_sample,
)
from texture import ConfigError, DatasetError, TextureError

KTH_TIPS = Path(__file__).resolve().parents[2] / "shared/datasets/kth_tips_grey"


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path, format="PNG")
    return path


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    # Created out of order, mixed-case extensions, a nested folder, and noise
    # that must be ignored: text files, hidden entries, files at the top.
    for name in ["b/2.png", "b/10.PNG", "b/1.jpeg", "a/sub/z.tif", "a/x.bmp", "c/deep/er/y.jpg"]:
        _png(root / name)
    (root / "a" / "notes.txt").write_text("not an image")
    _png(root / "a" / ".hidden.png")
    _png(root / "a" / ".cache" / "thumb.png")
    _png(root / ".git" / "objects" / "q.png")
    _png(root / "stray.png")
    return root


def test_load_folder_lists_classes_from_sub_folders_in_sorted_order(tree):
    table = load_folder(tree)
    assert list(table.columns) == list(COLUMNS)
    relative = [Path(p).relative_to(tree).as_posix() for p in table["path"]]
    assert relative == ["a/sub/z.tif", "a/x.bmp", "b/1.jpeg", "b/10.PNG", "b/2.png",
                        "c/deep/er/y.jpg"]
    assert table["label"].tolist() == ["a", "a", "b", "b", "b", "c"]
    assert table["group"].isna().all()
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in table["path"])


def test_load_folder_applies_the_group_function(tree):
    table = load_folder(tree, group=lambda path: path.stem.upper())
    assert table["group"].tolist() == ["Z", "X", "1", "10", "2", "Y"]


def test_load_folder_takes_the_documented_group_name_and_refuses_others(tmp_path):
    _png(tmp_path / "sponge" / "21-scale_4_im_7_grey.png")
    _png(tmp_path / "cotton" / "17-scale_2_im_1_grey.png")
    assert load_folder(tmp_path, group="kth_tips_scale")["group"].tolist() == [2, 4]
    with pytest.raises(ConfigError, match="unknown group 'scale': pass a function of the image path, "
                                          "or the name of one of kth_tips_scale"):
        load_folder(tmp_path, group="scale")
    with pytest.raises(ConfigError, match="group must be a function of the image path"):
        load_folder(tmp_path, group=4)


def test_load_folder_is_independent_of_the_working_directory(tree, monkeypatch):
    expected = load_folder(tree)
    monkeypatch.chdir(tree.parent)
    pd.testing.assert_frame_equal(load_folder("tree"), expected)


def test_find_images_is_recursive_sorted_and_skips_hidden(tree):
    found = [p.relative_to(tree / "a").as_posix() for p in find_images(tree / "a")]
    assert found == ["sub/z.tif", "x.bmp"]


@pytest.mark.parametrize("make, match", [
    (lambda root: root, "no such folder"),
    (lambda root: root.write_text("x") and root, "not a folder"),
    (lambda root: root.mkdir() or root, "no class sub-folders"),
])
def test_load_folder_refuses_a_missing_file_or_empty_root(tmp_path, make, match):
    root = make(tmp_path / "data")
    with pytest.raises(DatasetError, match=match) as info:
        load_folder(root)
    assert str(root) in str(info.value)


def test_load_folder_names_class_folders_without_images(tree):
    (tree / "empty").mkdir()
    (tree / "only_text").mkdir()
    (tree / "only_text" / "readme.md").write_text("hi")
    with pytest.raises(DatasetError, match="without any image.*: empty, only_text"):
        load_folder(tree)


@pytest.mark.parametrize("locked", ["c/deep", "c", "."])
def test_load_folder_refuses_or_reports_a_folder_it_cannot_list(tree, monkeypatch, locked):
    folder = (tree / locked).resolve()
    def refusing(listing):  # as chmod 000 would, for anyone but root (the suite may run as root)
        def refuse(path="."):
            if os.path.realpath(path) == str(folder):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return listing(path)
        return refuse

    monkeypatch.setattr(os, "scandir", refusing(os.scandir))  # os.walk
    monkeypatch.setattr(os, "listdir", refusing(os.listdir))  # Path.iterdir
    with pytest.raises(DatasetError, match="cannot list the folder .*Permission denied") as info:
        load_folder(tree)  # no image goes missing silently
    assert str(folder) in str(info.value)
    if locked == ".":
        return  # the root itself: nothing to list at all, refused either way
    errors = []
    table = load_folder(tree, onerror=errors.append)
    assert [err.filename for err in errors] == [str(folder)]
    # "c" lost its only image but is not refused as an empty class: the caller has its error.
    assert table["path"].tolist() == [str(tree.resolve() / p) for p in ["a/sub/z.tif", "a/x.bmp", "b/1.jpeg",
                                                                       "b/10.PNG", "b/2.png"]]


def _write_csv(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_load_csv_resolves_relative_paths_against_the_csv_folder(tmp_path, monkeypatch):
    a, b = _png(tmp_path / "set" / "img" / "a.png"), _png(tmp_path / "elsewhere" / "b.png")
    csv = _write_csv(tmp_path / "set" / "list.csv", f"path,label\nimg/a.png,rough\n{b},smooth\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    table = load_csv(csv)
    assert table["path"].tolist() == [str(a), str(b)]
    assert table["label"].tolist() == ["rough", "smooth"]
    assert table["group"].isna().all()


def test_load_csv_keeps_numeric_labels_groups_and_row_order(tmp_path):
    for name in "cab":
        _png(tmp_path / f"{name}.png")
    csv = _write_csv(tmp_path / "l.csv", "label,path,group,note\n3,c.png,1,x\n1.5,a.png,2,y\n2,b.png,1,z\n")
    table = load_csv(csv)
    assert list(table.columns) == list(COLUMNS)
    assert [Path(p).name for p in table["path"]] == ["c.png", "a.png", "b.png"]
    assert table["label"].dtype.kind == "f" and table["label"].tolist() == [3.0, 1.5, 2.0]
    assert table["group"].tolist() == [1, 2, 1]


def test_load_csv_of_unlabelled_images_needs_only_paths(tmp_path):
    _png(tmp_path / "a.png")
    csv = _write_csv(tmp_path / "l.csv", "path\na.png\n")
    table = load_csv(csv, labelled=False)
    assert list(table.columns) == list(COLUMNS)
    assert table["label"].isna().all() and table["group"].isna().all()
    with pytest.raises(DatasetError, match="missing column.*label"):
        load_csv(csv)
    with pytest.raises(DatasetError, match="empty path on line.*3"):
        load_csv(_write_csv(tmp_path / "m.csv", "path,label\na.png,\n,1\n"), labelled=False)


def test_load_csv_reads_na_like_labels_as_names_and_blank_cells_as_missing(tmp_path):
    for name in "abcde":
        _png(tmp_path / f"{name}.png")
    csv = _write_csv(tmp_path / "l.csv", "path,label,group\na.png,NA,1\nb.png,None,\nc.png,null, \n"
                                          "d.png,nan,2\ne.png,n/a,NA\n")
    table = load_csv(csv)
    assert table["label"].tolist() == ["NA", "None", "null", "nan", "n/a"]
    assert table["group"].isna().tolist() == [False, True, True, False, False]
    assert table["group"][[0, 3, 4]].tolist() == ["1", "2", "NA"]
    with pytest.raises(DatasetError, match="empty path or label on line.*3"):
        load_csv(_write_csv(tmp_path / "m.csv", "path,label\na.png,x\nb.png,  \n"))
    unlabelled = load_csv(_write_csv(tmp_path / "u.csv", "path,label\na.png,\nb.png,NA\n"), labelled=False)
    assert unlabelled["label"].isna().tolist() == [True, False] and unlabelled["label"][1] == "NA"


def test_load_csv_accepts_a_byte_order_mark(tmp_path):
    _png(tmp_path / "a.png")
    csv = tmp_path / "excel.csv"
    csv.write_bytes("path,label\na.png,1\n".encode("utf-8-sig"))
    assert load_csv(csv)["label"].tolist() == [1]


@pytest.mark.parametrize("text, match", [
    ("file,label\na.png,1\n", "missing column.*path.*found: file, label"),
    ("path,class\na.png,1\n", "missing column.*label"),
    ("path,label\n", "no rows"),
    ("path,label\na.png,1\n,2\na.png,\n", "empty path or label on line.*3, 4"),
    ("", "not a readable CSV"),
])
def test_load_csv_refuses_malformed_lists(tmp_path, text, match):
    _png(tmp_path / "a.png")
    csv = _write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(DatasetError, match=match) as info:
        load_csv(csv)
    assert str(info.value).startswith(f"{csv}: ")


def test_load_csv_names_every_missing_file(tmp_path):
    _png(tmp_path / "here.png")
    rows = "".join(f"gone{i}.png,1\n" for i in range(12))
    csv = _write_csv(tmp_path / "l.csv", "path,label\nhere.png,0\n" + rows)
    with pytest.raises(DatasetError, match="12 listed image") as info:
        load_csv(csv)
    message = str(info.value)
    assert all(f"gone{i}.png" in message for i in range(10)) and "2 more" in message
    assert "here.png" not in message


def test_load_csv_refuses_a_missing_csv(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_csv(tmp_path / "none.csv")
    with pytest.raises(DatasetError, match="cannot read"):
        load_csv(tmp_path)


def test_load_csv_keeps_a_mask_column_resolved_like_the_paths(tmp_path):
    (tmp_path / "list.csv").write_text("path,label,mask\na.png,x,masks/a.png\nb.png,y,\n/abs/c.png,x,/abs/c_m.png\n")
    table = load_csv(tmp_path / "list.csv", check_files=False)
    assert list(table.columns) == [*COLUMNS, "mask"]
    assert table["mask"].tolist() == [str(tmp_path / "masks" / "a.png"), None, "/abs/c_m.png"]
    (tmp_path / "plain.csv").write_text("path,label\na.png,x\n")
    assert list(load_csv(tmp_path / "plain.csv", check_files=False).columns) == list(COLUMNS)


class TestFindMasks:
    def test_mirrored_folder_with_any_image_extension(self, tmp_path):
        images = [_png(tmp_path / "in" / "a" / "one.jpg"), _png(tmp_path / "in" / "two.png"),
                  _png(tmp_path / "in" / "three.tif")]
        _png(tmp_path / "masks" / "a" / "one.png")  # another extension than its image
        _png(tmp_path / "masks" / "two.PNG")
        _png(tmp_path / "masks" / "two.png")  # the image's own extension wins
        masks = find_masks(images, tmp_path / "in", masks_dir=tmp_path / "masks")
        assert masks == [str(tmp_path / "masks" / "a" / "one.png"), str(tmp_path / "masks" / "two.png"),
                         str(tmp_path / "masks" / "three.*")]  # missing: the pattern looked for

    def test_suffix_beside_each_image(self, tmp_path):
        images = [_png(tmp_path / "a" / "one.jpg"), _png(tmp_path / "two.png")]
        _png(tmp_path / "a" / "one_mask.bmp")
        masks = find_masks(images, tmp_path, suffix="_mask")
        assert masks == [str(tmp_path / "a" / "one_mask.bmp"), str(tmp_path / "two_mask.*")]

    def test_exactly_one_way(self, tmp_path):
        with pytest.raises(ConfigError, match="one way"):
            find_masks([], tmp_path)
        with pytest.raises(ConfigError, match="one way"):
            find_masks([], tmp_path, masks_dir=tmp_path, suffix="_m")
        with pytest.raises(ConfigError, match="suffix"):
            find_masks([], tmp_path, suffix="a/b")

    def test_mask_files_are_not_inputs(self, tmp_path):
        assert is_mask_file(tmp_path / "a" / "one_mask.png", tmp_path, suffix="_mask")
        assert not is_mask_file(tmp_path / "a" / "one.png", tmp_path, suffix="_mask")
        assert is_mask_file(tmp_path / "masks" / "a" / "one.png", tmp_path, masks_dir=tmp_path / "masks")
        assert not is_mask_file(tmp_path / "a" / "one.png", tmp_path, masks_dir=tmp_path / "masks")
        assert not is_mask_file(tmp_path / "a" / "one.png", tmp_path)


def test_load_sample_textures():
    table = load_sample()
    counts = table.groupby("label").size()
    assert len(counts) >= 5 and (counts >= 20).all()
    assert all(Path(p).is_file() for p in table["path"])


def test_load_sample_roughness_has_numeric_grades():
    table = load_sample("roughness")
    assert table["label"].dtype.kind == "i"
    assert sorted(table["label"].unique()) == [1, 2, 3, 4, 5]
    assert all(Path(p).is_file() for p in table["path"])


def test_load_sample_refuses_an_unknown_name():
    with pytest.raises(ConfigError, match="'nope'.*textures, roughness"):
        load_sample("nope")


@pytest.mark.parametrize("name, scale", [
    ("15-scale_1_im_1_grey.png", 1), ("sponge/21-scale_9_im_3_grey.png", 9),
    (Path("x/1-scale_12_im_10_grey.png"), 12),
])
def test_kth_tips_scale(name, scale):
    assert kth_tips_scale(name) == scale


def test_kth_tips_scale_refuses_other_names():
    with pytest.raises(TextureError, match="holiday.png: file name is not"):
        kth_tips_scale("holiday.png")


@pytest.mark.skipif(not KTH_TIPS.is_dir(), reason=f"KTH-TIPS not found at {KTH_TIPS}")
def test_kth_tips_tree_with_scale_groups():
    table = load_folder(KTH_TIPS, group=kth_tips_scale)
    assert len(table) == 810
    assert table["label"].nunique() == 10
    assert (table.groupby("label").size() == 81).all()
    assert sorted(table["group"].unique()) == list(range(1, 10))
    assert (table.groupby("group").size() == 90).all()


def test_docstring_examples_run():
    assert doctest.testmod(pipeline.data).failed == 0


def _refusing_scandir(monkeypatch, folder):
    """Make os.scandir refuse `folder`, as chmod 000 would for anyone but root (the suite may run as root)."""
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def _listing_by_sorting(source):
    """A folder's listing as it was built before the walk: every image path in a list sorted by its parts,
    the folders that cannot be listed sorted in, and the skipped files found by a second, recursive glob."""
    errors, images = [], []
    for parent, dirs, files in os.walk(source, onerror=errors.append):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        images.extend(Path(parent, name) for name in files
                      if not name.startswith(".") and Path(name).suffix.lower() in pipeline.data.IMAGE_EXTENSIONS)
    listed = sorted([*images, *(Path(err.filename) for err in errors)], key=lambda path: path.relative_to(source).parts)
    skipped = sorted(str(path) for path in source.rglob("*") if not path.is_dir() and path not in images)
    return [str(path) for path in listed], skipped


def test_a_folder_is_walked_in_the_order_of_its_paths_sorted_by_parts(tmp_path, monkeypatch):
    from pipeline.run.inputs import list_inputs

    root = tmp_path / "in"
    # Names whose order differs between sorting whole path strings and sorting by parts ("a-b/x" < "a/b"
    # as strings, not by parts), mixed case, unicode in two normal forms, a name that is not UTF-8.
    names = ["a-b/x.png", "a/b.png", "a b.png", "a.png", "a0.png", "A/z.png", "a.png.d/in.png", "a.d/a.png",
             "\u00e9.png", "e\u0301.png", "\u00df/q.png", "b\udcff.png", "b\udcff/c.png", "10.png", "9.png",
             "x.PNG", "sub/deeper/Z.TIF", "sub/deeper.png", "sub/deeper0/y.jpg", "a/notes.txt", "a/.hidden/x.png",
             ".git/y.png", "a/.x.png", "locked/gone.png", "locked0/k.png", "deep/" * 12 + "leaf.bmp"]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    (root / "link").symlink_to(root / "a")  # a link to a folder: not walked, not a file
    (root / "gone.png").symlink_to(root / "deleted.png")  # a broken link: an image, its read fails later
    _refusing_scandir(monkeypatch, root / "locked")
    expected, expected_skipped = _listing_by_sorting(root)
    assert expected.index(str(root / "a-b" / "x.png")) > expected.index(str(root / "a" / "b.png"))  # tricky indeed
    items, skipped = list_inputs(root)
    assert [item.path for item in items] == expected
    assert skipped == expected_skipped and str(root / "a" / "notes.txt") in skipped and len(skipped) == 4
    assert [item.label for item in items if item.error] == ["locked"]
    # An image (or a folder that cannot be listed) takes its top-level folder's name as its label, in its
    # printable form when not UTF-8.
    assert [item.label for item in items] == [printable(Path(path).relative_to(root).parts[0])
                                              if Path(path).parent != root or Path(path).is_dir() else ""
                                              for path in expected]
    assert "b\\xff" in [item.label for item in items]
    # Labelled: each class folder's listing (a link to a folder is a class too), class after class.
    items, _ = list_inputs(root, labelled=True)
    resolved = root.resolve()
    classes = sorted(path.name for path in resolved.iterdir() if path.is_dir() and not path.name.startswith("."))
    assert "link" in classes and [item.path for item in items] == [
        path for name in classes for path in _listing_by_sorting(resolved / name)[0]]
