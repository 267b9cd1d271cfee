"""Behavioural tests in the manner of CheckList (Ribeiro et al., ACL 2020): what a model does, case by case.

Accuracy on a test set says how often a model is right; these say where it breaks. Three kinds:

- invariance: a rewrite that keeps the meaning (an end mark, sentence case, apostrophes, the "i feel" opening
  dropped, a name or place swapped, one typo, an exclamation) should keep the prediction;
- minimum functionality: a short sentence naming its emotion outright should get that emotion;
- direction: a negated happy sentence should not be joy, and an intensifier should not lower the probability
  of the emotion it strengthens by more than `INTENSIFIER_TOLERANCE`.

The invariance cases are built from texts the caller passes (validation texts, never a test split); the others
from the templates below, written for this suite.

Written here rather than with the `checklist` package: its last release (0.0.11, 2021) does not install, as its
build step runs `pip install jupyter` (`pip download checklist==0.0.11` fails while getting its requirements).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from helpers import LABEL_NAMES
from helpers.robustness.augmentation import drop_lead_in, with_apostrophes

ADJECTIVES = {
    "sadness": ("sad", "heartbroken", "miserable", "lonely", "hopeless"),
    "joy": ("happy", "delighted", "thrilled", "cheerful", "glad"),
    "love": ("loving", "affectionate", "tender", "devoted", "romantic"),
    "anger": ("angry", "furious", "annoyed", "irritated", "outraged"),
    "fear": ("scared", "terrified", "anxious", "nervous", "afraid"),
    "surprise": ("surprised", "amazed", "shocked", "astonished", "stunned"),
}
"""Words that name each emotion outright, five per emotion."""

TEMPLATES = ("I feel {}.", "I'm so {} right now.", "Honestly, I am {} today.")
"""Minimum-functionality sentences: each adjective in each template is one case."""

NEGATIONS = ("I'm not {} at all.", "I don't feel {} anymore.")
"""Joy's words negated: the prediction should not be joy."""

INTENSIFIER = ("I feel {}.", "I feel extremely {}.")
"""A sentence and its intensified form."""

INTENSIFIER_TOLERANCE = 0.1
"""How far the emotion's probability may fall when intensified before the case counts as failed."""

INVARIANCE_TEXTS = 300
"""At most this many texts are drawn (seeded) for each invariance test."""

EXAMPLES = 3
"""Failed cases kept per test, to show what went wrong."""

NAMES = (
    "john", "mary", "david", "sarah", "michael", "emma", "james", "anna", "chris", "laura", "mike", "kate", "paul",
    "peter", "tom", "jack", "josh", "dan", "alex", "nick", "emily", "jessica", "rachel", "lisa",
)  # fmt: skip
PLACES = (
    "london", "paris", "texas", "china", "india", "canada", "california", "germany", "japan", "australia",
    "america", "england", "florida", "seattle", "korea", "europe", "mexico", "chicago",
)  # fmt: skip
"""Names and places, written as the tweets write them (lower case); one is swapped for another of its kind."""

NAMED_TEMPLATE = "i felt so {} when {} called me from {}"
"""Validation texts seldom name anyone (about 20 of 2,000 do), so each adjective also gets one such sentence."""

_WORD = re.compile(r"[a-z]{5,}")


