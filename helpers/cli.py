"""`emotion-predict`: name the emotion of one text, or of a CSV column written to a new CSV.

emotion-predict runs/cpu/tuned/model "i feel like dancing" --top-k 3
emotion-predict runs/cpu/tuned/model --csv tweets.csv --column text --output tweets_emotions.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from helpers import LABEL_NAMES
from helpers.inference import BACKENDS, EmotionClassifier, ModelFolderError


class UsageError(ValueError):
    """Bad command-line input; reported as one line and exit status 2."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="emotion-predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="a saved model folder (e.g. runs/cpu/tuned/model)")
    parser.add_argument("text", nargs="?", help="one text to classify")
    parser.add_argument("--csv", type=Path, help="classify a column of this CSV file instead")
    parser.add_argument("--column", default="text", help="the CSV column holding the texts (default: text)")
    parser.add_argument("--output", type=Path, help="where to write the CSV with predictions (required with --csv)")
    parser.add_argument("--top-k", type=int, default=1, help="how many emotions to show per text (1-6)")
    parser.add_argument("--batch-size", type=int, default=64, help="texts per forward pass (default: 64)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="how to run the model on the CPU (default: the back end chosen for the model on the validation "
        "split, saved in its backend.json; onnx where none was chosen)",
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


def read_column(path: Path, column: str) -> tuple[list[dict[str, str]], list[str]]:
    """All rows of `path` and the texts of `column`, refusing empty texts by line number."""
    if not path.is_file():
        raise UsageError(f"{path}: no such CSV file")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if column not in (reader.fieldnames or []):
            raise UsageError(f"{path}: no column {column!r}; columns are {reader.fieldnames}")
        rows = list(reader)
    if not rows:
        raise UsageError(f"{path}: the file has a header but no rows")
    texts = []
    for line, row in enumerate(rows, start=2):
        text = row[column]
        if text is None or not text.strip():
            raise UsageError(f"{path}:{line}: empty text in column {column!r}")
        texts.append(text)
    return rows, texts


def predict_csv(classifier: EmotionClassifier, args: argparse.Namespace) -> int:
    rows, texts = read_column(args.csv, args.column)
    results = []
    for start in tqdm(range(0, len(texts), args.batch_size), desc="predicting", unit="batch", file=sys.stderr):
        results.extend(classifier.predict(texts[start : start + args.batch_size], top_k=args.top_k))
    fields = list(rows[0])
    extra = ["emotion", "score"] + [
        f"{kind}_{rank}" for rank in range(2, args.top_k + 1) for kind in ("emotion", "score")
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields + extra)
        writer.writeheader()
        for row, ranked in zip(rows, results):
            for rank, guess in enumerate(ranked, start=1):
                suffix = "" if rank == 1 else f"_{rank}"
                row[f"emotion{suffix}"] = guess["label"]
                row[f"score{suffix}"] = f"{guess['score']:.4f}"
            writer.writerow(row)
    print(f"wrote {len(rows)} predictions to {args.output}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        classifier = EmotionClassifier.from_folder(args.model, backend=args.backend)
        if args.csv is not None:
            return predict_csv(classifier, args)
        for guess in classifier.predict(args.text, top_k=args.top_k)[0]:
            print(f"{guess['label']}\t{guess['score']:.4f}")
        return 0
    except (UsageError, ModelFolderError, ValueError, TypeError) as error:
        print(f"emotion-predict: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
