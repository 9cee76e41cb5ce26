"""What a batch run did with its inputs: the counts, the first errors, and the progress shown meanwhile."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.names import terminal_text
from pipeline.run.tasks import Row

__all__ = ["RunSummary", "Progress"]


class Progress:
    """A tqdm bar on a terminal, a log line every few seconds otherwise, or nothing."""

    def __init__(self, total: int, initial: int, desc: str, quiet: bool, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.desc, self.quiet = total, initial, desc, quiet
        self.bar = None
        self.last = time.monotonic()
        if not quiet and self.stream.isatty():
            from tqdm import tqdm  # here: only a terminal shows a bar, and the import takes time

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="file", file=self.stream)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif not self.quiet and (time.monotonic() - self.last > 5 or self.done == self.total):
            self.last = time.monotonic()
            print(f"{self.desc}: {self.done}/{self.total} files", file=self.stream, flush=True)

    def write(self, message: str) -> None:
        if self.quiet:
            return
        message = terminal_text(message)  # it names files: a name must not move the cursor or split the line
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class RunSummary:
    """What a batch run did with its inputs.

    Attributes
    ----------
    output : pathlib.Path
    processed : int
        Inputs with a result row (including rows reused from an interrupted run).
    failed : int
        Inputs with an error row.
    skipped : list of str
        Files of the source folder that are not images, left out.
    resumed : int
        Rows reused from an interrupted run.
    errors : list of str
        ``"path: error"`` of the first failed inputs (at most 100).
    """

    output: Path
    processed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)
    resumed: int = 0
    errors: list[str] = field(default_factory=list)

    def record(self, row: Row, progress: Progress | None = None) -> None:
        """Count one row of the output; an error row is also shown on `progress`."""
        if row.ok:
            self.processed += 1
            return
        self.failed += 1
        message = row.error_line()
        if len(self.errors) < 100:
            self.errors.append(message)
        if progress is not None:
            progress.write(f"failed: {message}")

    def __str__(self) -> str:
        # Every file is counted once: the parts add up to the total.
        text = (f"{self.processed + self.failed + len(self.skipped)} files: {self.processed} processed, "
                f"{self.failed} failed, {len(self.skipped)} skipped (not images)")
        if self.resumed:
            text += f"; {self.resumed} rows reused from the interrupted run"
        return text
