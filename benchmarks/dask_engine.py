"""Batch extraction on a running Dask cluster against the local process pool, and what Dask costs to start.

The cluster is the one a user runs: ``dask scheduler`` and ``dask worker
--nworkers N --nthreads 1``, started here as subprocesses on 127.0.0.1.
Both engines run :func:`pipeline.batch.run_batch` with
:class:`~pipeline.batch.ExtractTask` and their default chunk sizes over
copies of KTH-TIPS grey (200 x 200) when it is next to the repository,
else of the bundled sample.

* Throughput: 400 and 1200 images, `--repeats` times, the two engines
  interleaved (pool, Dask, Dask, pool, then Dask, pool, pool, Dask...).
  Prints the medians of the wall time and of the CPU time of every process
  involved (this one, the pool's workers, or the scheduler, nannies and
  workers), the marginal throughput from 400 to 1200 images (start-up and
  the last chunks cancel out) and its ratio, Dask's over the pool's, pair
  by pair; and the same rate measured within each 1200-image run, from its
  400th rows to its end (steadier on a shared machine, whose load changes
  between runs).  The last line gives the median ratios.
* Start-up: ``--engine dask`` without ``--scheduler`` (a cluster started and
  stopped by the run) against the pool on 400 images, alternating; and
  where that time goes: the cluster's start, the task reaching the workers.
* ``--profile`` (alone): where a run on a running cluster spends its time:
  how busy each worker is between its first and last task, the idle time
  between its tasks, and the CPU time per task of the client, scheduler,
  nannies and workers.
* ``--memory``: the peak resident memory of ``texture extract`` (a process
  of its own) over 2,000 and 20,000 inputs (small images), Dask's and the
  pool's.

The outputs of the two engines are checked to be identical.  The machine's
load average is printed: other processes skew every figure, the ratios less.

Usage: ``python benchmarks/dask_engine.py [--workers N] [--repeats R] [--chunk C] [--memory | --profile]``
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import psutil  # a dependency of dask.distributed

from pipeline.batch import Engine, ExtractTask, list_inputs, run_batch
from pipeline.run.engines.processes import ProcessEngine
from pipeline.sample import sample_root
from pipeline.workers import usable_cpu_count
from texture.errors import ConfigError

try:
    from distributed import Client, get_task_stream

    from pipeline.run.engines.dask import DASK_CHUNK_SIZE, DaskEngine, _TaskPlugin, local_cluster
except ConfigError:  # no Dask
    sys.exit("this benchmark needs Dask: pip install -e '.[dask]'")

KTH_TIPS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kth_tips_grey"
SIZES = (400, 1200)
MEMORY_SIZES = (2_000, 20_000)
BIN = Path(sys.executable).parent  # the dask and texture commands of this environment


def _sources() -> tuple[str, list[str]]:
    if KTH_TIPS.is_dir():
        return "copies of KTH-TIPS grey 200x200", [item.path for item in list_inputs(KTH_TIPS)[0]]
    return "copies of the bundled sample 96x96", [item.path for item in list_inputs(sample_root() / "textures")[0]]


def _copies(sources: list[str], n: int, folder: Path) -> list:
    """`n` image files in `folder`, copies of `sources` in turn (distinct files, as a real run reads)."""
    folder.mkdir()
    for k in range(n):
        (folder / f"img{k:05d}.png").write_bytes(Path(sources[k % len(sources)]).read_bytes())
    return sorted(list_inputs(folder)[0], key=lambda item: item.path)


@contextlib.contextmanager
def running_cluster(workers: int, folder: Path):
    """``dask scheduler`` and ``dask worker --nworkers workers --nthreads 1``, children of this process; yields the address."""
    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", scheduler_file], **quiet)]
    try:
        for _ in range(600):
            if scheduler_file.exists() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        processes.append(subprocess.Popen([BIN / "dask", "worker", address, "--nworkers", str(workers),
                                           "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"], **quiet))
        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its descendants alive now (pool or cluster)."""
    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


