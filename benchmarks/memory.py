"""Peak memory of batch runs over many small images, and kill-and-resume equality.

For each size (2,000 and 20,000 64 x 64 PNGs by default, generated with a
fixed seed into a temporary folder) this runs ``texture extract`` in a
subprocess and reports its peak resident memory: the peak of the whole
process tree (driver + workers, sampled every 50 ms from /proc) and the
largest single process (``wait4``).  Flat memory means the figures barely
move from 2,000 to 20,000 images.  The reference, run the same way, is the
obvious in-memory script, ``pd.DataFrame([extract_features(p) ...]).to_csv``,
whose memory grows with the number of images.

Then a run is killed (SIGKILL to its process group) once its journal holds
a third of the rows, resumed with the same command, and its output compared
byte for byte with the uninterrupted run's.

Linux only (/proc, wait4).  Usage::

    python benchmarks/memory.py [--sizes 2000,20000] [--jobs 2] [--large 10000]

``--large N`` also extracts the default features of one N x N noise image in
a subprocess and reports its peak memory in working images (float64 copies).

``--per-pixel 4000,8000`` measures instead the peak memory of
``extract_features(path)`` per pixel of large N x N grey PNGs, for each family
and for all of them, each in a fresh subprocess: the traced numpy peak
(tracemalloc) and the resident peak above the process's own after a warm-up
(``VmHWM``), both divided by the pixel count, and the resident slope
between the first and last size (fixed costs cancel out).  ``--before REV``
(a git revision) runs the same with that revision's ``texture`` package for
comparison, e.g. ``--per-pixel 4000,8000 --before HEAD~1``; the sizes run
one at a time, so the largest image's peak is the benchmark's.  ``--rows``
picks what is measured (:data:`ROWS`): the families (the default), the
``nri_uniform`` LBP, the optional families, colour extraction (on RGB PNGs), and the features of an
image's training copies (``texture train``; ``--before`` swaps only the
``texture`` package, not ``pipeline``).
"""

from __future__ import annotations

import argparse
import json
import filecmp
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 64
SEED = 0
_NAIVE = """
import sys
import pandas as pd
from pipeline.data import find_images
from texture import extract_features
paths = find_images(sys.argv[1])
pd.DataFrame([extract_features(p) for p in paths], index=[str(p) for p in paths]).to_csv(sys.argv[2])
"""
# The process's own resident peak (VmHWM), in bytes.  Not ru_maxrss: a process started by this
# one inherits its peak there (Linux carries it across fork and exec), which can be far larger
# than the child's after this script has made large images.
_PEAK = """
def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
"""
_LARGE = _PEAK + """
import sys
from texture import FeatureExtractor, read_image
grey = read_image(sys.argv[1])
before = peak()
FeatureExtractor().transform(grey)
print(peak() - before)  # bytes the extraction added to the peak
"""

_PER_PIXEL = _PEAK + """
import json, sys, tracemalloc
import numpy as np
from texture import FeatureConfig, extract_features
path, row = sys.argv[1], json.loads(sys.argv[2])
config = FeatureConfig(**row["config"])
def measured(image):
    if not row.get("copies"):
        return extract_features(image, config)
    from pipeline.augment import copy_features
    from texture import FeatureExtractor
    from texture.io import open_image
    return copy_features(FeatureExtractor(config), open_image(image))  # as texture train reads it
measured(np.random.default_rng(0).random((64, 64, 3) if config.reads_colour else (64, 64)))  # imports, caches
before = peak()
tracemalloc.start()
measured(path)
traced = tracemalloc.get_traced_memory()[1]
print(traced, peak() - before)
"""
#: What --per-pixel measures: FeatureConfig fields, and whether the training
#: copies' features (texture train) rather than the image's.  Colour rows
#: read an RGB PNG, the others a grey one.
ROWS = {
    "glcm": {"config": {"families": ["glcm"]}},
    "lbp": {"config": {"families": ["lbp"]}},
    "gabor": {"config": {"families": ["gabor"]}},
    "all": {"config": {}},
    "lbp-nri": {"config": {"families": ["lbp"], "lbp_method": "nri_uniform"}},
    "glcmhalf": {"config": {"families": ["glcmhalf"]}},
    "lbpvar": {"config": {"families": ["lbpvar"]}},
    "clbp": {"config": {"families": ["clbp"]}},
    "lpq": {"config": {"families": ["lpq"]}},
    "colour": {"config": {"colour": "opponent"}},
    "copies": {"config": {}, "copies": True},
    "colour-copies": {"config": {"colour": "opponent"}, "copies": True},
}
FAMILIES = ("glcm", "lbp", "gabor", "all")


