"""End-to-end throughput of ``texture extract DIR`` with 1 and 2 workers, against a plain loop.

Each run is a fresh process, so imports and the worker pool count, as they
do for a user:

- ``texture extract DIR -o out.csv --jobs N --quiet`` for N = 1 and 2;
- the reference, timed in the same run: one Python process that imports
  ``texture``, lists the same files, and calls ``read_image`` +
  ``extract_features`` on each, collecting the rows and writing them as CSV.

Prints images per second (wall time: workers run in parallel), the speed-up
from 1 to 2 workers, the time to the first result (``texture extract`` on a
folder of one image: imports, worker pool and one image), and the peak
resident memory of each run's whole process tree (sampled every 20 ms from
/proc).  The machine may be shared: run it when it is idle, or read the
figures as lower bounds.

Usage: python benchmarks/batch.py [DIR] (default: the KTH-TIPS copy next to the repository)
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"
TEXTURE = Path(sys.executable).with_name("texture")
PLAIN_LOOP = """
import sys
from pathlib import Path
import pandas as pd
from texture import extract_features, read_image
paths = sorted(p for p in Path(sys.argv[1]).rglob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})
rows = [extract_features(read_image(p)) for p in paths]
pd.DataFrame(rows, index=[str(p) for p in paths]).to_csv(sys.argv[2])
"""


def _tree_rss(root_pid):
    """Resident bytes of ``root_pid`` and all its descendants, from /proc."""
    children = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def run(command):
    """Wall seconds and peak process-tree RSS (bytes) of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, done = 0, threading.Event()

    def sample():
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{stderr.decode()}")
    return seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=KTH_TIPS, type=Path)
    args = parser.parse_args()
    images = sorted(p for p in args.folder.rglob("*.png"))
    if not images:
        raise SystemExit(f"no PNG images under {args.folder}")
    print(f"{len(images)} images under {args.folder}; {len(os.sched_getaffinity(0))} usable CPUs")

    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp, "one", "class")
        one.mkdir(parents=True)
        shutil.copy(images[0], one)
        first, _ = run([TEXTURE, "extract", one.parent, "-o", Path(tmp, "first.csv"), "--quiet"])
        results = {
            "plain loop": run([sys.executable, "-c", PLAIN_LOOP, args.folder, Path(tmp, "plain.csv")]),
            "1 worker": run([TEXTURE, "extract", args.folder, "-o", Path(tmp, "j1.csv"), "--jobs", "1", "--quiet"]),
            "2 workers": run([TEXTURE, "extract", args.folder, "-o", Path(tmp, "j2.csv"), "--jobs", "2", "--quiet"]),
        }
    print(f"{'run':12}{'seconds':>9}{'images/s':>10}{'peak RSS MB':>13}")
    for name, (seconds, peak) in results.items():
        print(f"{name:12}{seconds:9.2f}{len(images) / seconds:10.1f}{peak / 2**20:13.0f}")
    one_worker, two_workers, plain = (results[k][0] for k in ("1 worker", "2 workers", "plain loop"))
    print(f"speed-up 1 -> 2 workers: {one_worker / two_workers:.2f}x (target >= 1.8x)")
    print(f"1 worker vs plain loop: {one_worker / plain:.2f}x the time (target <= 1.10x)")
    print(f"time to first result (start-up + one image): {first:.2f} s (target < 1 s)")
    print(f"2 workers: {len(images) / two_workers:.0f} images/s (target >= 300)")


if __name__ == "__main__":
    main()