class _Timed(Engine):
    """Wraps an engine; reads the CPU time of every process of the run as rows arrive.

    When the last rows arrive the pool's workers are still alive: their CPU
    time is still there to read.
    """

    def __init__(self, engine):
        self.engine = engine
        self.chunk_size = engine.chunk_size
        self.first = self.cpu = None
        self.arrivals = []  # (rows so far, seconds) as each chunk's rows arrive

    def map_chunks(self, task, chunks):
        done = 0
        for rows in self.engine.map_chunks(task, chunks):
            self.first = self.first or time.perf_counter()
            self.cpu = _cpu_seconds()
            done += len(rows)
            self.arrivals.append((done, time.perf_counter()))
            yield rows

    def rate_after(self, n: int) -> float:
        """Images/s from the first rows past the `n`-th to the last ones: start-up left out, within one run."""
        (since, start), (end, stop) = next(a for a in self.arrivals if a[0] >= n), self.arrivals[-1]
        return (end - since) / (stop - start)


def _run(engine, items, output) -> tuple[float, float, float, float]:
    """Wall seconds, CPU seconds (this process and its descendants), seconds to the first rows, and images/s
    past the first SIZES[0] rows."""
    timed = _Timed(engine)
    cpu = _cpu_seconds()
    start = time.perf_counter()
    run_batch(ExtractTask(), items, output, engine=timed, quiet=True)
    wall = time.perf_counter() - start
    return wall, timed.cpu - cpu, timed.first - start, timed.rate_after(SIZES[0]) if len(items) > SIZES[0] else 0


def throughput(items, workers, repeats, chunk, tmp):
    figures = {}  # (engine, n) -> [(wall, cpu, first)]
    with running_cluster(workers, tmp) as address:
        engines = {"local pool": lambda: ProcessEngine(workers),
                   "dask, running cluster": lambda: DaskEngine(address, chunk_size=chunk)}
        for repeat in range(repeats):
            # Pool, Dask, Dask, pool; then Dask, pool, pool, Dask: a load that drifts during a repeat weighs on
            # both engines alike, and each engine's two runs (its marginal pair) are as often close as apart.
            order = list(engines) if repeat % 2 == 0 else list(reversed(engines))
            for n, labels in zip(SIZES, (order, order[::-1])):
                for label in labels:
                    output = tmp / f"{label}-{n}.csv"
                    figures.setdefault((label, n), []).append(_run(engines[label](), items[:n], output))
                assert len({(tmp / f"{label}-{n}.csv").read_bytes() for label in engines}) == 1, "engines disagree"
    return figures


def _marginal(runs_small, runs_large) -> list[float]:
    """Images/s from the small to the large run, repeat by repeat."""
    return [(SIZES[1] - SIZES[0]) / (large[0] - small[0]) for small, large in zip(runs_small, runs_large)]


def report_throughput(figures, workers, chunk):
    print(f"\nThroughput: {workers} single-threaded workers each; chunks of 8 (pool) and {chunk} (dask); "
          f"medians of {len(figures[('local pool', SIZES[0])])} alternating runs")
    print(f"{'engine':22s} {'images':>6s} {'wall s':>7s} {'images/s':>9s} {'CPU ms/image':>13s} {'first rows s':>13s}")
    for (label, n), runs in sorted(figures.items(), key=lambda entry: (entry[0][1], entry[0][0] != "local pool")):
        wall, cpu, first, _ = (statistics.median(column) for column in zip(*runs))
        print(f"{label:22s} {n:6d} {wall:7.2f} {n / wall:9.1f} {1e3 * cpu / n:13.2f} {first:13.2f}")
    pool = _marginal(figures[("local pool", SIZES[0])], figures[("local pool", SIZES[1])])
    dask = _marginal(figures[("dask, running cluster", SIZES[0])], figures[("dask, running cluster", SIZES[1])])
    marginal = statistics.median(d / p for d, p in zip(dask, pool))
    print(f"marginal throughput {SIZES[0]} -> {SIZES[1]} images: local pool {statistics.median(pool):.1f} images/s, "
          f"dask {statistics.median(dask):.1f} images/s; ratio dask / pool, pair by pair: median {marginal:.2f} "
          f"(each: {', '.join(f'{d / p:.2f}' for d, p in zip(dask, pool))})")
    # The same rate within each 1200-image run, from its 400th rows to its last: the load of a shared machine
    # changes less within one run than between the two runs the marginal figure subtracts.
    pool = [run[3] for run in figures[("local pool", SIZES[1])]]
    dask = [run[3] for run in figures[("dask, running cluster", SIZES[1])]]
    within = statistics.median(d / p for d, p in zip(dask, pool))
    print(f"within each {SIZES[1]}-image run, rows {SIZES[0]} -> {SIZES[1]}: local pool {statistics.median(pool):.1f} "
          f"images/s, dask {statistics.median(dask):.1f} images/s; ratio, pair by pair: median {within:.2f} "
          f"(each: {', '.join(f'{d / p:.2f}' for d, p in zip(dask, pool))})")
    return marginal, within


