"""The serial engine: every chunk in this process (no start-up cost; easiest to debug)."""

from __future__ import annotations

from pipeline.run.engines.base import Engine

__all__ = ["SerialEngine"]


class SerialEngine(Engine):
    """Run every chunk in this process, one after the other."""

    def map_chunks(self, task, chunks):
        task.setup()
        for chunk in chunks:
            yield task.rows(chunk)
