"""The remedies notebook 08 trains, each a run folder under `runs/<profile>/robust/`, and the models they give.

Every remedy starts from the seed recipe (notebook 03's hyperparameters, the profile's seed) and changes one
thing, so that what it does out of domain is its own doing:
- `augment-<ratio>`: the training texts rewritten as people type (`augmentation`) mixed in at `ratio`;
- `goemotions-<ratio>`: mapped GoEmotions training comments mixed in at `ratio` (a model trained on both);
- `lp`, then `lp-ft`: LP-FT, the head alone on the frozen encoder, then every weight from that head at a gentler
  learning rate (Kumar et al., ICLR 2022);
- `wise-ft-<weight>`: WiSE-FT, the weights mixed between `lp` and `lp-ft` (`interpolation`), trained by nothing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict
from transformers import PreTrainedTokenizerBase

from helpers.paths import run_dir
from helpers.profiles import Profile
from helpers.robustness.augmentation import rewrite_as_typed
from helpers.robustness.interpolation import interpolate_folders
from helpers.robustness.training_mix import mix_into_training
from helpers.training.finetune import tokenize_splits

REMEDIES = "robust"
"""`runs/<profile>/robust/<remedy>`: one run folder per remedy."""


def recipe(profile: Profile) -> dict[str, Any]:
    """The seed recipe's hyperparameters, every remedy's starting point."""
    return {"learning_rate": profile.learning_rate, "batch_size": profile.batch_size, "epochs": profile.epochs}


def remedy_folder(profile: Profile, name: str) -> Path:
    return run_dir(profile.name, REMEDIES) / name


def first_stage_jobs(
    profile: Profile, data: DatasetDict, extra_train: Dataset, tokenizer: PreTrainedTokenizerBase
) -> list[dict[str, Any]]:
    """`train_job` arguments of every remedy that trains from the pre-trained encoder: the mixes and LP."""

    def job(name: str, texts: DatasetDict, run_profile: Profile, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return {
            "profile": run_profile,
            "tokenized": tokenize_splits(texts, tokenizer, profile.max_length),
            "tokenizer": tokenizer,
            "output_dir": remedy_folder(profile, name),
            "seed": profile.seed,
            "hyperparameters": hyperparameters,
        }

    rewritten = rewrite_as_typed(data["train"], profile.seed)
    jobs = [
        job(f"augment-{ratio:g}", mix_into_training(data, rewritten, ratio, profile.seed), profile, recipe(profile))
        for ratio in profile.robust_augment_ratios
    ]
    jobs += [
        job(
            f"goemotions-{ratio:g}", mix_into_training(data, extra_train, ratio, profile.seed), profile, recipe(profile)
        )
        for ratio in profile.robust_goemotions_ratios
    ]
    head = {**recipe(profile), "learning_rate": profile.robust_head_learning_rate}
    jobs.append(job("lp", data, replace(profile, method="head"), head))
    return jobs


def lp_ft_job(profile: Profile, data: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> dict[str, Any]:
    """LP-FT's second stage: every weight trained from `lp`'s model (its head already fits the encoder)."""
    start = remedy_folder(profile, "lp") / "model"
    return {
        "profile": replace(profile, model_name_or_path=str(start)),
        "tokenized": tokenize_splits(data, tokenizer, profile.max_length),
        "tokenizer": tokenizer,
        "output_dir": remedy_folder(profile, "lp-ft"),
        "seed": profile.seed,
        "hyperparameters": {**recipe(profile), "learning_rate": profile.robust_lp_ft_learning_rate},
    }


def wise_ft_models(profile: Profile) -> dict[str, Path]:
    """{`wise-ft-<weight>`: model folder} for every weight of the profile, mixed between `lp` and `lp-ft`."""
    start, tuned = remedy_folder(profile, "lp") / "model", remedy_folder(profile, "lp-ft") / "model"
    return {
        f"wise-ft-{weight:g}": interpolate_folders(
            start, tuned, weight, remedy_folder(profile, f"wise-ft-{weight:g}") / "model"
        )
        for weight in profile.robust_wise_ft_weights
    }
