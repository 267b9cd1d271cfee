"""How far two blind labelling passes of a hand-written set agree, and how their disagreements were settled.

Each text of `data/handwritten_test.csv` was labelled twice, the second pass without seeing the first
(`label_first`, `label_second`); `label` is the label the set is scored with: the agreed one, or where the
passes differ, the label a third reading settled on. Cohen's kappa corrects the raw agreement for the agreement
that two passes with these label shares would reach by chance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from helpers import LABEL_NAMES
from helpers.paths import PROJECT_ROOT

HANDWRITTEN_TEST_CSV = PROJECT_ROOT / "data" / "handwritten_test.csv"
"""Hand-written texts of several kinds (chat, reviews, emails, support tickets, diary lines): the test set."""

PASSES = ("label_first", "label_second")


def agreement(path: Path = HANDWRITTEN_TEST_CSV) -> dict[str, Any]:
    """Cohen's kappa of the two passes, their raw agreement, and each disagreement with its settled label."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in ("id", "text", "label", *PASSES) if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}:1: missing column(s) {missing}; both labelling passes and the settled label")
    for column in ("label", *PASSES):
        unknown = frame.index[~frame[column].isin(LABEL_NAMES)]
        if len(unknown):
            line = int(unknown[0]) + 2  # the header is line 1
            raise ValueError(f"{path}:{line}: {column} {frame[column][unknown[0]]!r} is not one of {list(LABEL_NAMES)}")
    first, second = frame[PASSES[0]], frame[PASSES[1]]
    differ = frame[first != second]
    return {
        "texts": len(frame),
        "kappa": float(cohen_kappa_score(first, second, labels=list(LABEL_NAMES))),
        "agreement": float((first == second).mean()),
        "disagreements": differ[["id", "text", *PASSES, "label"]].to_dict("records"),
    }
