"""The behavioural suite tells a model that reads words from one that reads case, negation or intensity wrongly."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from helpers import LABEL_NAMES
from helpers.robustness.behaviour import ADJECTIVES, NAMES, one_typo, run_suite, swap_name_or_place

TWEETS = [
    "i feel so lonely since she left",
    "im thrilled about the new job",
    "i feel like everyone is furious with me today",
    "i dont know why i feel so nervous",
    "i am feeling amazed by how kind people are",
]


class Keywords:
    """Reads words: the emotion whose adjective appears, joy's turned to sadness after a negation."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.full((len(texts), len(LABEL_NAMES)), 0.01)
        for row, text in enumerate(texts):
            words = text.lower().replace(".", " ").replace("!", " ").replace(",", " ").split()
            found = next((e for e, adjectives in ADJECTIVES.items() for w in words if w in adjectives), "sadness")
            if found == "joy" and ({"not", "don't", "dont"} & set(words)):
                found = "sadness"
            out[row, LABEL_NAMES.index(found)] = 0.95
        return out


class Constant:
    def __init__(self, label: str) -> None:
        self.label = LABEL_NAMES.index(label)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.full((len(texts), len(LABEL_NAMES)), 0.1)
        out[:, self.label] = 0.5
        return out


class IntensityShy(Keywords):
    """Sadness whenever "extremely" is written: an intensifier that pulls the emotion away."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = super().predict_proba(texts)
        shy = np.array(["extremely" in text for text in texts])
        out[shy] = 0.01
        out[shy, LABEL_NAMES.index("sadness")] = 0.95
        return out


class CaseReader:
    """Joy for any capital letter, sadness otherwise: the habit a model of lower-case tweets can learn."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        capital = np.array([any(c.isupper() for c in text) for text in texts])
        out = np.full((len(texts), len(LABEL_NAMES)), 0.1)
        out[capital, LABEL_NAMES.index("joy")] = 0.9
        out[~capital, LABEL_NAMES.index("sadness")] = 0.9
        return out


def rates(classifier: object) -> dict[str, float]:
    return run_suite(classifier, TWEETS, seed=0).failure_rates()  # type: ignore[arg-type]


def test_a_model_that_reads_exact_words_passes_every_test_but_the_typo() -> None:
    found = rates(Keywords())
    assert found.pop("one typo") > 0  # a misspelt "thrilled" is no longer a word it knows
    assert set(found.values()) == {0.0}


def test_a_constant_model_fails_minimum_functionality_and_negation_but_no_invariance() -> None:
    found = rates(Constant("joy"))
    assert found["emotion named outright"] == 75 / 90  # right only on joy's 15 sentences
    assert found["negated joy is not joy"] == 1.0
    saved = run_suite(Constant("joy"), TWEETS, seed=0).to_dict()["tests"]
    assert all(test["failure_rate"] == 0.0 for test in saved if test["kind"] == "invariance")


def test_a_model_that_reads_case_fails_sentence_case_only() -> None:
    suite = {test.name: test for test in run_suite(CaseReader(), TWEETS, seed=0).tests}
    cased = suite["sentence case"]
    assert cased.cases == len(TWEETS) and cased.failure_rate == 1.0
    assert cased.examples[0]["before"] == "sadness" and cased.examples[0]["after"] == "joy"
    assert cased.examples[0]["rewritten"][0].isupper() and " I " in cased.examples[0]["rewritten"]
    assert suite["a full stop added"].failure_rate == 0.0 and suite["apostrophes"].failure_rate == 0.0
    assert suite["apostrophes"].cases == 2  # "im thrilled", "i dont know": the others have no contraction


def test_an_intensifier_that_lowers_the_emotion_fails() -> None:
    assert rates(IntensityShy())["an intensifier keeps the emotion"] == 25 / 30  # all but sadness's five
    assert rates(Keywords())["an intensifier keeps the emotion"] == 0.0


def test_a_typo_swaps_two_inner_letters_of_one_word() -> None:
    text = "i feel wonderful"
    typo = one_typo(text, random.Random(3))
    assert typo != text and len(typo) == len(text) and sorted(typo) == sorted(text)
    assert typo.startswith("i feel w") and typo.endswith("l")
    assert one_typo("i am ok", random.Random(3)) == "i am ok"  # no word long enough: unchanged


def test_a_name_or_place_is_swapped_for_another_of_its_kind() -> None:
    swapped = swap_name_or_place("i miss john so much since he moved to london", random.Random(1))
    assert swapped != "i miss john so much since he moved to london" and "london" in swapped
    assert swapped.split()[2] in NAMES and swapped.split()[2] != "john"
    assert swap_name_or_place("i feel fine", random.Random(1)) == "i feel fine"
    named = [*TWEETS, "i feel like mary never listens"]
    swap = {test.name: test for test in run_suite(Keywords(), named, seed=0).tests}["a name or place swapped"]
    assert swap.cases == 1 + 30 and swap.failures == 0  # the text, and one templated sentence per adjective


def test_the_suite_is_saved_with_every_count() -> None:
    saved = run_suite(Constant("joy"), TWEETS, seed=0).to_dict()
    named = {test["name"]: test for test in saved["tests"]}
    assert named["negated joy is not joy"]["cases"] == 10 and named["negated joy is not joy"]["failures"] == 10
    assert named["negated joy is not joy"]["examples"][0]["predicted"] == "joy"
    assert {test["kind"] for test in saved["tests"]} == {"invariance", "minimum functionality", "direction"}
