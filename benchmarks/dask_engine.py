"""Batch extraction through a local 2-worker Dask cluster against the local process pool.

Both engines run ``texture extract`` (:func:`pipeline.batch.run_batch` with
:class:`~pipeline.batch.ExtractTask`, chunks of 16) over the same files:
KTH-TIPS grey (200 x 200) when it is next to the repository, else the
bundled sample.  Three set-ups: the local pool of 2 processes (the
reference), Dask on an already running 2-worker cluster, and Dask starting
and stopping its own 2-worker cluster (``--engine dask`` without
``--scheduler``).  Prints images/s of the whole run and its ratio to the
reference, when the first rows arrived (start-up), the time per image after
that and the overhead per image (that time minus the reference's).  The
outputs are checked to be identical.  Runs alternate; the best of `REPEATS`
is kept.  The load average is printed too: other processes on the machine
skew every figure.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from pipeline.batch import Engine, ExtractTask, list_inputs, run_batch
from pipeline.run.engines.processes import ProcessEngine
from pipeline.sample import sample_root
from texture.errors import ConfigError

try:
    from pipeline.run.engines.dask import DaskEngine, local_cluster
except ConfigError:  # no Dask
    sys.exit("this benchmark needs Dask: pip install -e '.[dask]'")

KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"
N_IMAGES = 400
WORKERS = 2
REPEATS = 2


def _inputs():
    if KTH_TIPS.is_dir():
        items, _ = list_inputs(KTH_TIPS)
        return "KTH-TIPS grey 200x200", items[::max(1, len(items) // N_IMAGES)][:N_IMAGES]
    items, _ = list_inputs(sample_root() / "textures")
    return "bundled sample 96x96", items


class _Timed(Engine):
    """Wraps an engine; records when the first rows and the last rows arrive."""

    def __init__(self, engine):
        self.engine = engine
        self.arrivals = []

    def map_chunks(self, task, chunks):
        for rows in self.engine.map_chunks(task, chunks):
            self.arrivals.append((time.perf_counter(), len(rows)))
            yield rows


def _run(engine, items, output):
    """Seconds of the whole run, until the first rows, and per image after them."""
    timed = _Timed(engine)
    start = time.perf_counter()
    run_batch(ExtractTask(), items, output, engine=timed, quiet=True)
    total = time.perf_counter() - start
    (first, first_rows), (last, _) = timed.arrivals[0], timed.arrivals[-1]
    return total, first - start, (last - first) / (len(items) - first_rows)


def main():
    name, items = _inputs()
    n = len(items)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        best = {}

        def measure(label, engine):
            figures = _run(engine, items, tmp / f"{label}.csv")
            best[label] = min(best.get(label, figures), figures)

        with local_cluster(WORKERS) as cluster:
            for _ in range(REPEATS):
                measure("local pool", ProcessEngine(WORKERS))
                measure("dask, running cluster", DaskEngine(cluster.scheduler_address))
        # Alone on the machine: this run starts and stops its own cluster.
        measure("dask, own cluster", DaskEngine(jobs=WORKERS))
        assert len({path.read_bytes() for path in tmp.glob("*.csv")}) == 1, "the engines disagree"

    print(f"{n} images ({name}), {WORKERS} workers, chunks of 16; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'engine':22s} {'total s':>8s} {'images/s':>9s} {'ratio':>6s} {'first rows s':>13s} "
          f"{'ms/image':>9s} {'overhead ms/image':>18s}")
    reference = best["local pool"]
    for label, (total, first, per_image) in best.items():
        print(f"{label:22s} {total:8.2f} {n / total:9.1f} {reference[0] / total:6.2f} {first:13.2f} "
              f"{per_image * 1e3:9.2f} {(per_image - reference[2]) * 1e3:18.2f}")


if __name__ == "__main__":
    main()
