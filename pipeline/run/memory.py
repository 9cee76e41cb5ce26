"""How much memory an input will take, and how many large inputs a run starts at once.

A worker extracting the features of an image holds, at its peak, about
:data:`PEAK_BYTES_PER_PIXEL` bytes per pixel (``benchmarks/memory.py
--per-pixel`` measures it).  Eight workers each given a 120-megapixel image
would need far more than most machines have, although each image is legal.
The process engine therefore estimates each chunk's peak from its images'
headers (read in the parent: a few hundred bytes each, no pixels) and starts
a chunk only when its estimate fits in what the chunks already running leave
of a :class:`MemoryBudget` (by default three quarters of the memory available
when the run starts, :func:`available_memory`); a chunk that would not fit
even alone runs alone.  Small images estimate a few megabytes: they never wait.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from texture.errors import TextureError
from texture.io import header_pixels

__all__ = ["PEAK_BYTES_PER_PIXEL", "COLOUR_PEAK_BYTES_PER_PIXEL", "COPIES_PEAK_BYTES_PER_PIXEL",
           "bytes_per_pixel", "available_memory", "peak_estimate", "MemoryBudget"]

#: Peak resident bytes per pixel of ``extract_features`` on a large grey
#: image, measured (10 to 11; README, "Memory per pixel") and rounded up for the
#: decoder's and the allocator's slack.
PEAK_BYTES_PER_PIXEL = 16
#: The same in colour (``FeatureConfig(colour="opponent")``): measured 12
#: on 8-bit RGB (the stored pixels, 3 bytes, beside the grey image while it
#: is made); a 16-bit RGB image is stored in 6.
COLOUR_PEAK_BYTES_PER_PIXEL = 20
#: Per pixel of the image, what making its training copies and their
#: features takes at the peak (``texture train``; the upscaled copy has twice
#: the pixels): measured 28 in grey, 78 in colour.
COPIES_PEAK_BYTES_PER_PIXEL = {False: 32, True: 84}


def bytes_per_pixel(config, copies: bool = False) -> int:
    """Estimated peak bytes per pixel of extracting the features of `config` from an image, or (`copies`) of
    its training copies: the figures above (every family, the optional ones included, stays within the
    default's: ``benchmarks/memory.py --per-pixel ... --rows glcmhalf,lbpvar,clbp``)."""
    if copies:
        return COPIES_PEAK_BYTES_PER_PIXEL[config.reads_colour]
    return COLOUR_PEAK_BYTES_PER_PIXEL if config.reads_colour else PEAK_BYTES_PER_PIXEL


def available_memory() -> int | None:
    """Bytes of memory available to new work now (Linux ``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def peak_estimate(path: str, bytes_per_pixel: int = PEAK_BYTES_PER_PIXEL) -> int:
    """Estimated peak bytes of a worker processing the image at `path`, from its header.

    `bytes_per_pixel` is the task's (``Task.peak_bytes_per_pixel``).  0 when
    the header cannot be read: the worker then fails on it at once and says why.
    """
    try:
        return header_pixels(Path(path)) * bytes_per_pixel
    except TextureError:
        return 0


class MemoryBudget:
    """Bytes shared by the chunks running at once: a chunk waits until its estimate fits.

    The rule: a chunk starts when the estimates of the chunks running plus
    its own are at most `budget`, or when no other chunk is running (so an
    input larger than the whole budget still runs, alone).

    Parameters
    ----------
    budget : int
        Bytes the running chunks' estimates may add up to.
    """

    def __init__(self, budget: int):
        self.budget = budget
        self.in_use = 0
        self._changed = threading.Condition()

    def acquire(self, amount: int) -> None:
        """Wait until `amount` bytes fit (see the rule), then take them."""
        with self._changed:
            while self.in_use > 0 and self.in_use + amount > self.budget:
                self._changed.wait()
            self.in_use += amount

    def release(self, amount: int) -> None:
        """Give back `amount` bytes taken by :meth:`acquire`."""
        with self._changed:
            self.in_use -= amount
            self._changed.notify_all()
