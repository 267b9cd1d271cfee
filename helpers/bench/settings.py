"""What each profile's bench measures: the training recipes and ablations, the plans and their sizes."""

from __future__ import annotations

from dataclasses import dataclass

PAUSE_SECONDS = 0.02
"""Untimed pause before each timed inference call (see `timed_calls`)."""

BATCH_EFFECT_TOLERANCE = 1e-4
"""Largest change of a probability between a text scored alone and in a batch (as tests/test_inference.py asks)."""


PRECISIONS = {"float32": "no", "bf16": "bf16"}
"""The two training precisions the bench compares, by name: the profile's `mixed_precision` for each."""


@dataclass(frozen=True)
class Recipe:
    """How training batches are built and run; everything else (model, optimizer, data) is shared."""

    name: str
    description: str
    pad_to_longest: bool
    grouped: bool
    attention: str  # "sdpa" (transformers' default) or "eager"
    threads: int | None = None  # None: PyTorch's setting when the bench started
    bf16: bool = False  # forward and loss under bf16 autocast, as the Trainer's bf16=True runs them


SEED = Recipe(
    "seed", "every text padded to max_length, random order, SDPA attention (seed report)", False, False, "sdpa"
)

PROJECT = Recipe(
    "project", "padded to the batch's longest text, length-grouped batches, eager attention", True, True, "eager"
)
"""The cpu profile's recipe: helpers/training/finetune.py's group_by_length and the profile's attn_implementation."""

ABLATIONS = (
    Recipe("project_sdpa_attention", "project recipe with SDPA instead of eager attention", True, True, "sdpa"),
    Recipe("seed_one_thread", "seed recipe with torch.set_num_threads(1)", False, False, "sdpa", threads=1),
    Recipe("project_one_thread", "project recipe with torch.set_num_threads(1)", True, True, "eager", threads=1),
)

BF16_RECIPES = (
    Recipe("project_bf16", "project recipe, forward and loss under bf16 autocast", True, True, "eager", bf16=True),
    Recipe(
        "project_bf16_one_thread",
        "project recipe under bf16 autocast, torch.set_num_threads(1)",
        True,
        True,
        "eager",
        threads=1,
        bf16=True,
    ),
)
"""Timed beside `project` and `project_one_thread` only on CPUs with native bf16: elsewhere it is emulated."""


@dataclass(frozen=True)
class TrainingPlan:
    """A model to time, for how many rounds, and whether with the ablations (costly on big models)."""

    model: str
    rounds: int
    ablations: bool


@dataclass(frozen=True)
class ExperimentPlan:
    """One experiment of the `parallel` section: a real fine-tune, short enough that the section takes minutes.
    Starting the workers weighs more in it than in an hour-long search, so the bench understates the gain."""

    train_texts: int
    validation_texts: int
    learning_rate: float
    batch_size: int = 16
    epochs: int = 1
    rounds: int = 2  # rounds of (one at a time, parallel), the order flipped every other round


@dataclass(frozen=True)
class PrecisionPlan:
    """The accuracy half of bf16 against float32: a search trial's configuration, trained with a few seeds."""

    learning_rate: float
    batch_size: int
    epochs: int
    seeds: int = 2


@dataclass(frozen=True)
class BenchSettings:
    """Sizes of one profile's bench: few enough steps to finish in minutes, enough to average out noise."""

    training: tuple[TrainingPlan, ...]
    experiment: ExperimentPlan
    precision: PrecisionPlan
    steps_per_round: int = 2
    warmup_steps: int = 1
    train_batch_size: int = 16
    learning_rate: float = 2e-5
    eval_batch_size: int = 64
    latency_texts: int = 50
    inference_rounds: int = 3
    seed: int = 0


SETTINGS = {
    "smoke": BenchSettings(
        training=(TrainingPlan("tiny-random-bert", rounds=1, ablations=True),),
        experiment=ExperimentPlan(train_texts=48, validation_texts=24, learning_rate=1e-3, rounds=1),
        precision=PrecisionPlan(learning_rate=1e-3, batch_size=32, epochs=1),
        latency_texts=10,
        inference_rounds=1,
    ),
    # About fifteen minutes on two idle cores (estimated from single runs: training and inference about five,
    # experiments per hour under four, bf16 against float32 six to seven, since float32's two seeds run one after
    # the other on one thread). Much longer, and skewed against threads, when another job shares the cores.
    "cpu": BenchSettings(
        training=(
            TrainingPlan("minilm", rounds=4, ablations=True),
            TrainingPlan("distilbert", rounds=3, ablations=False),
        ),
        experiment=ExperimentPlan(train_texts=1200, validation_texts=400, learning_rate=1e-4),
        precision=PrecisionPlan(learning_rate=1e-4, batch_size=16, epochs=2),
    ),
    # The gpu profile's model shape, trained on the GPU (float32: the recipes' ratios, not the Trainer's mixed
    # precision); GPU steps take milliseconds, so more of them. Inference still times the CPU back ends.
    "gpu": BenchSettings(
        training=(TrainingPlan("distilbert", rounds=5, ablations=True),),
        experiment=ExperimentPlan(train_texts=2000, validation_texts=500, learning_rate=5e-5),
        precision=PrecisionPlan(learning_rate=5e-5, batch_size=16, epochs=2),
        steps_per_round=5,
        warmup_steps=3,
        inference_rounds=1,
    ),
}

MODEL_DESCRIPTIONS = {
    "tiny-random-bert": "the smoke profile's 2-layer BERT, random weights",
    "minilm": "all-MiniLM-L6-v2, the cpu profile's encoder, with a new classification head",
    "distilbert": "DistilBertConfig() with random weights: distilbert-base-uncased's shape and compute",
}
