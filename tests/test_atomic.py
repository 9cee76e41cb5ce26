"""Atomic writes: the old file or the complete new one, with a plain file's permissions."""

import os

import pytest

from pipeline.atomic import atomic_write


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write("new but incomplete")
            raise RuntimeError
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["x.txt"]
    with atomic_write(target) as f:
        f.write("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["x.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_the_file_gets_the_permissions_open_would_give(tmp_path, umask):
    old = os.umask(umask)
    try:
        with atomic_write(tmp_path / "atomic.txt") as f:
            f.write("x")
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
        assert os.umask(umask) == umask  # the umask is left as it was
    finally:
        os.umask(old)
    mode = (tmp_path / "atomic.txt").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o666 & ~umask
