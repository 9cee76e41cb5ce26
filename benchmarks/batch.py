"""End-to-end throughput of ``texture extract DIR`` with 1 and 2 workers, against a plain loop.

Each run is a fresh process, so imports and the worker pool count, as they
do for a user:

- ``texture extract DIR -o out.csv --jobs N --quiet`` for N = 1 and 2;
- the reference, timed in the same run: one Python process that imports
  ``texture``, lists the same files, and calls ``read_image`` +
  ``extract_features`` on each, collecting the rows and writing them as CSV.

For each run it prints images per second (wall time: workers run in
parallel), the CPU seconds of the whole process tree and of its main process
alone, and the peak memory of the tree.  Then: the speed-up from 1 to 2
workers, the 1-worker time against the plain loop, the time to the first
result (``texture extract`` on a folder of one image: imports, worker pool
and one image; best of 5), whether peak memory depends on the number of
images (2 workers over a quarter of the images against all of them), and
where the CPU time of one image goes (decode, GLCM, LBP, Gabor, writing the
row), measured in this process.  Each figure is followed by its target and
whether it is met.

The CPU seconds count every process of a run, including those that outlive
it (the worker server): this script adopts orphaned descendants (Linux
``PR_SET_CHILD_SUBREAPER``) and reaps them.  Other processes sharing the
machine do not inflate CPU seconds, only wall seconds: on a busy machine read
throughput as images per CPU-second times the cores.  Memory is the
proportional set size (PSS, from /proc/PID/smaps_rollup) summed over the
process tree, so pages the workers share with each other count once.

With ``--long K``, the 1- and 2-worker runs are timed again on a list that
names every image K times: the speed-up without most of the start-up's
weight (a fixed half second is 8 % of a 7-second run).

Linux only (/proc).  Usage: python benchmarks/batch.py [DIR] [--repeat N] [--long K]
(DIR defaults to the KTH-TIPS copy next to the repository; with --repeat,
each run is the fastest of N, taken in turn)
"""

import argparse
import csv
import ctypes
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
PR_SET_CHILD_SUBREAPER = 36
TICKS = os.sysconf("SC_CLK_TCK")
PROFILE_EVERY = 5  # profile every 5th image: enough for stable means, a few seconds


def _process_tree(root_pid):
    """``root_pid`` and all its living descendants, from /proc."""
    children = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack += children.get(pid, [])
    return tree


