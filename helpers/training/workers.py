"""Independent runs (search trials, seeds) in parallel worker processes: one per core on a CPU, one per GPU.

On a CPU, one single-threaded run per core does more work per hour than one run spread over every core
(`make bench` measures it), because a small model's operations are too short to keep several threads busy.
On GPUs, each worker is pinned to its own device. One worker runs in this process, with nothing spawned.

The workers are a `concurrent.futures` process pool started with "spawn" (a fresh interpreter, safe from a
Jupyter kernel and with CUDA); a job is a function importable from `helpers` and its picklable arguments.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import torch

from helpers.hardware import best_device


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS says, else every core)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_workers() -> int:
    """One worker per GPU on CUDA, one per core on a CPU, and one on MPS (the profile's `workers` overrides it)."""
    kind = torch.device(best_device()).type
    if kind == "cuda":
        return torch.cuda.device_count()
    if kind == "cpu":
        return usable_cores()
    return 1


def threads_per_job(jobs: int, workers: int, cores: int | None = None) -> list[int]:
    """PyTorch threads for each of `jobs` jobs dealt to `workers` workers in waves: the cores divided among the
    jobs that run together, so a last wave of fewer jobs than workers still uses every core."""
    cores = cores or usable_cores()
    threads = []
    for start in range(0, jobs, workers):
        together = min(workers, jobs - start)
        threads += [max(1, cores // together)] * together
    return threads


def _pin(devices: Any) -> None:
    """Pool initializer: on CUDA, give this worker a device of its own before CUDA starts."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(devices.get())


def _call(function: Callable[..., Any], kwargs: dict[str, Any], threads: int | None) -> Any:
    if threads is not None:
        torch.set_num_threads(threads)
    return function(**kwargs)


def run_jobs(
    function: Callable[..., Any],
    jobs: Sequence[dict[str, Any]],
    workers: int | None = None,
    describe: Callable[[dict[str, Any]], str] | None = None,
) -> list[Any]:
    """`function(**job)` for every job, in `workers` processes (default `default_workers()`); results in job order.

    On a CPU each job gets its share of the cores (`threads_per_job`). A line is printed as each job ends, since
    the workers' own output goes to the terminal that started Jupyter, not to the notebook.
    """
    workers = min(workers or default_workers(), len(jobs)) if jobs else 0
    if workers <= 1:
        return [function(**job) for job in jobs]
    kind = torch.device(best_device()).type
    threads: list[int | None] = list(threads_per_job(len(jobs), workers)) if kind == "cpu" else [None] * len(jobs)
    context = multiprocessing.get_context("spawn")
    devices = None
    if kind == "cuda":
        devices = context.Manager().Queue()
        for index in range(workers):
            devices.put(index)
    results: list[Any] = [None] * len(jobs)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_pin, initargs=(devices,)) as pool:
        futures = {pool.submit(_call, function, job, threads[i]): i for i, job in enumerate(jobs)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()  # a worker's exception is raised here, naming the job below
            name = describe(jobs[index]) if describe else f"job {index}"
            print(f"[{done}/{len(jobs)}] finished: {name}", flush=True)
    return results
