"""Engines that stop a batch run as Ctrl-C would, for the tests of resume."""

from pipeline.run.engines.serial import SerialEngine


def interrupting(engine_class):
    """A subclass of `engine_class`, made with ``(k, *args)``, stopped by ``KeyboardInterrupt`` before it
    yields its chunk number `k` (from 0); `args` go to `engine_class`."""

    class Interrupted(engine_class):
        def __init__(self, k, *args):
            super().__init__(*args)
            self.k = k

        def map_chunks(self, task, chunks):
            for k, rows in enumerate(super().map_chunks(task, chunks)):
                if k == self.k:
                    raise KeyboardInterrupt
                yield rows

    Interrupted.__name__ = Interrupted.__qualname__ = f"Interrupted{engine_class.__name__}"
    return Interrupted


InterruptedAt = interrupting(SerialEngine)
