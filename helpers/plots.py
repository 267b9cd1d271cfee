"""Every figure the notebooks show, in one style, each returned as a matplotlib Figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from helpers import LABEL_NAMES

PALETTE = dict(zip(LABEL_NAMES, sns.color_palette("colorblind", len(LABEL_NAMES))))


def use_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "savefig.bbox": "tight"})


def save_figure(figure: Figure, folder: Path, name: str) -> Path:
    """Save as `folder/name.png` and return the path; the figure stays open for display."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    figure.savefig(path)
    return path


def plot_class_distribution(class_counts: Mapping[str, Mapping[str, int]]) -> Figure:
    """Share of each emotion per split: the imbalance every metric has to live with."""
    frame = pd.DataFrame(class_counts).T[list(LABEL_NAMES)]
    shares = frame.div(frame.sum(axis=1), axis=0).reset_index(names="split")
    long = shares.melt(id_vars="split", var_name="emotion", value_name="share")
    figure, axes = plt.subplots(figsize=(8, 4))
    sns.barplot(long, x="emotion", y="share", hue="split", ax=axes)
    axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes.set(title="Class distribution per split", xlabel="", ylabel="share of split")
    return figure


def plot_token_lengths(lengths: Sequence[int], labels: Sequence[int], max_length: int | None = None) -> Figure:
    """Token count per text by emotion (train split), with the truncation limit if given."""
    frame = pd.DataFrame({"tokens": lengths, "emotion": [LABEL_NAMES[i] for i in labels]})
    figure, axes = plt.subplots(figsize=(8, 4))
    sns.boxplot(frame, x="emotion", y="tokens", hue="emotion", palette=PALETTE, order=LABEL_NAMES, ax=axes)
    if max_length:
        axes.axhline(max_length, color="grey", linestyle="--", label=f"seed recipe pads to {max_length}")
        axes.legend(loc="upper right")
    axes.set(title="Tokens per text by emotion (train)", xlabel="")
    return figure


