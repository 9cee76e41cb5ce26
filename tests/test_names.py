"""File names in text outputs: valid UTF-8, and read back to the exact file."""

import os

from hypothesis import given
from hypothesis import strategies as st

from pipeline.names import escape_path, printable, unescape_path

# Names as a POSIX system may hold them: any bytes but NUL and "/".
NAME_BYTES = st.binary(min_size=1, max_size=24).map(lambda b: b.replace(b"\0", b"").replace(b"/", b"") or b"a")
# Text rich in the characters the escapes are made of.
TRICKY = st.text(alphabet=st.sampled_from(["\\", "x", "f", "F", "0", "9", "g", "a", "\udcff", "\udc80", "é", "/"]),
                 max_size=16)


@given(NAME_BYTES)
def test_any_name_is_written_as_utf8_and_read_back_exactly(raw):
    name = os.fsdecode(raw)
    text = escape_path(name)
    text.encode("utf-8")  # strict: raises if a byte slipped through
    assert unescape_path(text) == name and os.fsencode(unescape_path(text)) == raw


@given(TRICKY)
def test_backslashes_and_escape_look_alikes_round_trip(name):
    text = escape_path(name)
    text.encode("utf-8")
    assert unescape_path(text) == name


def test_the_stated_form():
    assert escape_path("photos/bad_\udcff.png") == "photos/bad_\\xff.png"
    assert escape_path("photos/bark.png") == "photos/bark.png"
    assert escape_path("caf\u00e9.png") == "caf\u00e9.png"  # valid UTF-8 stays as it is
    assert escape_path("a\\b.png") == "a\\b.png"  # a backslash that reads as no escape, too
    assert escape_path("a\\x41.png") == "a\\\\x41.png"  # one that would: doubled
    assert escape_path("a\\\\b") == "a\\\\\\b"
    assert unescape_path("a\\b.png") == "a\\b.png" and unescape_path("a\\\\x41.png") == "a\\x41.png"
    # Escaped bytes that form UTF-8 together are that character: the same file name.
    assert unescape_path("caf\\xc3\\xa9.png") == "caf\u00e9.png"


def test_other_text_is_made_valid():
    assert printable("bad_\udcff: not an image") == "bad_\\xff: not an image"
    assert printable("a\\b") == "a\\b"
