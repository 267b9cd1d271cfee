"""Search workers on this machine that join a search's study, wherever it is kept, and run its trials.

    python -m helpers.search --profile cpu --storage postgresql://user@host/db [--workers N] [--study NAME]
        [--trials N] [--data-dir DIR] [--model NAME] [--seed N] [--set key=value ...]

Start it on every machine, with the same code, data and settings (`make hpo-worker STORAGE=...`): it loads the
data and tokenizer as notebook 04 does and runs `helpers.search.study.run_search` in `--workers` processes (default: one
per core, or per GPU), until the study holds the trials asked for. Notebook 04 run with the same `storage` then
finds the trials done and reads the study. `--storage` defaults to `$EMOTION_HPO_STORAGE`, and without either the
workers share this machine's SQLite study, as notebook 04 does. Exit status: 2 when the study belongs to another
search (the message names what differs), 3 when the database stays away longer than the retries wait.

`python -m helpers.bench.search` measures trials per hour with these workers."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.data.loading import load_emotion, subset_for_profile
from helpers.models.building import load_tokenizer
from helpers.paths import run_dir
from helpers.profiles import PROFILES, parse_setting, resolve_profile
from helpers.search.storage import DB_ATTEMPTS, StorageUnavailableError, shared_url
from helpers.search.study import HEARTBEAT_SECONDS, StudyMismatchError, finished_trials, run_search
from helpers.training.finetune import tokenize_splits

STORAGE_ENV = "EMOTION_HPO_STORAGE"
"""The study's database URL when --storage is not given: keeps a password off command lines (and `ps`)."""


def argument_parser(prog: str = "python -m helpers.search") -> argparse.ArgumentParser:
    """The worker's options, which the search-throughput bench shares."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
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
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    return argument_parser().parse_args(argv)


def profile_for(args: argparse.Namespace) -> Any:
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
    data = subset_for_profile(load_emotion(args.data_dir), cfg.train_size, cfg.eval_size, cfg.seed)
    tokenizer = load_tokenizer(cfg)
    tokenized = tokenize_splits(data, tokenizer, cfg.max_length)
    heartbeat = tuple(args.heartbeat) if args.heartbeat else HEARTBEAT_SECONDS
    study = run_search(cfg, tokenized, tokenizer, run_dir(cfg.name, "hpo"), heartbeat, args.db_attempts or DB_ATTEMPTS)
    summary = f"study {study.study_name}: {finished_trials(study)} of {cfg.hpo_trials} trials finished"
    if study.best_trials:
        summary += f"; best {study.best_value:.4f} with {study.best_params}"
    print(summary, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    try:
        cfg = profile_for(args)  # an unknown or ill-typed setting, or a URL that is not PostgreSQL: said at once
        if cfg.hpo_storage is not None:
            shared_url(cfg.hpo_storage)
    except (TypeError, ValueError) as error:
        print(f"hpo_worker: {error}", file=sys.stderr)
        return 2
    try:
        work(args, cfg)
    except StudyMismatchError as error:
        print(f"hpo_worker: {error}", file=sys.stderr)
        return 2
    except StorageUnavailableError as error:
        print(f"hpo_worker: {error}", file=sys.stderr)
        return 3
    return 0
