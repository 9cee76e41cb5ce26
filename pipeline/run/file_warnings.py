"""The warnings about a run's files, gathered from wherever they were raised and said once per run.

A :class:`~texture.errors.TextureWarning` (a grey image read in colour mode)
is raised once per file, by the code that reads it, in whichever process
that is.  A batch worker does not show it: :meth:`pipeline.run.tasks.Task.rows`
collects the warnings of its chunk and hands each input's kinds back with
its row (:attr:`~pipeline.run.tasks.Row.warnings`).  The run adds the rows'
warnings up here, and says each kind once, naming its first file and
counting them: ``12 grey images read in colour mode (first: a.png): ...``.
The command line collects a whole command (two training passes, the
example scored after them) in one :class:`FileWarnings`.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterable, Iterator

from texture.errors import TextureWarning

__all__ = ["FileWarnings"]


class FileWarnings:
    """The files of each kind of :class:`~texture.errors.TextureWarning`, distinct and in the order met."""

    def __init__(self):
        self._files: dict[type, dict] = {}

    def add(self, category: type, paths: Iterable) -> None:
        """Note that the files `paths` gave a warning of `category`."""
        self._files.setdefault(category, {}).update(dict.fromkeys(paths))

    def add_rows(self, rows) -> None:
        """Note the warnings each of `rows` (:class:`~pipeline.run.tasks.Row`) came back with, under its path."""
        for row in rows:
            for category in row.warnings:
                self.add(category, [row.path])

    def pop(self, path) -> tuple[type, ...]:
        """The kinds of warning `path` gave, each forgotten for it here."""
        kinds = []
        for category, files in self._files.items():
            if path in files:
                del files[path]
                kinds.append(category)
        return tuple(kinds)

    def paths(self, category: type) -> list:
        """The files that gave a warning of `category`."""
        return list(self._files.get(category, ()))

    @contextlib.contextmanager
    def collect(self) -> Iterator["FileWarnings"]:
        """Inside, the TextureWarnings raised in this process are added here instead of being shown.

        Every one is added, whatever the warning filters say (a file seen
        twice counts once); other warnings are filtered and shown as usual.
        The warning machinery is per process, not per thread: a thread
        running beside the block has its TextureWarnings collected too.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("always", TextureWarning)
            show = warnings.showwarning

            def divert(message, category, filename, lineno, file=None, line=None):
                if isinstance(message, TextureWarning):
                    self.add(category, message.paths)
                else:
                    show(message, category, filename, lineno, file, line)

            warnings.showwarning = divert
            yield self

    def warnings(self, name=str) -> list[TextureWarning]:
        """One warning per kind, standing for all its files (each given as ``name(path)``)."""
        return [category(*(None if path is None else name(path) for path in files))
                for category, files in self._files.items() if files]

    def warn(self, stacklevel: int = 2) -> None:
        """Raise the warnings of :meth:`warnings` (for the caller of the caller of this method, by default)."""
        for warning in self.warnings():
            warnings.warn(warning, stacklevel=stacklevel + 1)
