"""`make demo`: a Gradio page that names the emotion of a text or a CSV column, with the model's card beside it.

The functions behind the page (`DemoModel`) take plain values and return plain values, so they are tested
without a browser; `build_app` only lays out Gradio components and wires them to those functions. Refused
input comes back as a message shown in the page, never as an exception, so the server keeps serving.

python -m helpers.serving.demo [MODEL_FOLDER] [--host 127.0.0.1] [--port 7860]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
import yaml

from helpers import LABEL_NAMES
from helpers.data.loading import read_csv
from helpers.models.folder import ModelFolderError, TokenizerMismatchError
from helpers.paths import runs_root
from helpers.serving.backends import BACKEND_DECISION
from helpers.serving.classifier import EmotionClassifier
from helpers.serving.cli import UsageError, is_random_smoke_model, output_columns, read_column, write_predictions
from helpers.serving.explain import SEED_REPORT_SENTENCES, occlusion_importance
from helpers.serving.served import newest_served_model, served_model_folder

MODEL_ENV = "EMOTION_MODEL"
"""A model folder to serve when none is given on the command line (a Space sets it, or ships `model/`)."""
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest CSV the page reads: checked on the file's size before any parsing."""
MAX_ROWS = 20_000
"""Most rows of a CSV the page classifies: a few seconds of one CPU core per thousand tweets."""
MAX_EXPLAINED_WORDS = 100
"""Occlusion runs one forward pass per word; beyond the model's 128 tokens words change nothing anyway."""
BATCH_SIZE = 64
"""Texts per call when classifying a file: one step of the progress bar, and the longest a single text waits."""
TOP_K = 1
"""Guesses added per CSV row: the CLI's default, so `emotion-predict --csv` and the page write the same columns."""
TRUNCATION = re.compile(r"(\d+) text\(s\) longer than \d+ tokens were truncated")
"""The classifier's truncation warning, whose count the file tab reports."""


class NoModelError(FileNotFoundError):
    """No model folder was given and no run has trained one; the message says how to get one."""


def newest_model() -> Path | None:
    """The model the newest evaluated run serves (notebook 08's model for use, else notebook 05's), else the
    tuned model of the newest run under `runs_root()`, or None.

    Runs without a served-model record are ordered by their config.json's modification time: loading a folder
    adds `onnx-cache/` to it, which would make the folder itself look new.
    """
    served = newest_served_model()
    if served is not None:
        return served
    folders = [path for path in runs_root().glob("*/tuned/model") if (path / "config.json").is_file()]
    return max(folders, key=lambda path: (path / "config.json").stat().st_mtime, default=None)


def no_model_message() -> str:
    return (
        f"no trained model found under {runs_root()} (neither a model chosen by notebook 05 nor */tuned/model). "
        "Train one with "
        "`make report PROFILE=cpu` (or `PROFILE=smoke` for a tiny random one in a minute), or serve a model "
        f"folder you have: `make demo MODEL=path/to/model` (or set ${MODEL_ENV})."
    )


def resolve_model(explicit: str | Path | None = None) -> Path:
    """The folder to serve: `explicit`, else $EMOTION_MODEL (a run folder standing for the model it serves),
    else the newest run's served model."""
    chosen = explicit or os.environ.get(MODEL_ENV)
    if chosen:
        return served_model_folder(Path(chosen).expanduser())
    found = newest_model()
    if found is None:
        raise NoModelError(no_model_message())
    return found


@dataclass(frozen=True)
class ModelCard:
    """What the page's About tab shows from a model folder's README.md."""

    metrics: dict[str, float]
    dataset: str
    limitations: str


def read_model_card(folder: Path) -> ModelCard | None:
    """The test metrics (YAML front matter's model-index) and the Limitations section of `folder/README.md`."""
    path = folder / "README.md"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2) if text.startswith("---\n") else ("", "", text)
    metadata = yaml.safe_load(front) or {}
    results = (metadata.get("model-index") or [{}])[0].get("results") or [{}]
    dataset = results[0].get("dataset", {})
    metrics = {entry["name"]: float(entry["value"]) for entry in results[0].get("metrics", [])}
    section = body.split("\n## Limitations\n", 1)[1] if "\n## Limitations\n" in body else ""
    return ModelCard(
        metrics=metrics,
        dataset=f"{dataset.get('type', '?')}, {dataset.get('split', '?')} split" if dataset else "",
        limitations=section.split("\n## ", 1)[0].strip(),
    )


