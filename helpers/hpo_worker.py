"""Search workers on this machine that join a search's study, wherever it is kept, and run its trials.

    python -m helpers.hpo_worker --profile cpu --storage postgresql://user@host/db [--workers N] [--study NAME]
        [--trials N] [--data-dir DIR] [--model NAME] [--seed N] [--set key=value ...]

Start it on every machine, with the same code, data and settings (`make hpo-worker STORAGE=...`): it loads the
data and tokenizer as notebook 04 does and runs `helpers.hpo.run_search` in `--workers` processes (default: one
per core, or per GPU), until the study holds the trials asked for. Notebook 04 run with the same `storage` then
finds the trials done and reads the study. `--storage` defaults to `$EMOTION_HPO_STORAGE`, and without either the
workers share this machine's SQLite study, as notebook 04 does. Exit status: 2 when the study belongs to another
search (the message names what differs), 3 when the database stays away longer than the retries wait.

Trials per hour with 1 and with 2 workers, each arrangement on a fresh study (the workers are separate processes,
as on separate machines, each with its share of the cores; on a temporary local PostgreSQL without --storage):

    python -m helpers.hpo_worker --profile cpu --measure 1 2 --trials 6 --output runs/cpu/search_throughput.json
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

STORAGE_ENV = "EMOTION_HPO_STORAGE"
"""The study's database URL when --storage is not given: keeps a password off command lines (and `ps`)."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from helpers.profiles import PROFILES, parse_setting

    parser = argparse.ArgumentParser(prog="python -m helpers.hpo_worker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
    parser.add_argument(
        "--storage",
        default=os.environ.get(STORAGE_ENV),
        help=f"postgresql://user@host[:port]/db (default ${STORAGE_ENV}; none: this machine's SQLite study)",
    )
    parser.add_argument("--study", help="the study's name in the database (default: emotion-<profile>)")
    parser.add_argument("--workers", type=int, help="worker processes on this machine (default: one per core/GPU)")
    parser.add_argument("--trials", type=int, help="trials the search runs in all (default: the profile's)")
    parser.add_argument("--data-dir", type=Path, help="folder with the splits (default: $EMOTION_DATA_DIR, else hub)")
    parser.add_argument("--model", help="replaces the profile's model, as notebook 04's model_name_or_path")
    parser.add_argument("--seed", type=int, help="replaces the profile's seed, as notebook 04's seed")
    parser.add_argument(
        "--set", dest="settings", action="append", default=[], type=parse_setting, metavar="KEY=VALUE",
        help="any other profile setting (JSON value), e.g. hpo_train_size=2000; repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--heartbeat", nargs=2, type=int, metavar=("SECONDS", "GRACE"),
        help="a running trial's heartbeat interval, and the silence after which others fail and requeue it "
        "(default 30 120)",
    )  # fmt: skip
    parser.add_argument("--db-attempts", type=int, help="tries to connect before a worker stops (default 6)")
    parser.add_argument("--measure", nargs="+", type=int, metavar="WORKERS", help="measure trials per hour instead")
    parser.add_argument("--output", type=Path, help="with --measure: the JSON file to write")
    args = parser.parse_args(argv)
    if args.measure and (args.output is None or args.trials is None):
        parser.error("--measure needs --trials and --output")
    return args


def profile_for(args: argparse.Namespace) -> Any:
    from helpers.profiles import resolve_profile

    return resolve_profile(
        args.profile,
        model_name_or_path=args.model,
        seed=args.seed,
        workers=args.workers,
        hpo_trials=args.trials,
        hpo_storage=args.storage,
        hpo_study=args.study,
        **dict(args.settings),
    )


def work(args: argparse.Namespace, cfg: Any) -> None:
    """Load the search's data as notebook 04 does, then run or wait for the study's trials."""
    from helpers.data import load_emotion, subset_for_profile
    from helpers.hpo import HEARTBEAT_SECONDS, finished_trials, run_search
    from helpers.modeling import load_tokenizer
    from helpers.paths import run_dir
    from helpers.storage import DB_ATTEMPTS
    from helpers.training import tokenize_splits

    data = subset_for_profile(load_emotion(args.data_dir), cfg.train_size, cfg.eval_size, cfg.seed)
    tokenizer = load_tokenizer(cfg)
    tokenized = tokenize_splits(data, tokenizer, cfg.max_length)
    heartbeat = tuple(args.heartbeat) if args.heartbeat else HEARTBEAT_SECONDS
    study = run_search(cfg, tokenized, tokenizer, run_dir(cfg.name, "hpo"), heartbeat, args.db_attempts or DB_ATTEMPTS)
    summary = f"study {study.study_name}: {finished_trials(study)} of {cfg.hpo_trials} trials finished"
    if study.best_trials:
        summary += f"; best {study.best_value:.4f} with {study.best_params}"
    print(summary, flush=True)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Trials per hour with each count of `args.measure` workers, on a fresh study each: the workers are
    separate `hpo_worker` processes, each with its share of this machine's cores, timed from their start (data
    loading included) to the last one's exit; `trial_span_seconds` runs from the first trial's start to the last
    trial's end. Trials differ between arrangements (sampled, pruned), so epochs per hour is given beside."""
    import optuna

    from helpers.machine import machine_info
    from helpers.pgserver import LocalPostgres
    from helpers.storage import mask, open_storage
    from helpers.workers import usable_cores

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
            command = [sys.executable, "-m", "helpers.hpo_worker", *passed, f"--study={name}"]
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
    from helpers.hpo import FINISHED, SCHEDULE_STEP

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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from helpers.hpo import StudyMismatchError
    from helpers.storage import StorageUnavailableError, shared_url

    try:
        cfg = profile_for(args)  # an unknown or ill-typed setting, or a URL that is not PostgreSQL: said at once
        if cfg.hpo_storage is not None:
            shared_url(cfg.hpo_storage)
    except (TypeError, ValueError) as error:
        print(f"hpo_worker: {error}", file=sys.stderr)
        return 2
    try:
        if args.measure:
            measure(args)
        else:
            work(args, cfg)
    except StudyMismatchError as error:
        print(f"hpo_worker: {error}", file=sys.stderr)
        return 2
    except StorageUnavailableError as error:
        print(f"hpo_worker: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
