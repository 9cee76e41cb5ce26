"""An engine that stops a batch run as Ctrl-C would, for the tests of resume."""

from pipeline.run.engines.serial import SerialEngine


class InterruptedAt(SerialEngine):
    """The serial engine, stopped by ``KeyboardInterrupt`` before it yields its chunk number `k` (from 0)."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def map_chunks(self, task, chunks):
        for k, rows in enumerate(super().map_chunks(task, chunks)):
            if k == self.k:
                raise KeyboardInterrupt
            yield rows