def _pss(pid):
    """Proportional set size of one process in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_seconds(pid):
    """User + system CPU seconds of one living process (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def _reap_descendants():
    """Wait for the adopted orphans (a worker server outlives the run by a moment); their CPU seconds."""
    cpu = 0.0
    while True:
        try:
            _, _, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return cpu
        cpu += usage.ru_utime + usage.ru_stime


def run(command):
    """Run `command`; return wall seconds, CPU seconds of the tree and of its main process, peak PSS bytes."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        peak, main_cpu, done = 0, 0.0, threading.Event()

        def sample():
            nonlocal peak, main_cpu
            while not done.wait(0.02):
                peak = max(peak, sum(_pss(pid) for pid in _process_tree(process.pid)))
                main_cpu = _cpu_seconds(process.pid) or main_cpu

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4, not Popen.wait: its resource usage covers the main process and the children it waited for.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        cpu = usage.ru_utime + usage.ru_stime + _reap_descendants()
        if process.returncode:
            stderr.seek(0)
            raise SystemExit(f"{' '.join(map(str, command))} failed:\n{stderr.read().decode()}")
    return seconds, cpu, main_cpu, peak


def profile(images):
    """Mean CPU milliseconds per image of each stage, measured in this process on every 5th image."""
    import numpy as np

    from texture import FeatureConfig, FeatureExtractor, read_image

    families = FeatureConfig().families
    extractors = {family: FeatureExtractor(FeatureConfig(families=(family,))) for family in families}
    extractors["all three (one extractor)"] = FeatureExtractor()
    sample = images[::PROFILE_EVERY]
    for extractor in extractors.values():  # per-shape caches (Gabor kernel spectra) are built once per run
        extractor.transform(read_image(sample[0]))
    stages = {"decode (read_image)": 0.0, **dict.fromkeys(extractors, 0.0), "format + write the row": 0.0}
    with tempfile.TemporaryFile("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for path in sample:
            t0 = time.process_time()
            image = read_image(path)
            stages["decode (read_image)"] += time.process_time() - t0
            vectors = []
            for name, extractor in extractors.items():
                t0 = time.process_time()
                vectors.append(extractor.transform(image))
                stages[name] += time.process_time() - t0
            t0 = time.process_time()
            # As the batch runner writes them: floats as their shortest round-trip repr.
            writer.writerow([str(path), "", "", "ok", ""] + [repr(float(v)) for v in np.concatenate(vectors[:-1])])
            stages["format + write the row"] += time.process_time() - t0
    return {name: 1000 * total / len(sample) for name, total in stages.items()}, len(sample)


def verdict(met):
    return "met" if met else "NOT met"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=KTH_TIPS, type=Path)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each of the three runs this many times, in turn, and keep each one's "
                             "fastest (on a shared machine, the least disturbed); default 1")
    parser.add_argument("--long", type=int, default=0, metavar="K",
                        help="also time 1 and 2 workers on a list naming every image K times, where the "
                             "fixed start-up weighs K times less in the speed-up")
    args = parser.parse_args()
    # Absolute: the quarter's CSV lives in a temporary folder, and a CSV's relative paths are relative to it.
    args.folder = args.folder.resolve()
    images = sorted(p for p in args.folder.rglob("*.png"))
    if not images:
        raise SystemExit(f"no PNG images under {args.folder}")
    # Orphaned descendants of a run become our children: their CPU seconds are counted too.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    print(f"{len(images)} images under {args.folder}; {len(os.sched_getaffinity(0))} usable CPUs; "
          f"load average {os.getloadavg()[0]:.2f} at the start")

    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp, "one", "class")
        one.mkdir(parents=True)
        shutil.copy(images[0], one)
        firsts = [run([TEXTURE, "extract", one.parent, "-o", Path(tmp, "first.csv"), "--quiet"]) for _ in range(5)]
        first, first_cpu = min(firsts)[:2]
        # What the main process imports before its first result (the worker server imports as much, at once).
        imports = min(run([sys.executable, "-c", "import pipeline.commands"])[0] for _ in range(5))
        quarter = Path(tmp, "quarter.csv")
        quarter.write_text("path\n" + "".join(f"{p}\n" for p in images[: len(images) // 4]))
        commands = {
            "plain loop": [sys.executable, "-c", PLAIN_LOOP, args.folder, Path(tmp, "plain.csv")],
            "1 worker": [TEXTURE, "extract", args.folder, "-o", Path(tmp, "j1.csv"), "--jobs", "1", "--quiet"],
            "2 workers": [TEXTURE, "extract", args.folder, "-o", Path(tmp, "j2.csv"), "--jobs", "2", "--quiet"],
        }
        # In turn, so that a busy spell of the machine does not fall on one kind of run only.
        runs = [(name, run(command)) for _ in range(args.repeat) for name, command in commands.items()]
        results = {name: min(result for each, result in runs if each == name) for name in commands}
        quarter_peak = run([TEXTURE, "extract", quarter, "-o", Path(tmp, "q.csv"), "--jobs", "2", "--quiet"])[3]
        if args.long > 1:
            long_list = Path(tmp, "long.csv")
            long_list.write_text("path\n" + "".join(f"{p}\n" for _ in range(args.long) for p in images))
            long_runs = [
                (jobs, run([TEXTURE, "extract", long_list, "-o", Path(tmp, f"long{jobs}.csv"), "--jobs", str(jobs),
                            "--quiet"])[0])
                for _ in range(args.repeat) for jobs in (1, 2)
            ]
            long_seconds = [min(s for jobs, s in long_runs if jobs == n) for n in (1, 2)]
    print(f"\nfastest of {args.repeat} run(s) each" if args.repeat > 1 else "")
    print(f"{'run':12}{'seconds':>9}{'images/s':>10}{'CPU s':>8}{'images/CPU-s':>14}{'main CPU s':>12}"
          f"{'peak MB':>9}")
    for name, (seconds, cpu, main_cpu, peak) in results.items():
        print(f"{name:12}{seconds:9.2f}{len(images) / seconds:10.1f}{cpu:8.2f}{len(images) / cpu:14.1f}"
              f"{main_cpu:12.2f}{peak / 2**20:9.0f}")
    (plain, *_), (one_worker, *_), (two_workers, _, _, two_peak) = results.values()
    rate, speed_up, overhead = len(images) / two_workers, one_worker / two_workers, one_worker / plain
    print(f"\n2 workers: {rate:.0f} images/s (target >= 300: {verdict(rate >= 300)})")
    print(f"speed-up 1 -> 2 workers: {speed_up:.2f}x (target >= 1.8x: {verdict(speed_up >= 1.8)})")
    if args.long > 1:
        print(f"speed-up 1 -> 2 workers on {args.long * len(images)} images (each listed {args.long} times): "
              f"{long_seconds[0] / long_seconds[1]:.2f}x ({long_seconds[0]:.1f} s -> {long_seconds[1]:.1f} s)")
    print(f"1 worker vs plain loop: {overhead:.2f}x the time (target <= 1.10x: {verdict(overhead <= 1.10)})")
    print(f"time to first result (start-up + one image, best of 5): {first:.2f} s, {first_cpu:.2f} CPU s "
          f"(target < 1 s: {verdict(first < 1)}); of which the main process's imports: {imports:.2f} s")
    growth = two_peak / quarter_peak
    print(f"peak memory, 2 workers: {quarter_peak / 2**20:.0f} MB for {len(images) // 4} images, "
          f"{two_peak / 2**20:.0f} MB for {len(images)} ({growth:.2f}x; target: independent of the number "
          f"of images, <= 1.10x: {verdict(growth <= 1.10)})")

    stages, n = profile(images)
    print(f"\nCPU ms per image in one process (mean over {n} images; "
          f"load average {os.getloadavg()[0]:.2f} at the end):")
    for name, ms in stages.items():
        print(f"  {name:28}{ms:7.2f}")
    print("  (the family rows run one extractor each; 'all three' is the default extractor, the batch's path)")


if __name__ == "__main__":
    main()
