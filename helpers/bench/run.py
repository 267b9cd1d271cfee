"""`make bench`: every measurement of one profile in one run, printed and saved as the report's speed section."""

from __future__ import annotations

import argparse
import gc
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datasets import DatasetDict

from helpers.bench.inference import bench_inference, default_model_folder, inference_model
from helpers.bench.parallel import bench_parallel
from helpers.bench.precision import bench_precision
from helpers.bench.settings import SETTINGS
from helpers.bench.tables import print_tables, progress
from helpers.bench.training import bench_training, epoch_padding
from helpers.data.loading import load_emotion, subset_for_profile
from helpers.hardware import machine_info
from helpers.models.building import load_tokenizer
from helpers.models.folder import weights_sha256
from helpers.profiles import resolve_profile
from helpers.serving.backends import (
    BACKENDS,
)
from helpers.training.finetune import tokenize_splits
from helpers.training.identity import code_version
from helpers.training.workers import default_workers


def run_bench(profile_name: str, model_folder: Path | None = None, data_dir: Path | None = None) -> dict[str, Any]:
    """Every measurement of the module docstring for one profile, as one JSON-ready dict."""
    profile = resolve_profile(profile_name)
    settings = SETTINGS[profile_name]
    tokenizer = load_tokenizer(profile)
    tokenizer.model_max_length = profile.max_length  # the seed recipe pads to this
    data = subset_for_profile(load_emotion(data_dir), profile.train_size, profile.eval_size, profile.seed)
    result: dict[str, Any] = {
        "profile": profile.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": code_version(),
        "machine": {**machine_info(), "load_average_start": os.getloadavg()[0]},
        "settings": {**asdict(settings), "seed_padded_length": profile.max_length, "train_texts": len(data["train"])},
        "training": {},
    }
    encoded = tokenizer(list(data["train"]["text"]), truncation=True, max_length=profile.max_length)
    features = [
        {"input_ids": ids, "attention_mask": mask, "labels": label}
        for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], data["train"]["label"])
    ]
    lengths = [len(ids) for ids in encoded["input_ids"]]
    result["epoch_mean_padded_tokens"] = epoch_padding(
        lengths, profile.max_length, settings.train_batch_size, settings.seed
    )
    for plan in settings.training:
        progress(f"training {plan.model}: {plan.rounds} rounds of {settings.steps_per_round} steps per recipe")
        result["training"][plan.model] = bench_training(plan, tokenizer, features, settings)
    folder = model_folder or default_model_folder(profile.name)
    model, model_tokenizer = inference_model(profile, tokenizer, folder)
    progress(f"inference: {', '.join(BACKENDS)} on {len(data['validation'])} validation texts")
    inference = bench_inference(
        model,
        model_tokenizer,
        list(data["validation"]["text"]),
        list(data["validation"]["label"]),
        profile.max_length,
        settings,
        trained=folder is not None,
    )
    result["inference"] = {
        "model": str(folder) if folder else f"untrained {profile.model_name_or_path}",
        "model_sha256": weights_sha256(folder) if folder else None,  # the report matches it to its served model
        **inference,
    }
    del model
    gc.collect()
    tokenized = tokenize_splits(
        DatasetDict({split: data[split] for split in ("train", "validation")}), tokenizer, profile.max_length
    )
    result["parallel"] = bench_parallel(profile, tokenized, tokenizer, settings.experiment, default_workers())
    result["precision"] = bench_precision(profile, tokenized, tokenizer, settings.precision, result["training"])
    result["machine"]["load_average_end"] = os.getloadavg()[0]
    return result


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, choices=sorted(SETTINGS))
    parser.add_argument("--output", required=True, type=Path, help="JSON file to write")
    parser.add_argument("--model", type=Path, help="trained model folder (default: the profile's latest run)")
    parser.add_argument("--data-dir", type=Path, help="folder with the splits (default: $EMOTION_DATA_DIR, else hub)")
    args = parser.parse_args(argv)
    result = run_bench(args.profile, args.model, args.data_dir)
    print_tables(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    return result
