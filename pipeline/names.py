"""File names in text files: every output is valid UTF-8, whatever the names.

A POSIX file name is bytes, not necessarily UTF-8 (``bad_\\xff.png``, from an
old Latin-1 system); Python gives such a byte as a lone surrogate
(``"\\udcff"``, PEP 383).  Written into a CSV as the raw byte, one such name
makes the whole file unreadable to every UTF-8 reader (``pandas.read_csv``
fails).  So ``texture`` writes a path cell in an escaped form:

* a byte that is not part of valid UTF-8 is written ``\\xNN`` (two lowercase
  hex digits): ``bad_\\xff.png``;
* a backslash that would otherwise read as the start of an escape (one
  followed by another backslash, by such a byte, or by ``x`` and two hex
  digits) is doubled: ``a\\\\x41.png`` is the file named ``a\\x41.png``;
* everything else, every other backslash included, is written as it is:
  the names of almost every file are written unchanged.

:func:`unescape_path` reads the form back to the exact file name
(``\\\\`` is one backslash, ``\\xNN`` the byte NN, any other backslash
itself); ``texture`` reads the ``path`` column of its CSV inputs, and of
an interrupted run's journal, that way.  Other text (labels taken from
folder names, error messages) is only made valid: its stray bytes are written
``\\xNN`` (:func:`printable`), to be read as the text it then is.

Messages shown on a terminal (progress, warnings, errors, summaries) hold
names too, and a name can hold a carriage return, a newline or an escape
sequence, which would overwrite a line, split a log line in two or drive
the terminal.  Every message ``texture`` prints goes through
:func:`terminal_text`, which writes such characters as escapes (``\\r``,
``\\n``, ``\\x1b``); output files keep the exact text.
"""

from __future__ import annotations

import os
import re

__all__ = ["escape_path", "unescape_path", "printable", "terminal_text"]

# A backslash that must be doubled: it precedes something that reads as an escape.
_AMBIGUOUS_BACKSLASH = re.compile(r"\\(?=[\\\udc80-\udcff]|x[0-9a-fA-F]{2})")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2})")
# What a terminal acts on rather than shows: C0 and C1 controls, DEL, the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with each byte that is not UTF-8 (a surrogate escape) written ``\\xNN``.

    Examples
    --------
    >>> printable("bad_\\udcff.png")
    'bad_\\\\xff.png'
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def terminal_text(text) -> str:
    """`text` as a message may show it on a terminal: on the lines it was meant to take, and inert.

    Each control character (C0, DEL, C1, and the Unicode line and
    paragraph separators) is written as an escape: ``\\n``, ``\\r``,
    ``\\t``, else ``\\xNN`` or ``\\uNNNN``; bytes that are not UTF-8 as
    ``\\xNN`` (:func:`printable`).  For display only: not reversible.

    Examples
    --------
    >>> print(terminal_text("failed: a\\rb.png: \\x1b[2J"))
    failed: a\\rb.png: \\x1b[2J
    """
    text = printable(str(text))
    if text.isprintable():
        return text  # the common case, quickly
    return _CONTROL.sub(lambda match: _NAMED_CONTROLS.get(match.group())
                        or (f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100
                            else f"\\u{ord(match.group()):04x}"), text)


def escape_path(path) -> str:
    """The escaped form of a file name, valid UTF-8 and exactly reversible.

    Parameters
    ----------
    path : str or os.PathLike
        As Python gives it: bytes that are not UTF-8 as surrogate escapes.

    Returns
    -------
    text : str
        See the module documentation; unchanged for almost every name.

    Examples
    --------
    >>> escape_path("photos/bad_\\udcff.png")
    'photos/bad_\\\\xff.png'
    >>> escape_path("photos/bark.png")
    'photos/bark.png'
    """
    text = os.fspath(path)
    if text.isascii() and "\\" not in text:
        return text  # the common case, quickly
    return printable(_AMBIGUOUS_BACKSLASH.sub(r"\\\\", text))


def unescape_path(text: str) -> str:
    """The file name that :func:`escape_path` wrote as `text`.

    Examples
    --------
    >>> unescape_path("photos/bad_\\\\xff.png") == "photos/bad_\\udcff.png"
    True
    """
    if "\\" not in text:
        return text
    parts = _ESCAPE.split(text)
    # split() alternates text and the captured escape: "\\" or "xNN".
    data = b"".join(
        part.encode("utf-8", "surrogateescape") if k % 2 == 0
        else b"\\" if part == "\\" else bytes([int(part[1:], 16)])
        for k, part in enumerate(parts)
    )
    return data.decode("utf-8", "surrogateescape")
