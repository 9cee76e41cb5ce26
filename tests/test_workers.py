"""Tests for pipeline/workers.py: how many worker processes, and how they start."""

import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

from pipeline.workers import _THREAD_ENV, pool_size, start_worker_server, usable_cpu_count


def test_usable_cpu_count_respects_affinity():
    n = usable_cpu_count()
    assert 1 <= n <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert n <= len(os.sched_getaffinity(0))


def test_pool_size_defaults_to_the_usable_cpus():
    assert pool_size(None) == usable_cpu_count()
    assert pool_size(3) == 3


def _worker_state():
    return {name: os.environ.get(name) for name in _THREAD_ENV}, sorted(sys.modules)


def test_workers_start_with_the_batch_code_imported_and_single_threaded_libraries():
    before = dict(os.environ)
    context = start_worker_server()
    assert context.get_start_method() == "forkserver"
    assert dict(os.environ) == before  # only the server's environment is changed
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        environment, modules = pool.submit(_worker_state).result()
    assert environment == dict.fromkeys(_THREAD_ENV, "1")
    # Imported by the server once, not by each worker: this module imports neither.
    assert {"pipeline.run.engines.processes", "numpy", "cv2"} <= set(modules)


def test_importing_the_module_imports_no_numeric_library():
    # The command line starts the server before importing numpy: both import at once.
    code = "import sys, pipeline.workers; print(*sys.modules)"
    modules = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not {"numpy", "cv2", "texture", "pipeline.batch", "pipeline.run.tasks"} & set(modules.split())
