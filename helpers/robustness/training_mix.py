"""Training sets for the remedies that change what the model reads: the emotion training split plus extra rows
(the training texts rewritten as people type, or mapped GoEmotions comments) at a ratio chosen on OOD-dev."""

from __future__ import annotations

from datasets import Dataset, DatasetDict, concatenate_datasets

from helpers.data.loading import FEATURES, stratified_subset


def mix_into_training(data: DatasetDict, extra: Dataset, ratio: float, seed: int) -> DatasetDict:
    """`data` with `ratio * len(train)` rows of `extra` (a stratified sample, all of it at most) added to its
    training split and shuffled in; validation and test are untouched, so in-domain scores stay comparable."""
    if ratio < 0:
        raise ValueError(f"ratio {ratio}: the share of extra training rows cannot be negative")
    wanted = round(ratio * len(data["train"]))
    if wanted == 0:
        return data
    extra = extra.select_columns(["text", "label"]).cast(FEATURES)
    sample = stratified_subset(extra, min(wanted, len(extra)), seed) if wanted < len(extra) else extra
    train = concatenate_datasets([data["train"].select_columns(["text", "label"]), sample]).shuffle(seed=seed)
    return DatasetDict({**data, "train": train.flatten_indices()})
