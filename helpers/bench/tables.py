"""The bench's progress and results on the terminal, as timestamped lines and plain-text tables."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from helpers.bench.settings import BATCH_EFFECT_TOLERANCE, PRECISIONS
from helpers.hardware import describe
from helpers.serving.backends import (
    MAX_ACCURACY_CHANGE_POINTS,
    MAX_CHANGED_LABELS,
)


def progress(message: str) -> None:
    """A timestamped line on stderr: the cpu bench runs for minutes."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def print_tables(result: dict[str, Any]) -> None:
    padding = ", ".join(f"{name} {tokens:.1f}" for name, tokens in result["epoch_mean_padded_tokens"].items())
    print(f"\nTokens per text over one epoch: {padding}")
    print(f"Training: samples/second, recipes interleaved (profile {result['profile']})")
    print(f"{'model':<18}{'recipe':<32}{'steps':>6}{'padded':>8}{'samples/s':>11}{'vs seed':>9}")
    for model, row in result["training"].items():
        for name, recipe in row["recipes"].items():
            print(
                f"{model:<18}{name:<32}{recipe['steps']:>6}{recipe['mean_padded_tokens']:>8.1f}"
                f"{recipe['samples_per_second']:>11.2f}{recipe['speedup_vs_seed']:>8.2f}x"
            )
    inference = result["inference"]
    print(f"\nMachine: {describe(result['machine'])}")
    print(
        f"Inference, {inference['texts']} {inference['split']} texts, {inference['threads']} threads: "
        f"{inference['model']}"
    )
    print_inference_rows({**inference["variants"], **inference["ablations"]})
    print(
        f"fastest within the bounds (at most {100 * MAX_CHANGED_LABELS:g}% of labels changed, accuracy within "
        f"{MAX_ACCURACY_CHANGE_POINTS:g} points): {inference['fastest_within_bounds']}; "
        f"recommended (also batch-invariant to {BATCH_EFFECT_TOLERANCE:g}): {inference['recommended_backend']}"
    )
    print_parallel(result["parallel"])
    print_precision(result["precision"])


def print_parallel(parallel: dict[str, Any]) -> None:
    if "skipped" in parallel:
        print(f"\nExperiments per hour: skipped ({parallel['skipped']})")
        return
    experiment = parallel["experiment"]
    print(
        f"\nExperiments per hour ({parallel['precision']} precision; one experiment: {experiment['train_texts']} "
        f"training texts, {experiment['epochs']} epoch(s), {experiment['validation_texts']} validation texts; "
        f"order {', '.join(parallel['order'])})"
    )
    print(f"{'arrangement':<16}{'workers':>8}{'threads':>8}{'experiments':>12}{'wall s':>9}{'per hour':>10}", end="")
    print(f"{'train s each':>14}{'accuracy':>10}")
    for name, row in parallel["arrangements"].items():
        print(
            f"{name.replace('_', ' '):<16}{row['workers']:>8}{row['threads_per_experiment'] or '-':>8}"
            f"{row['experiments']:>12}{row['wall_seconds']:>9.1f}{row['experiments_per_hour']:>10.1f}"
            f"{row['mean_train_seconds']:>14.1f}{100 * row['mean_validation_accuracy']:>9.2f}%"
        )
    print(f"parallel against one at a time: {parallel['speedup']:.2f}x the experiments per hour")


def print_precision(precision: dict[str, Any]) -> None:
    if not precision["supported"]:
        print(f"\nbf16 against float32: not measured ({precision['reason']})")
        return
    steps, runs = precision["step_speedup"], precision["runs"]
    print(
        f"\nbf16 autocast against float32: interleaved {steps['model']} steps {steps['all_threads']:.2f}x on all "
        f"threads, {steps['one_thread']:.2f}x on one; {runs['train_texts']} training texts, {runs['epochs']} "
        f"epochs, lr {runs['learning_rate']:g}, batch {runs['batch_size']}, both precisions at once, one thread each"
    )
    print(f"{'precision':<11}{'seed':>6}{'accuracy':>10}{'F1 (w)':>9}{'train s':>9}")
    for name in PRECISIONS:
        side = precision[name]
        for row in side["runs"]:
            print(
                f"{name:<11}{row['seed']:>6}{100 * row['accuracy']:>9.2f}%{row['f1_weighted']:>9.4f}"
                f"{row['train_seconds']:>9.1f}"
            )
        print(
            f"{name:<11}{'mean':>6}{100 * side['mean_accuracy']:>9.2f}%{side['mean_f1_weighted']:>9.4f}"
            f"{side['mean_train_seconds']:>9.1f}"
        )
    print(
        f"bf16 {precision['speedup']:.2f}x as fast, accuracy {precision['accuracy_change_points']:+.2f} points: "
        f"adopt bf16 {precision['adopt_bf16']} (the profile trains in {precision['profile_precision']})"
    )


def print_inference_rows(variants: dict[str, dict[str, Any]]) -> None:
    print(f"{'backend':<30}{'texts/s':>9}{'vs fp32':>9}{'latency ms':>12}{'vs fp32':>9}{'accuracy':>10}", end="")
    print(f"{'drop pts':>10}{'changed':>9}{'batch effect':>14}")
    for name, row in variants.items():
        accuracy = row["accuracy"] if isinstance(row["accuracy"], str) else f"{100 * row['accuracy']:.2f}%"
        drop = "n/a" if row["accuracy_drop_points"] is None else f"{row['accuracy_drop_points']:+.2f}"
        print(
            f"{name:<30}{row['texts_per_second']:>9.1f}{row['speedup_vs_fp32']:>8.2f}x{row['latency_ms_median']:>12.1f}"
            f"{row['latency_speedup_vs_fp32']:>8.2f}x{accuracy:>10}{drop:>10}{100 * row['changed_label_share']:>8.2f}%"
            f"{row['batch_effect_max_probability']:>14.1e}"
        )