class Scorer(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class BehaviourTest:
    """One test's outcome: how many cases, how many failed, and a few failed cases."""

    name: str
    kind: str
    cases: int
    failures: int
    examples: list[dict[str, str]] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        return self.failures / self.cases if self.cases else 0.0


@dataclass
class BehaviourSuite:
    tests: list[BehaviourTest]

    def failure_rates(self) -> dict[str, float]:
        return {test.name: test.failure_rate for test in self.tests}

    def to_dict(self) -> dict[str, Any]:
        return {"tests": [{**asdict(test), "failure_rate": test.failure_rate} for test in self.tests]}


def end_mark(text: str) -> str:
    return text + "."


def sentence_case(text: str) -> str:
    """A capital to begin with and for "I", the rest as it was."""
    words = ["I" if word == "i" else word for word in text.split(" ")]
    joined = " ".join(words)
    return joined[:1].upper() + joined[1:]


def swap_name_or_place(text: str, rng: random.Random) -> str:
    """The first name or place of the text replaced by another of its kind; unchanged if there is none."""
    words = text.split(" ")
    for index, word in enumerate(words):
        for kind in (NAMES, PLACES):
            if word in kind:
                words[index] = rng.choice([other for other in kind if other != word])
                return " ".join(words)
    return text


def one_typo(text: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped inside one word of five letters or more; unchanged if there is none."""
    words = list(_WORD.finditer(text))
    if not words:
        return text
    word = rng.choice(words)
    at = rng.randrange(word.start() + 1, word.end() - 2)  # keep the first and last letters
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def exclaimed(text: str) -> str:
    return text + "!!"


def _labels(classifier: Scorer, texts: Sequence[str]) -> np.ndarray:
    return np.asarray(classifier.predict_proba(list(texts))).argmax(axis=1)


def invariance(classifier: Scorer, name: str, texts: Sequence[str], rewrite: Callable[[str], str]) -> BehaviourTest:
    """Cases are the texts the rewrite changes; a case fails when the predicted label changes."""
    pairs = [(text, rewrite(text)) for text in texts]
    pairs = [(before, after) for before, after in pairs if after != before]
    if not pairs:
        return BehaviourTest(name, "invariance", 0, 0)
    before = _labels(classifier, [b for b, _ in pairs])
    after = _labels(classifier, [a for _, a in pairs])
    failed = np.flatnonzero(before != after)
    examples = [
        {
            "text": pairs[i][0],
            "rewritten": pairs[i][1],
            "before": LABEL_NAMES[before[i]],
            "after": LABEL_NAMES[after[i]],
        }
        for i in failed[:EXAMPLES]
    ]
    return BehaviourTest(name, "invariance", len(pairs), len(failed), examples)


def minimum_functionality(classifier: Scorer) -> BehaviourTest:
    cases = [(template.format(word), emotion) for emotion, words in ADJECTIVES.items() for word in words
             for template in TEMPLATES]  # fmt: skip
    predicted = _labels(classifier, [text for text, _ in cases])
    failed = [i for i, (_, emotion) in enumerate(cases) if LABEL_NAMES[predicted[i]] != emotion]
    examples = [{"text": cases[i][0], "expected": cases[i][1], "predicted": LABEL_NAMES[predicted[i]]} for i in failed]
    return BehaviourTest(
        "emotion named outright", "minimum functionality", len(cases), len(failed), examples[:EXAMPLES]
    )


def negated_joy(classifier: Scorer) -> BehaviourTest:
    texts = [template.format(word) for word in ADJECTIVES["joy"] for template in NEGATIONS]
    predicted = _labels(classifier, texts)
    failed = np.flatnonzero(predicted == LABEL_NAMES.index("joy"))
    examples = [{"text": texts[i], "predicted": "joy"} for i in failed[:EXAMPLES]]
    return BehaviourTest("negated joy is not joy", "direction", len(texts), len(failed), examples)


def intensified(classifier: Scorer) -> BehaviourTest:
    words = [(word, LABEL_NAMES.index(emotion)) for emotion, words in ADJECTIVES.items() for word in words]
    plain = np.asarray(classifier.predict_proba([INTENSIFIER[0].format(word) for word, _ in words]))
    strong = np.asarray(classifier.predict_proba([INTENSIFIER[1].format(word) for word, _ in words]))
    drops = np.array([plain[i, label] - strong[i, label] for i, (_, label) in enumerate(words)])
    failed = np.flatnonzero(drops > INTENSIFIER_TOLERANCE)
    examples = [
        {"text": INTENSIFIER[1].format(words[i][0]), "emotion": LABEL_NAMES[words[i][1]], "drop": f"{drops[i]:.2f}"}
        for i in failed[:EXAMPLES]
    ]
    return BehaviourTest("an intensifier keeps the emotion", "direction", len(words), len(failed), examples)


def run_suite(classifier: Scorer, texts: Sequence[str], seed: int) -> BehaviourSuite:
    """Every test on one model; the invariance tests on at most `INVARIANCE_TEXTS` of `texts`, drawn with `seed`
    (names and places on every text that holds one, being few, and on `NAMED_TEMPLATE`'s sentences)."""
    rng = random.Random(seed)
    drawn = rng.sample(list(texts), min(INVARIANCE_TEXTS, len(texts)))
    typo_rng, swap_rng = random.Random(seed), random.Random(seed)
    named = [text for text in texts if swap_name_or_place(text, random.Random(0)) != text]  # all of them: rare
    named += [
        NAMED_TEMPLATE.format(word, NAMES[i % len(NAMES)], PLACES[i % len(PLACES)])
        for i, word in enumerate(word for words in ADJECTIVES.values() for word in words)
    ]
    return BehaviourSuite(
        [
            invariance(classifier, "a full stop added", drawn, end_mark),
            invariance(classifier, "sentence case", drawn, sentence_case),
            invariance(classifier, "apostrophes", drawn, lambda text: with_apostrophes(text).lower()),
            invariance(classifier, "the \u201ci feel\u201d opening dropped", drawn, drop_lead_in),
            invariance(classifier, "a name or place swapped", named, lambda text: swap_name_or_place(text, swap_rng)),
            invariance(classifier, "one typo", drawn, lambda text: one_typo(text, typo_rng)),
            invariance(classifier, "an exclamation added", drawn, exclaimed),
            minimum_functionality(classifier),
            negated_joy(classifier),
            intensified(classifier),
        ]
    )