def backend_description(folder: Path, backend: str) -> str:
    """Which back end serves the page and why: the validation-split decision in backend.json, if any."""
    path = folder / BACKEND_DECISION
    if not path.is_file():
        return f"`{backend}`: this folder holds no validation-split decision (`{BACKEND_DECISION}`)."
    decision = json.loads(path.read_text(encoding="utf-8"))
    agreement, bounds = decision.get("agreement", {}), decision.get("bounds", {})
    return (
        f"`{backend}`, chosen on the {decision.get('split', 'validation')} split (`{BACKEND_DECISION}`): the int8 "
        f"graph changed {agreement.get('changed_labels', '?')} of {agreement.get('texts', '?')} float32 labels "
        f"and moved accuracy by {agreement.get('accuracy_change_points', float('nan')):+.2f} points; it is served "
        f"only within {100 * bounds.get('max_changed_label_share', float('nan')):g}% and "
        f"{bounds.get('max_accuracy_change_points', float('nan')):g} points."
    )


def about_markdown(folder: Path, backend: str) -> str:
    """The About tab: test metrics and limitations from the model card, and the back end in use."""
    card = read_model_card(folder)
    lines = [f"**Model folder:** `{folder}`", "", f"**Inference back end:** {backend_description(folder, backend)}", ""]
    if card is None:
        lines.append("This model folder has no model card (README.md); notebook 05 writes one with its test metrics.")
        return "\n".join(lines)
    if card.metrics:
        lines += [f"**Test metrics** ({card.dataset}):", "", "| metric | value |", "| --- | ---: |"]
        lines += [f"| {name} | {value:.4f} |" for name, value in card.metrics.items()]
        lines.append("")
    if card.limitations:
        lines += ["**Limitations** (from the model card):", "", card.limitations]
    return "\n".join(lines)


def _short(message: str, path: Path) -> str:
    """An error about an uploaded file, naming it by its name rather than by Gradio's temporary path."""
    return message.replace(str(path), path.name)


