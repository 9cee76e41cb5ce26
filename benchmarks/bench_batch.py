"""Throughput of a batch feature extraction: process pool against one process.

Extracts the default features of the bundled sample images (150 textures +
60 roughness surfaces, listed 4 times so that the pool's start-up, about a
second of imports per worker, is not the whole story) with ``run_batch`` on
every usable CPU, and the same with one process (the reference, timed in the
same run), checks that both outputs are byte-identical, and prints images per
second and the speed-up.

Run: ``.venv/bin/python benchmarks/bench_batch.py``
"""

import tempfile
import time
from pathlib import Path

from pipeline.batch import ExtractTask, list_inputs, make_engine, run_batch, usable_cpu_count
from pipeline.sample import sample_root


def main():
    items = 4 * (list_inputs(sample_root() / "textures")[0] + list_inputs(sample_root() / "roughness.csv")[0])
    jobs = usable_cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        times = {}
        for name, n in (("one process", 1), (f"{jobs} processes", jobs)):
            start = time.perf_counter()
            run_batch(ExtractTask(), items, Path(tmp, f"{n}.csv"), engine=make_engine(n), quiet=True)
            times[name] = time.perf_counter() - start
        same = Path(tmp, "1.csv").read_bytes() == Path(tmp, f"{jobs}.csv").read_bytes()
    print(f"{len(items)} images, outputs identical: {same}")
    print(f"{'engine':14s} {'seconds':>8s} {'images/s':>9s}")
    for name, seconds in times.items():
        print(f"{name:14s} {seconds:8.2f} {len(items) / seconds:9.1f}")
    ours, reference = times[f"{jobs} processes"], times["one process"]
    print(f"speed-up (one process / pool): {reference / ours:.2f}x on {jobs} usable CPUs")
    if not same:
        raise SystemExit("parallel output differs from the serial one")


if __name__ == "__main__":
    main()