def plot_loss_curves(log_history: Sequence[Mapping[str, Any]], title: str = "Loss") -> Figure:
    """Training loss per logging step and validation loss per epoch, on one epoch axis."""
    train = [(e["epoch"], e["loss"]) for e in log_history if "loss" in e]
    valid = [(e["epoch"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    figure, axes = plt.subplots(figsize=(8, 4))
    if train:
        axes.plot(*zip(*train), label="training (per logging step)", alpha=0.8)
    if valid:
        axes.plot(*zip(*valid), marker="o", label="validation (per epoch)")
    axes.set(title=title, xlabel="epoch", ylabel="cross-entropy")
    axes.legend()
    return figure


def plot_epoch_metrics(
    epochs: Sequence[Mapping[str, float]], metrics: Sequence[str] = ("accuracy", "f1_weighted", "f1_macro")
) -> Figure:
    figure, axes = plt.subplots(figsize=(8, 4))
    for metric in metrics:
        axes.plot([e["epoch"] for e in epochs], [e[metric] for e in epochs], marker="o", label=metric)
    axes.set(title="Validation metrics per epoch", xlabel="epoch", ylabel="score")
    axes.legend()
    return figure


def plot_model_comparison(scores: Mapping[str, Mapping[str, float]], metrics: Sequence[str], title: str) -> Figure:
    """Grouped bars: one group per model, one bar per metric."""
    frame = pd.DataFrame(scores).T[list(metrics)].reset_index(names="model")
    long = frame.melt(id_vars="model", var_name="metric", value_name="score")
    figure, axes = plt.subplots(figsize=(9, 4))
    sns.barplot(long, y="model", x="score", hue="metric", ax=axes)
    axes.set(title=title, xlim=(0, 1), ylabel="")
    return figure


def plot_confusion(matrix: np.ndarray, normalised: bool, title: str) -> Figure:
    figure, axes = plt.subplots(figsize=(6.5, 5.5))
    sns.heatmap(
        matrix,
        annot=True,
        fmt=".2f" if normalised else "d",
        cmap="Blues",
        xticklabels=LABEL_NAMES,
        yticklabels=LABEL_NAMES,
        vmin=0,
        vmax=1 if normalised else None,
        cbar=False,
        ax=axes,
    )
    axes.set(title=title, xlabel="predicted", ylabel="true")
    return figure


def plot_per_class(per_class: Mapping[str, Mapping[str, float]], title: str) -> Figure:
    """Precision, recall and F1 per emotion for one model."""
    rows = [
        {"emotion": name, "metric": metric, "score": per_class[f"{metric}_{name}"]}
        for name in LABEL_NAMES
        for metric in ("precision", "recall", "f1")
    ]
    figure, axes = plt.subplots(figsize=(8, 4))
    sns.barplot(pd.DataFrame(rows), x="emotion", y="score", hue="metric", ax=axes)
    axes.set(title=title, ylim=(0, 1), xlabel="")
    return figure


def plot_reliability(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str) -> Figure:
    """Accuracy against confidence per bin; the diagonal is perfect calibration."""
    figure, axes = plt.subplots(figsize=(5.5, 5))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for label, (confidence, accuracy) in curves.items():
        axes.plot(confidence, accuracy, marker="o", label=label)
    axes.set(title=title, xlabel="confidence (top class probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
    axes.legend(loc="upper left")
    return figure


def plot_probability_bars(texts: Sequence[str], probabilities: np.ndarray) -> Figure:
    """One small bar chart of the six probabilities per example sentence."""
    rows = len(texts)
    figure, axes = plt.subplots(rows, 1, figsize=(8, 1.5 * rows), sharex=True)
    for axis, text, row in zip(np.atleast_1d(axes), texts, probabilities):
        axis.barh(LABEL_NAMES, row, color=[PALETTE[name] for name in LABEL_NAMES])
        axis.set_title(text, fontsize=10, loc="left")
        axis.set_xlim(0, 1)
        axis.invert_yaxis()
    figure.tight_layout()
    return figure


def plot_accuracy_by_bucket(frame: pd.DataFrame, title: str) -> Figure:
    """Accuracy per text-length bucket, with the bucket sizes on the bars."""
    figure, axes = plt.subplots(figsize=(8, 4))
    sns.barplot(frame, x="bucket", y="accuracy", color=sns.color_palette("colorblind")[0], ax=axes)
    for patch, count in zip(axes.patches, frame["count"]):
        axes.annotate(
            f"n={count}", (patch.get_x() + patch.get_width() / 2, patch.get_height()), ha="center", va="bottom"
        )
    axes.set(title=title, ylim=(0, 1.05), xlabel="tokens per text")
    return figure


def plot_token_importance(examples: Sequence[tuple[Sequence[str], Sequence[float], str]]) -> Figure:
    """Per word, the drop in the predicted class's probability when that word is removed (occlusion)."""
    figure, axes = plt.subplots(len(examples), 1, figsize=(9, 2.3 * len(examples)))
    for axis, (words, drops, title) in zip(np.atleast_1d(axes), examples):
        axis.bar(range(len(words)), drops, color=["#c0392b" if d > 0 else "#2e86c1" for d in drops])
        axis.set_xticks(range(len(words)), words, rotation=30, ha="right")
        axis.axhline(0, color="black", linewidth=0.8)
        axis.set_title(title, fontsize=10, loc="left")
        axis.set_ylabel("probability drop")
    figure.tight_layout()
    return figure


def plot_recall_by_condition(recall: pd.DataFrame, title: str) -> Figure:
    """Recall per emotion, one bar per condition (columns of `recall`; a `texts` column is ignored)."""
    long = (
        recall.drop(columns="texts", errors="ignore")
        .reset_index(names="emotion")
        .melt(id_vars="emotion", var_name="condition", value_name="recall")
    )
    figure, axes = plt.subplots(figsize=(9, 4))
    sns.barplot(long, x="emotion", y="recall", hue="condition", ax=axes)
    axes.set(title=title, ylim=(0, 1.05), xlabel="")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=9, frameon=False)
    return figure


def plot_method_comparison(table: pd.DataFrame) -> Figure:
    """Per training method: macro F1 on validation and test (mean, with the seeds' standard deviation as error
    bars) beside training throughput, so that what a method costs and what it saves read side by side."""
    figure, (scores, speed) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    positions = np.arange(len(table))
    for offset, split in ((-0.2, "validation"), (0.2, "test")):
        scores.bar(
            positions + offset,
            table[f"{split} f1_macro mean"],
            width=0.4,
            yerr=table[f"{split} f1_macro sd"].fillna(0),
            capsize=3,
            label=split,
        )
    scores.set_xticks(positions, table.index, rotation=20, ha="right")
    low = float(np.nanmin(table[["validation f1_macro mean", "test f1_macro mean"]].to_numpy()))
    scores.set_ylim(max(0.0, low - 0.1), 1.0)
    scores.set_ylabel("macro F1")
    scores.set_title("Scores over seeds")
    scores.legend(loc="lower left")
    speed.barh(positions, table["samples per second"], color="grey")
    speed.set_yticks(positions, table.index)
    speed.invert_yaxis()
    speed.set_xlabel("training samples per second")
    speed.set_title("Training speed")
    figure.tight_layout()
    return figure


def plot_in_and_out_of_domain(candidates: Mapping[str, Mapping[str, float]], chosen: str, floor: float) -> Figure:
    """Each candidate's in-domain validation accuracy against its OOD-dev macro F1, the chosen one marked and
    the accuracy floor of the rule drawn: what the choice trades, in one picture."""
    figure, axes = plt.subplots(figsize=(7, 5))
    for name, scores in candidates.items():
        marker = "*" if name == chosen else "o"
        axes.scatter(
            scores["validation_accuracy"], scores["ood_dev_f1_macro"], marker=marker, s=160 if marker == "*" else 40
        )
        axes.annotate(name, (scores["validation_accuracy"], scores["ood_dev_f1_macro"]), fontsize=7,
                      xytext=(4, 4), textcoords="offset points")  # fmt: skip
    axes.axvline(floor, color="grey", linestyle="--", linewidth=1, label="in-domain floor of the rule")
    axes.set_xlabel("in-domain validation accuracy")
    axes.set_ylabel("OOD-dev macro F1")
    axes.set_title("In domain against out of domain (choice sets only)")
    axes.legend(loc="lower left")
    figure.tight_layout()
    return figure