class DemoModel:
    """The classifier behind the page, shared by every visitor.

    One lock serialises calls into it: the fast tokenizer keeps each call's truncation and padding settings
    on itself (one visitor's call could run with another's), and `warnings.catch_warnings` is process-wide.
    Each call takes milliseconds (a file goes in `BATCH_SIZE` batches, taking the lock per batch), so one
    visitor's file never holds up another's single text for long.
    """

    def __init__(self, folder: Path, classifier: EmotionClassifier) -> None:
        self.folder = folder
        self.classifier = classifier
        self.is_random = is_random_smoke_model(classifier.model.config)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path) -> DemoModel:
        """Load once and run one text, so the first visitor does not pay for ONNX Runtime's first call."""
        model = cls(folder, EmotionClassifier.from_folder(folder))
        model.classifier.predict_proba(SEED_REPORT_SENTENCES[0])
        return model

    def _proba(self, texts: str | Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """Probabilities and the texts of any warnings the classifier gave (truncation)."""
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            probabilities = self.classifier.predict_proba(texts)
        return probabilities, [str(warning.message) for warning in caught]

    def classify(self, text: str) -> tuple[dict[str, float] | None, str]:
        """The six probabilities for `gr.Label`, and a notice (empty when there is nothing to say)."""
        if not text or not text.strip():
            return None, "Type a sentence first: the text is empty."
        probabilities, caught = self._proba(text)
        notice = ""
        if any("truncated" in message for message in caught):
            notice = (
                f"This text is longer than the model's limit of {self.classifier.max_length} tokens: only its "
                "beginning was read."
            )
        return dict(zip(LABEL_NAMES, map(float, probabilities[0]))), notice

    def explain(self, text: str) -> tuple[list[tuple[str, float | None]] | None, str]:
        """Words with how much leaving each out lowers the predicted emotion's probability, scaled to [-1, 1].

        `gr.HighlightedText` colours positive scores red (the word supports the prediction) and negative ones
        purple; the caption names the strongest word with its unscaled drop.
        """
        if not text or not text.strip():
            return None, ""
        words = text.split()
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # truncation is announced by `classify`
            shown, drops, label = occlusion_importance(self.classifier, " ".join(words[:MAX_EXPLAINED_WORDS]))
        largest = max(map(abs, drops), default=0.0) or 1.0
        spans: list[tuple[str, float | None]] = []
        for word, drop in zip(shown, drops):
            spans += [(word, round(drop / largest, 3)), (" ", None)]
        drop, word = max(zip(drops, shown))
        reason = (
            f"leaving out **{word}** lowers its probability the most (by {100 * drop:.1f} points)"
            if drop > 0
            else "leaving out any one word does not lower its probability"
        )
        caption = f"Why **{label}**: {reason}; red words support {label}, purple ones argue against it."
        if len(words) > MAX_EXPLAINED_WORDS:
            caption += f" Only the first {MAX_EXPLAINED_WORDS} words are explained."
        return spans[:-1], caption

    def columns(self, path: str | None) -> tuple[list[str], str | None, str]:
        """The header of an uploaded CSV for the column choice, the column to preselect, and a message."""
        if not path:
            return [], None, ""
        try:
            header, _ = read_csv(self._checked_size(Path(path)))
        except (UsageError, ValueError) as error:
            return [], None, f"**Cannot read this file:** {_short(str(error), Path(path))}"
        if not header:
            return [], None, f"**Cannot read this file:** {Path(path).name} is empty."
        chosen = "text" if "text" in header else header[0]
        return header, chosen, f"{Path(path).name}: {len(header)} column(s); choose the one holding the texts."

    @staticmethod
    def _checked_size(path: Path) -> Path:
        """`path` if it is within `MAX_UPLOAD_BYTES`, refused before it is read at all otherwise."""
        size = path.stat().st_size
        if size == 0:
            raise UsageError(f"{path.name} is empty")
        if size > MAX_UPLOAD_BYTES:
            raise UsageError(
                f"{path.name} is {size / 1024**2:.1f} MB; the demo takes files up to "
                f"{MAX_UPLOAD_BYTES // 1024**2} MB and {MAX_ROWS:,} rows (use `emotion-predict --csv` for more)"
            )
        return path

    def classify_file(
        self, path: str | None, column: str | None, track: Any = iter
    ) -> tuple[pd.DataFrame | None, str | None, str]:
        """The CSV's rows with `output_columns` added, as a table and as a CSV file to download, and a message.

        `track` wraps the batches for a progress bar (a `gr.Progress`'s `tqdm`); read and written as the CLI does.
        """
        if not path:
            return None, None, "**Upload a CSV file first.**"
        if not column:  # none to choose when the upload could not be read: say why again
            choices, _, message = self.columns(path)
            return None, None, message if not choices else "**Choose the column that holds the texts.**"
        source = Path(path)
        try:
            header, rows, texts = read_column(self._checked_size(source), column, output_columns(TOP_K))
            if len(rows) > MAX_ROWS:
                raise UsageError(f"{source.name} has {len(rows):,} rows; the demo takes up to {MAX_ROWS:,}")
        except UsageError as error:
            return None, None, f"**Cannot classify this file:** {_short(str(error), source)}"
        results: list[list[dict[str, Any]]] = []
        truncated = 0
        starts: Iterable[int] = track(range(0, len(texts), BATCH_SIZE))
        for start in starts:
            probabilities, caught = self._proba(texts[start : start + BATCH_SIZE])
            results += [[{"label": LABEL_NAMES[int(row.argmax())], "score": float(row.max())}] for row in probabilities]
            truncated += sum(int(found.group(1)) for found in map(TRUNCATION.match, caught) if found)
        target = Path(tempfile.mkdtemp(prefix="emotion-demo-")) / f"{source.stem}_emotions.csv"
        write_predictions(target, header, rows, results)
        table = pd.read_csv(target, dtype=str, keep_default_na=False)
        message = f"Classified {len(rows):,} row(s) of column `{column}`."
        if truncated:
            message += f" {truncated} text(s) were longer than {self.classifier.max_length} tokens and were truncated."
        return table, str(target), message


INTRO = """# What emotion is in this text?
A fine-tuned transformer names the emotion of a short English text: sadness, joy, love, anger, fear or surprise.
It was trained on tweets, so short informal sentences suit it best."""


def build_app(model: DemoModel) -> gr.Blocks:
    """The page: one text (label, scores, examples, why), a CSV file, and the model card, behind Gradio's queue."""
    header = f"Serving `{model.folder.name}` from `{model.folder.parent}` on `{model.classifier.backend}`."
    if model.is_random:
        header += (
            "\n\n**This is the smoke profile's tiny randomly initialised model: its answers are meaningless.** "
            "Train a real one with `make report PROFILE=cpu`."
        )

    def classify_file(path: str | None, column: str | None, progress: gr.Progress = gr.Progress()):  # noqa: B008
        return model.classify_file(path, column, lambda steps: progress.tqdm(steps, desc="classifying", unit="batch"))

    def columns(path: str | None) -> tuple[dict[str, Any], str]:
        choices, chosen, message = model.columns(path)
        return gr.Dropdown(choices=choices, value=chosen, interactive=bool(choices)), message

    with gr.Blocks(title="Emotion of a text", analytics_enabled=False) as app:
        gr.Markdown(INTRO)
        gr.Markdown(header, elem_id="model-info")
        with gr.Tabs():
            with gr.Tab("Single text", id="single"):
                with gr.Row():
                    with gr.Column():
                        text = gr.Textbox(label="Text", placeholder="i feel like dancing all day", lines=3)
                        classify = gr.Button("Name the emotion", variant="primary", elem_id="classify")
                        notice = gr.Markdown(elem_id="text-notice")
                    label = gr.Label(num_top_classes=len(LABEL_NAMES), label="Emotion", elem_id="emotion")
                examples = gr.Examples(
                    examples=[[sentence] for sentence in SEED_REPORT_SENTENCES],
                    inputs=text,
                    label="Examples from the course report (click one)",
                )
                why = gr.HighlightedText(
                    label="Why: how much leaving out each word lowers the predicted emotion's probability",
                    show_legend=False,
                    elem_id="why",
                )
                why_caption = gr.Markdown(elem_id="why-caption")
            with gr.Tab("A file", id="file"):
                gr.Markdown(
                    f"Upload a UTF-8 CSV (up to {MAX_UPLOAD_BYTES // 1024**2} MB and {MAX_ROWS:,} rows) and choose "
                    "its text column; you get it back with the columns `emotion` and `score` added, as "
                    "`emotion-predict --csv` writes them."
                )
                with gr.Row():
                    upload = gr.File(label="CSV file", file_types=[".csv"], type="filepath", elem_id="upload")
                    column = gr.Dropdown(label="Text column", choices=[], interactive=False, elem_id="column")
                classify_csv = gr.Button("Classify the file", variant="primary")
                file_notice = gr.Markdown(elem_id="file-notice")
                table = gr.Dataframe(label="Predictions", interactive=False, max_height=400, elem_id="table")
                download = gr.File(label="Download the CSV", interactive=False, elem_id="download")
            with gr.Tab("About", id="about"):
                gr.Markdown(about_markdown(model.folder, model.classifier.backend), elem_id="about")

        # the label first, then the slower occlusion as its own event
        for trigger in (classify.click, text.submit, examples.load_input_event.then):
            trigger(model.classify, text, [label, notice], api_name=False).then(
                model.explain, text, [why, why_caption], api_name=False
            )
        upload.upload(columns, upload, [column, file_notice], api_name=False)
        upload.clear(lambda: (gr.Dropdown(choices=[], value=None), ""), None, [column, file_notice], api_name=False)
        classify_csv.click(classify_file, [upload, column], [table, download, file_notice], api_name=False)
    return app.queue()  # one worker per event: a visitor waits in line, and the lock keeps the model safe


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="emotion-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "model",
        nargs="?",
        help=f"a model folder, or a run folder such as runs/cpu for the model it serves (default: ${MODEL_ENV}, "
        "else the newest run's served model)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: localhost only)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")
    return parser.parse_args(argv)


def load_demo(explicit: str | Path | None) -> DemoModel:
    """The model to serve, or an error whose message alone tells the user what to do."""
    return DemoModel.load(resolve_model(explicit))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model = load_demo(args.model)
    except (NoModelError, ModelFolderError, TokenizerMismatchError, ValueError) as error:
        print(f"emotion-demo: {error}", file=sys.stderr)
        return 2
    print(f"emotion-demo: serving {model.folder} on {model.classifier.backend}", file=sys.stderr)
    build_app(model).launch(server_name=args.host, server_port=args.port, show_error=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
