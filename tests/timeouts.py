"""A time limit for tests of code that must never hang (FIFOs, corrupt files)."""

import contextlib
import signal


class Hang(BaseException):
    """Raised when time is up; a BaseException, so no handler under test swallows it."""


@contextlib.contextmanager
def time_limit(seconds):
    """Fail (instead of hanging the suite) if the block runs longer than `seconds`.

    Uses SIGALRM, so the limit applies on POSIX only; elsewhere the block runs
    unguarded.
    """
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