def make_images(folder: Path, count: int) -> None:
    """`count` seeded 64 x 64 grey PNGs (smoothed noise, so they compress like photos)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for i in range(count):
        noise = rng.random((SIDE + 3, SIDE + 3))
        smooth = (noise[:-3, :-3] + noise[3:, 3:] + noise[:-3, 3:] + noise[3:, :-3]) / 4
        Image.fromarray((smooth * 255).astype(np.uint8)).save(folder / f"{i:06d}.png")


def _tree_rss(pgid: int) -> int:
    """Resident bytes of every process in process group `pgid` (Linux /proc)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 of stat: process group
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss pages
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return total


def run_measured(command: list[str], *, kill_when=None, env=None, cwd=None) -> dict:
    """Run `command` in its own process group; return seconds, peak RSS figures, exit status.

    `kill_when`, a callable polled every 50 ms, kills the whole group with
    SIGKILL as soon as it returns True.  `env` and `cwd`: if not this process's.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, cwd=cwd)
    tree_peak, killed = 0, False
    while True:  # not poll(): it would reap the child and lose its rusage
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        tree_peak = max(tree_peak, _tree_rss(process.pid))
        if kill_when is not None and not killed and kill_when():
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    output = process.stdout.read().decode(errors="replace")
    process.stdout.close()
    return {"seconds": time.perf_counter() - start, "tree_peak": tree_peak,
            "process_peak": usage.ru_maxrss * 1024, "status": process.returncode,
            "killed": killed, "output": output.strip()}


def _extract_command(src: Path, out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "extract", str(src), "-o", str(out), "-q",
            "--jobs", str(jobs)]


def _rows(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f) - 1
    except OSError:
        return 0


def _mb(n: float) -> str:
    return f"{n / 2**20:8.0f}"


def per_pixel(sides: list[int], before: str | None, tmp: Path, rows=FAMILIES) -> None:
    """Print the peak bytes per pixel of ``extract_features`` on N x N images (see the module notes)."""
    versions = {"ours": None}
    if before is not None:
        old = tmp / "before"
        old.mkdir()
        root = Path(__file__).resolve().parents[1]
        archive = subprocess.run(["git", "-C", str(root), "archive", before, "texture"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        versions = {f"before ({before})": str(old), "ours": None}
    print("peak bytes per pixel of extract_features(path), N x N 8-bit PNG of noise (RGB for colour rows); "
          "traced: numpy (tracemalloc), resident: VmHWM above the warmed-up process")
    print(f"{'version':16s} {'row':13s} " + " ".join(f"{f'{n} traced':>13s} {f'{n} resident':>15s}" for n in sides)
          + f" {'resident slope':>15s} {'seconds':>8s}")
    for side in sides:
        path = tmp / f"grey{side}.png"
        pixels = np.random.default_rng(SEED).integers(0, 256, (side, side), dtype=np.uint8)
        Image.fromarray(pixels).save(path, compress_level=1)
        if any(ROWS[row]["config"].get("colour") for row in rows):
            planes = np.random.default_rng(SEED).integers(0, 256, (side, side, 3), dtype=np.uint8)
            Image.fromarray(planes).save(tmp / f"rgb{side}.png", compress_level=1)
            del planes
        del pixels
    for version, pythonpath in versions.items():
        env = dict(os.environ, **({} if pythonpath is None else {"PYTHONPATH": pythonpath}))
        for row in rows:
            figures, seconds = [], 0.0
            image = "rgb" if ROWS[row]["config"].get("colour") else "grey"
            for side in sides:
                # From `tmp`: "python -c" puts the working directory (a checkout's texture/) first on the path.
                run = run_measured([sys.executable, "-c", _PER_PIXEL, str(tmp / f"{image}{side}.png"),
                                    json.dumps(ROWS[row])], env=env, cwd=tmp)
                assert run["status"] == 0, run["output"]
                traced, resident = map(int, run["output"].splitlines()[-1].split())
                figures.append((side * side, traced, resident))
                seconds += run["seconds"]
            (n0, _, r0), (n1, _, r1) = figures[0], figures[-1]
            slope = f"{(r1 - r0) / (n1 - n0):15.1f}" if n1 > n0 else f"{'':15s}"
            print(f"{version:16s} {row:13s} "
                  + " ".join(f"{t / n:13.1f} {r / n:15.1f}" for n, t, r in figures) + f" {slope} {seconds:8.0f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000", help="numbers of images, comma-separated")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of texture extract")
    parser.add_argument("--no-reference", action="store_true", help="skip the in-memory reference")
    parser.add_argument("--large", type=int, default=0, metavar="N",
                        help="also extract one N x N image and report its peak memory")
    parser.add_argument("--per-pixel", metavar="SIDES",
                        help="instead, peak bytes per pixel of extract_features on SIDE x SIDE images")
    parser.add_argument("--before", metavar="REV", help="with --per-pixel: also measure this git revision")
    parser.add_argument("--rows", default=",".join(FAMILIES),
                        help=f"with --per-pixel: what to measure, comma-separated among {', '.join(ROWS)}")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.per_pixel:
        with tempfile.TemporaryDirectory(prefix="texture-memory-") as tmp:
            per_pixel([int(s) for s in args.per_pixel.split(",")], args.before, Path(tmp), args.rows.split(","))
        return 0

    with tempfile.TemporaryDirectory(prefix="texture-memory-") as tmp:
        tmp = Path(tmp)
        print(f"images: {SIDE} x {SIDE} PNG, seed {SEED}; texture extract --jobs {args.jobs}; "
              "peak RSS in MiB (tree: all processes together, sampled; process: largest one)")
        print(f"{'images':>7s} {'run':10s} {'seconds':>8s} {'tree MiB':>8s} {'proc MiB':>8s}")
        outputs = {}
        for n in sizes:
            src = tmp / f"images{n}"
            make_images(src, n)
            out = tmp / f"ours{n}.csv"
            ours = run_measured(_extract_command(src, out, args.jobs))
            assert ours["status"] == 0 and _rows(out) == n, ours["output"]
            outputs[n] = (src, out)
            print(f"{n:7d} {'ours':10s} {ours['seconds']:8.1f} {_mb(ours['tree_peak'])} {_mb(ours['process_peak'])}")
            if not args.no_reference:
                ref = run_measured([sys.executable, "-c", _NAIVE, str(src), str(tmp / f"naive{n}.csv")])
                assert ref["status"] == 0, ref["output"]
                print(f"{n:7d} {'in-memory':10s} {ref['seconds']:8.1f} {_mb(ref['tree_peak'])} "
                      f"{_mb(ref['process_peak'])}   ratio tree {ref['tree_peak'] / ours['tree_peak']:.2f}")

        n = sizes[0]
        src, uninterrupted = outputs[n]
        resumed = tmp / f"resumed{n}.csv"
        journal = resumed.with_name(resumed.name + ".partial.csv")
        first = run_measured(_extract_command(src, resumed, args.jobs),
                             kill_when=lambda: _rows(journal) >= n // 3)
        partial_rows = _rows(journal)
        second = run_measured(_extract_command(src, resumed, args.jobs))
        same = second["status"] == 0 and filecmp.cmp(uninterrupted, resumed, shallow=False)
        print(f"\nkill and resume ({n} images): killed={first['killed']} with {partial_rows} rows "
              f"in the journal; resumed run: {second['output'].splitlines()[-1]}")
        print(f"resumed output byte-identical to the uninterrupted one: {same}")

        if args.large:
            path = tmp / "large.png"
            pixels = np.random.default_rng(SEED).integers(0, 256, (args.large, args.large), dtype=np.uint8)
            Image.fromarray(pixels).save(path, compress_level=1)
            del pixels
            large = run_measured([sys.executable, "-c", _LARGE, str(path)])
            assert large["status"] == 0, large["output"]
            working = args.large**2 * 8
            added = int(large["output"].splitlines()[-1])
            print(f"\n{args.large} x {args.large} image, default features: {large['seconds']:.0f} s; "
                  f"process peak RSS {large['process_peak'] / 2**20:.0f} MiB, of which the extraction "
                  f"added {added / 2**20:.0f} MiB = {added / working:.1f} x the "
                  f"{working / 2**20:.0f} MiB working image")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
