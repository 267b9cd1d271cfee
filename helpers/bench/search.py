"""Trials per hour of the search with 1, 2, ... worker processes, each arrangement on a fresh study.

The workers are separate processes, as on separate machines, each with its share of the cores; without
--storage they share a temporary local PostgreSQL:

    python -m helpers.bench.search --profile cpu --measure 1 2 --trials 6 --output runs/cpu/search_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import optuna

from helpers.hardware import machine_info
from helpers.profiles import mask
from helpers.search.local_postgres import LocalPostgres
from helpers.search.storage import open_storage
from helpers.search.study import FINISHED, SCHEDULE_STEP
from helpers.search.worker import STORAGE_ENV, argument_parser
from helpers.training.workers import usable_cores


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Trials per hour with each count of `args.measure` workers, on a fresh study each: the workers are
    separate `python -m helpers.search` processes, each with its share of this machine's cores, timed from their
    start (data loading included) to the last one's exit; `trial_span_seconds` runs from the first trial's start
    to the last trial's end. Trials differ between arrangements (sampled, pruned), so epochs per hour are
    reported beside trials per hour."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    passed = [f"--profile={args.profile}", f"--trials={args.trials}", "--workers=1"]
    passed += [
        f"--{name}={value}"
        for name in ("model", "seed", "data-dir")
        if (value := getattr(args, name.replace("-", "_")))
    ]
    passed += [f"--set={key}={json.dumps(value)}" for key, value in args.settings]
    result: dict[str, Any] = {"profile": args.profile, "trials": args.trials, "settings": dict(args.settings)}
    with ExitStack() as stack:
        url = args.storage or stack.enter_context(LocalPostgres()).url
        result["storage"] = mask(url) if args.storage else "temporary PostgreSQL on this machine"
        result["machine"] = machine_info()
        arrangements = {}
        for workers in args.measure:
            name = f"throughput-{stamp}-{workers}"
            env = {**os.environ, STORAGE_ENV: url, "OMP_NUM_THREADS": str(max(1, usable_cores() // workers))}
            command = [sys.executable, "-m", "helpers.search", *passed, f"--study={name}"]
            print(f"== {workers} worker(s), study {name} ==", flush=True)
            started = time.perf_counter()
            processes = [subprocess.Popen(command, env=env) for _ in range(workers)]
            codes = [process.wait() for process in processes]
            wall = time.perf_counter() - started
            if any(codes):
                raise RuntimeError(f"a worker of the {workers}-worker arrangement failed (exit {codes})")
            study = optuna.load_study(study_name=name, storage=open_storage(url))
            arrangements[str(workers)] = throughput(study, wall, workers)
        result["arrangements"] = arrangements
    first, *rest = (arrangements[str(workers)] for workers in args.measure)
    result["speedup_vs_first"] = {
        str(workers): round(other["trials_per_hour"] / first["trials_per_hour"], 2)
        for workers, other in zip(args.measure[1:], rest)
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for workers, row in arrangements.items():
        print(
            f"{workers} worker(s): {row['finished']} trials in {row['wall_seconds']:.0f} s, "
            f"{row['trials_per_hour']:.1f} trials/h ({row['epochs_per_hour']:.1f} epochs/h), "
            f"{row['trials_per_hour_within_span']:.1f} trials/h from first trial to last"
        )
    print(f"wrote {args.output}")
    return result


def throughput(study: Any, wall: float, workers: int) -> dict[str, Any]:
    """A finished measurement study's counts and rates."""
    trials = study.get_trials(deepcopy=False, states=FINISHED)
    epochs = sum(max(t.intermediate_values, default=0) % SCHEDULE_STEP for t in trials)
    span = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()
    return {
        "workers": workers,
        "finished": len(trials),
        "pruned": sum(t.state.name == "PRUNED" for t in trials),
        "epochs_trained": epochs,
        "wall_seconds": round(wall, 1),
        "trial_span_seconds": round(span, 1),
        "trials_per_hour": round(len(trials) / wall * 3600, 2),
        "epochs_per_hour": round(epochs / wall * 3600, 2),
        "trials_per_hour_within_span": round(len(trials) / span * 3600, 2),
        "mean_trial_seconds": round(sum(t.duration.total_seconds() for t in trials) / len(trials), 1),
        "machines": sorted({t.user_attrs["worker"].split(":")[0] for t in trials}),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argument_parser("python -m helpers.bench.search")
    parser.description = __doc__.split("\n\n")[0]
    parser.add_argument("--measure", nargs="+", type=int, required=True, metavar="WORKERS", help="worker counts")
    parser.add_argument("--output", type=Path, required=True, help="the JSON file to write")
    args = parser.parse_args(argv)
    if args.trials is None:
        parser.error("--measure needs --trials")
    return measure(args)


if __name__ == "__main__":
    main()
