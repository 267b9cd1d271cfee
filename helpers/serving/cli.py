"""`emotion-predict`: name the emotion of one text, or of a CSV column written to a new CSV.

emotion-predict runs/cpu "i feel like dancing" --top-k 3
emotion-predict runs/cpu --csv tweets.csv --column text --output tweets_emotions.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm
from transformers import PretrainedConfig

from helpers import LABEL_NAMES
from helpers.data.loading import EmotionDataError, read_csv
from helpers.models.folder import ModelFolderError
from helpers.serving.backends import BACKENDS
from helpers.serving.classifier import EmotionClassifier
from helpers.serving.served import served_model_folder

SMOKE_SHAPE = (32, 2)
"""(hidden_size, num_hidden_layers) of the smoke profile's BERT, as `helpers.models.building.build_model` makes it."""


class UsageError(ValueError):
    """Bad command-line input; reported as one line and exit status 2."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="emotion-predict", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "model",
        type=Path,
        help="a saved model or LoRA adapter folder, or a run folder (e.g. runs/cpu) for the model it serves",
    )
    parser.add_argument(
        "--base",
        help="for a LoRA adapter folder: its base model (a folder or hub id), where the one it names is elsewhere",
    )
    parser.add_argument("text", nargs="?", help="one text to classify")
    parser.add_argument("--csv", type=Path, help="classify a column of this CSV file instead")
    parser.add_argument("--column", default="text", help="the CSV column holding the texts (default: text)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the CSV: the input's columns plus emotion, score (and emotion_2, score_2, ... with "
        "--top-k); an input that already has such a column is refused (required with --csv)",
    )
    parser.add_argument("--top-k", type=int, default=1, help="how many emotions to show per text (1-6)")
    parser.add_argument("--batch-size", type=int, default=64, help="texts per forward pass (default: 64)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="how to run the model (default: the back end chosen for the model on the validation split, saved in "
        "its backend.json; onnx where none was chosen); fp32 runs on the GPU where there is one",
    )
    args = parser.parse_args(argv)
    if (args.text is None) == (args.csv is None):
        parser.error("give either one TEXT or --csv FILE")
    if args.csv is not None and args.output is None:
        parser.error("--output is required with --csv")
    if not 1 <= args.top_k <= len(LABEL_NAMES):
        parser.error(f"--top-k must be from 1 to {len(LABEL_NAMES)}")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    return args


def output_columns(top_k: int) -> list[str]:
    """The columns predictions add to a CSV: emotion, score, then emotion_2, score_2, ... up to `top_k`."""
    suffixes = [""] + [f"_{rank}" for rank in range(2, top_k + 1)]
    return [f"{kind}{suffix}" for suffix in suffixes for kind in ("emotion", "score")]


def read_column(path: Path, column: str, added: Sequence[str]) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """The header, rows and texts of `column` of `path`, refusing empty texts by the line where their row starts.

    The columns in `added` must not be in the file: predictions would silently replace its values.
    """
    if not path.is_file():
        raise UsageError(f"{path}: no such CSV file")
    try:
        header, records = read_csv(path)
        if not header:
            raise UsageError(f"{path}:1: no header row; a CSV file starts with a line naming its columns")
        if column not in header:
            raise UsageError(f"{path}: no column {column!r}; columns are {header}")
        clash = [name for name in added if name in header]
        if clash:
            raise UsageError(
                f"{path}: the predictions would overwrite its column(s) {', '.join(clash)}; rename them first"
            )
        rows, texts = [], []
        for line, row in records:
            if not row[column].strip():
                raise UsageError(f"{path}:{line}: empty text in column {column!r}")
            rows.append(row)
            texts.append(row[column])
    except EmotionDataError as error:
        raise UsageError(str(error)) from None
    if not rows:
        raise UsageError(f"{path}: the file has a header but no rows")
    return header, rows, texts


def is_random_smoke_model(config: PretrainedConfig) -> bool:
    """Whether a model is the smoke profile's tiny BERT, whose random weights make its answers meaningless.

    Told by its shape, which every smoke run shares, rather than by the run's profile.json: a copied model
    folder leaves that file behind.
    """
    return config.model_type == "bert" and (config.hidden_size, config.num_hidden_layers) == SMOKE_SHAPE


def predict_csv(
    classifier: EmotionClassifier,
    args: argparse.Namespace,
    header: list[str],
    rows: list[dict[str, str]],
    texts: list[str],
) -> None:
    """Write `rows` to `args.output` with the predicted emotions of `texts` in the added columns."""
    results = []
    for start in tqdm(range(0, len(texts), args.batch_size), desc="predicting", unit="batch", file=sys.stderr):
        results.extend(classifier.predict(texts[start : start + args.batch_size], top_k=args.top_k))
    write_predictions(args.output, header, rows, results)
    print(f"wrote {len(rows)} predictions to {args.output}", file=sys.stderr)


def write_predictions(
    path: Path, header: list[str], rows: list[dict[str, str]], results: list[list[dict[str, Any]]]
) -> None:
    """Write `rows` with their ranked guesses in the `output_columns`; shared with the demo so both agree."""
    added = output_columns(len(results[0]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header + added)
        writer.writeheader()
        for row, ranked in zip(rows, results):
            guesses = [value for guess in ranked for value in (guess["label"], f"{guess['score']:.4f}")]
            writer.writerow(row | dict(zip(added, guesses)))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # the input is checked before the model loads, which takes seconds
        if args.csv is not None:
            header, rows, texts = read_column(args.csv, args.column, output_columns(args.top_k))
        elif not args.text.strip():
            raise UsageError("the text to classify is empty or only white space")
        classifier = EmotionClassifier.from_folder(
            served_model_folder(args.model), backend=args.backend, base=args.base
        )
        if is_random_smoke_model(classifier.model.config):
            print(
                f"emotion-predict: warning: {args.model} is the smoke profile's tiny randomly initialised model; "
                "its predictions are meaningless",
                file=sys.stderr,
            )
        if args.csv is not None:
            predict_csv(classifier, args, header, rows, texts)
            return 0
        for guess in classifier.predict(args.text, top_k=args.top_k)[0]:
            print(f"{guess['label']}\t{guess['score']:.4f}")
        return 0
    except (UsageError, ModelFolderError, ValueError, TypeError) as error:
        print(f"emotion-predict: error: {error}", file=sys.stderr)
        return 2
