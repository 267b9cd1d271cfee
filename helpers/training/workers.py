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
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import torch

from helpers.hardware import best_device
from helpers.notebook import show_progress


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


def _prepare(device: int | None, progress: bool) -> None:
    """Pool initializer: on CUDA, give this worker its device before CUDA starts; with progress off
    (decided in the parent, see `helpers.notebook.show_progress`), silence the library bars a fresh process would
    draw on the parent's stderr, such as transformers' "Loading weights" and "Writing model shards"."""
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(device)
    if not progress:
        from huggingface_hub.utils import disable_progress_bars
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        disable_progress_bars()


def _call(function: Callable[..., Any], kwargs: dict[str, Any], threads: int | None) -> Any:
    if threads is not None:
        torch.set_num_threads(threads)
    return function(**kwargs)


class WorkerLostError(RuntimeError):
    """Jobs whose worker process died twice (killed, out of memory); `results` keeps the jobs that finished, with
    None for the lost ones."""

    def __init__(self, lost: list[str], results: list[Any]) -> None:
        super().__init__(f"worker process died twice running: {', '.join(lost)}")
        self.lost = lost
        self.results = results


def run_jobs(
    function: Callable[..., Any],
    jobs: Sequence[dict[str, Any]],
    workers: int | None = None,
    describe: Callable[[dict[str, Any]], str] | None = None,
) -> list[Any]:
    """`function(**job)` for every job, in `workers` processes (default `default_workers()`); results in job order.

    On a CPU each job gets its share of the cores (`threads_per_job`). A line is printed as each job ends, since
    the workers' own output goes to the terminal that started Jupyter, not to the notebook.

    Each worker is a pool of one process, so a worker that dies breaks only its own pool, not the others' jobs
    (one shared `ProcessPoolExecutor` ends every worker on `BrokenProcessPool`). Its job runs once more in a fresh
    process; dying again, it is reported by name in `WorkerLostError`, after the other jobs have finished.
    """
    workers = min(workers or default_workers(), len(jobs)) if jobs else 0
    if workers <= 1:
        return [function(**job) for job in jobs]
    kind = torch.device(best_device()).type
    threads: list[int | None] = list(threads_per_job(len(jobs), workers)) if kind == "cpu" else [None] * len(jobs)
    names = [describe(job) if describe else f"job {index}" for index, job in enumerate(jobs)]
    context = multiprocessing.get_context("spawn")
    progress = show_progress()

    def start(slot: int) -> ProcessPoolExecutor:
        device = slot if kind == "cuda" else None
        return ProcessPoolExecutor(1, mp_context=context, initializer=_prepare, initargs=(device, progress))

    pools = [start(slot) for slot in range(workers)]
    queue = deque(range(len(jobs)))
    attempts = [0] * len(jobs)
    running: dict[Future[Any], tuple[int, int]] = {}
    results: list[Any] = [None] * len(jobs)
    lost: list[int] = []

    def submit(slot: int) -> None:
        if queue:
            index = queue.popleft()
            attempts[index] += 1
            running[pools[slot].submit(_call, function, jobs[index], threads[index])] = (index, slot)

    try:
        for slot in range(workers):
            submit(slot)
        done = 0
        while running:
            for future in wait(running, return_when=FIRST_COMPLETED).done:
                index, slot = running.pop(future)
                try:
                    results[index] = future.result()  # a job's own exception is raised here
                except BrokenProcessPool:
                    pools[slot].shutdown(wait=False)
                    pools[slot] = start(slot)
                    if attempts[index] < 2:
                        print(f"{names[index]}: its worker process died; running it again", flush=True)
                        queue.appendleft(index)
                    else:
                        print(f"{names[index]}: its worker process died again; left out", flush=True)
                        lost.append(index)
                else:
                    done += 1
                    print(f"[{done}/{len(jobs)}] finished: {names[index]}", flush=True)
                submit(slot)
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
    if lost:
        raise WorkerLostError([names[index] for index in lost], results)
    return results
