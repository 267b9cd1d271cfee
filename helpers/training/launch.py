"""Fine-tune one model with `train_classifier` from the command line, in one process or in several.

    python -m helpers.training --profile smoke --output runs/smoke/one [--data-dir DIR] [--set key=value ...]
    torchrun --nproc_per_node 2 -m helpers.training --profile gpu --output runs/gpu/ddp
    accelerate launch --multi_gpu --num_processes 2 -m helpers.training --profile smoke --output runs/smoke/ddp

(`accelerate launch --multi_gpu` runs torchrun underneath, so it starts CPU processes too; its `--cpu` flag
alone starts one process unless MPI is set up.)

Under `torchrun` or `accelerate launch` every process runs this script: each loads the same data, and the
Trainer wraps the model in PyTorch's DistributedDataParallel (NCCL between GPUs, gloo between CPU processes),
each process taking its share of every batch. The profile's `batch_size` is the global batch, split evenly over
the processes; the run records how many there were in its fingerprint. The main process alone writes the run
folder (`model/`, `training_result.json`, `run_config.json`), once, when training has finished.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from helpers.data.loading import load_emotion, subset_for_profile
from helpers.models.building import load_tokenizer
from helpers.profiles import PROFILES, parse_setting, resolve_profile
from helpers.training.finetune import SELECTION_METRIC, processes, tokenize_splits, train_classifier


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m helpers.training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
    parser.add_argument("--output", required=True, type=Path, help="the run folder (its model goes to OUTPUT/model)")
    parser.add_argument("--data-dir", type=Path, help="folder with the splits (default: $EMOTION_DATA_DIR, else hub)")
    parser.add_argument(
        "--set", dest="settings", action="append", default=[], type=parse_setting, metavar="KEY=VALUE",
        help="a profile setting (JSON value), e.g. epochs=2 or learning_rate=3e-5; repeatable",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import torch.distributed

    cfg = resolve_profile(args.profile, **dict(args.settings))
    data = subset_for_profile(load_emotion(args.data_dir), cfg.train_size, cfg.eval_size, cfg.seed)
    tokenizer = load_tokenizer(cfg)
    result = train_classifier(cfg, tokenize_splits(data, tokenizer, cfg.max_length), tokenizer, args.output)
    if not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0:
        print(
            f"{result.model_dir}: validation {SELECTION_METRIC} {result.best_validation[SELECTION_METRIC]:.4f} at "
            f"epoch {result.best_epoch:g}, trained by {processes()} process(es) in {result.train_seconds:.0f} s",
            flush=True,
        )
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 0