def _cpu_by_role() -> dict[str, float]:
    """CPU seconds of this process (the client) and of its descendants alive now, by role in the cluster."""
    seconds = {}
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            command, times = " ".join(process.cmdline()), process.cpu_times()
            # The worker processes are started by their nannies through multiprocessing.
            role = ("client" if process == me else "scheduler" if "scheduler" in command
                    else "workers" if "multiprocessing" in command else "nannies")
            seconds[role] = seconds.get(role, 0.0) + times.user + times.system
    return seconds


def profile(items, workers, chunk, tmp):
    """Where a run on a running cluster spends its time: Dask's task stream (each task's start and stop on its
    worker) and the CPU time of each process, per task."""
    with running_cluster(workers, tmp) as address, Client(address, set_as_default=False) as client:
        run_batch(ExtractTask(), items[:SIZES[0]], tmp / "warm.csv", engine=DaskEngine(address), quiet=True)
        with get_task_stream(client) as stream:
            before = _cpu_by_role()
            start = time.perf_counter()
            run_batch(ExtractTask(), items, tmp / "profiled.csv", engine=DaskEngine(address, chunk_size=chunk),
                      quiet=True)
            wall = time.perf_counter() - start
            spent = {role: seconds - before.get(role, 0.0) for role, seconds in _cpu_by_role().items()}
    spans = {}
    for task in stream.data:
        spans.setdefault(task["worker"], []).extend(
            (span["start"], span["stop"]) for span in task["startstops"] if span["action"] == "compute")
    tasks = sum(len(worker) for worker in spans.values())
    print(f"\nProfile: {len(items)} images, {tasks} tasks of {chunk} on a running cluster, {wall:.2f} s "
          f"(load average {os.getloadavg()[0]:.1f})")
    for worker, computed in sorted(spans.items()):
        computed.sort()
        busy = sum(stop - begin for begin, stop in computed)
        gaps = [later[0] - earlier[1] for earlier, later in zip(computed, computed[1:])]
        print(f"worker {worker}: {len(computed)} tasks, computing {busy / (computed[-1][1] - computed[0][0]):.1%} "
              f"of the time from its first task's start to its last one's end; between tasks: median "
              f"{1e3 * statistics.median(gaps):.1f} ms, longest {1e3 * max(gaps):.0f} ms")
    print("CPU per task: " + ", ".join(f"{role} {1e3 * seconds / tasks:.1f} ms"
                                       for role, seconds in sorted(spent.items()))
          + f" ({1e3 * spent.get('workers', 0) / len(items):.2f} ms per image in the workers)")


def startup(items, workers, repeats, tmp):
    """Whole runs of 400 images: the pool against Dask starting its own cluster; then the parts of that start."""
    items = items[:SIZES[0]]
    walls = {"local pool": [], "dask, own cluster": []}
    for _ in range(repeats):
        walls["local pool"].append(_run(ProcessEngine(workers), items, tmp / "pool.csv")[0])
        walls["dask, own cluster"].append(_run(DaskEngine(jobs=workers), items, tmp / "own.csv")[0])
    assert (tmp / "pool.csv").read_bytes() == (tmp / "own.csv").read_bytes(), "engines disagree"
    parts = []
    for _ in range(repeats):
        start = time.perf_counter()
        with local_cluster(workers) as cluster:
            started = time.perf_counter()
            with Client(cluster, set_as_default=False) as client:
                client.wait_for_workers(workers)
                connected = time.perf_counter()
                client.register_plugin(_TaskPlugin(ExtractTask(), os.getcwd()), name="texture-benchmark")
                registered = time.perf_counter()
            closing = time.perf_counter()
        parts.append((started - start, connected - started, registered - connected, time.perf_counter() - closing))
    pool, own = statistics.median(walls["local pool"]), statistics.median(walls["dask, own cluster"])
    print(f"\nStart-up: {len(items)} images, {workers} workers, medians of {repeats} alternating runs")
    print(f"local pool {pool:.2f} s, dask starting its own cluster {own:.2f} s: {own - pool:+.2f} s "
          f"(pair by pair: {', '.join(f'{o - p:+.2f}' for o, p in zip(walls['dask, own cluster'], walls['local pool']))})")
    cluster, connect, register, stop = (statistics.median(column) for column in zip(*parts))
    print(f"where it goes: cluster start (scheduler, {workers} worker processes importing Dask) {cluster:.2f} s, "
          f"client connected {connect:.2f} s, task set up on every worker (importing the feature code) "
          f"{register:.2f} s, cluster stop {stop:.2f} s")


def _peak_rss_mb(command) -> float:
    """Peak resident memory of `command` run as a process of its own, in MB."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"{command} exited with {process.returncode}"
    return usage.ru_maxrss / 1024  # KiB on Linux


def memory(sources, workers, tmp):
    """Peak memory of the client, ``texture extract`` over lists of 2,000 and 20,000 small images."""
    image = cv2.imread(sources[0], cv2.IMREAD_GRAYSCALE)[:64, :64]
    folder = tmp / "small"
    folder.mkdir()
    cv2.imwrite(str(folder / "img.png"), image)
    for k in range(MEMORY_SIZES[-1]):  # distinct paths, one file's data
        os.link(folder / "img.png", folder / f"img{k:05d}.png")
    paths = sorted(str(path) for path in folder.glob("img?????.png"))
    peaks = {}
    (tmp / "memory").mkdir()
    with running_cluster(workers, tmp / "memory") as address:
        for n in MEMORY_SIZES:
            listing = tmp / f"list{n}.csv"
            listing.write_text("path\n" + "\n".join(paths[:n]) + "\n")
            common = [BIN / "texture", "extract", listing, "-q"]
            peaks[("local pool", n)] = _peak_rss_mb([*common, "-o", tmp / f"pool{n}.csv", "-j", str(workers)])
            peaks[("dask", n)] = _peak_rss_mb([*common, "-o", tmp / f"dask{n}.csv", "--engine", "dask",
                                               "--scheduler", address])
            assert (tmp / f"pool{n}.csv").read_bytes() == (tmp / f"dask{n}.csv").read_bytes(), "engines disagree"
    print("\nClient memory: peak resident MB of `texture extract` (64 x 64 images)")
    for label in ("local pool", "dask"):
        small, large = (peaks[(label, n)] for n in MEMORY_SIZES)
        print(f"{label:12s} {MEMORY_SIZES[0]} inputs {small:7.1f} MB, {MEMORY_SIZES[1]} inputs {large:7.1f} MB: "
              f"{large - small:+.1f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=usable_cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=DASK_CHUNK_SIZE, help="inputs per Dask task")
    parser.add_argument("--memory", action="store_true", help="also measure the client's memory (a few minutes)")
    parser.add_argument("--profile", action="store_true", help="only profile one run on a running cluster")
    args = parser.parse_args()
    name, sources = _sources()
    load = os.getloadavg()[0]
    print(f"{name}; load average {load:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        items = _copies(sources, SIZES[-1], tmp / "images")
        if args.profile:
            return profile(items, args.workers, args.chunk, tmp)
        marginal, within = report_throughput(throughput(items, args.workers, args.repeats, args.chunk, tmp),
                                             args.workers, args.chunk)
        load_after = os.getloadavg()[0]
        startup(items, args.workers, args.repeats, tmp)
        if args.memory:
            memory(sources, args.workers, tmp)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(f"\nRESULT running cluster / local pool, {args.workers} workers, {args.repeats} pairs: marginal throughput "
          f"({SIZES[0]} -> {SIZES[1]} images) ratio {marginal:.2f}, within-run rate ratio {within:.2f} "
          f"(target >= 0.90; load average {load:.1f} -> {load_after:.1f} during these runs)")


if __name__ == "__main__":
    main()
