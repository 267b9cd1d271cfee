"""Notebook 08's parts that need no trained model: the rule that picks the model for use, and WiSE-FT's
interpolation of two model folders."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

from helpers import LABEL_NAMES
from helpers.models.folder import load_model_folder
from helpers.reporting.robustness_facts import robustness_facts
from helpers.robustness.augmentation import drop_lead_in, rewrite_as_typed, with_apostrophes
from helpers.robustness.choice import choose_for_use
from helpers.robustness.interpolation import INTERPOLATION_RECORD, interpolate_folders
from helpers.robustness.training_mix import mix_into_training


def test_the_model_for_use_is_the_best_out_of_domain_among_those_good_in_domain() -> None:
    validation = {"seed_recipe": 0.9225, "lp_ft": 0.9265, "searched": 0.9300, "lora": 0.9320}
    ood_dev = {"seed_recipe": 0.646, "lp_ft": 0.543, "searched": 0.474, "lora": 0.458}
    choice = choose_for_use(validation, ood_dev)
    assert choice["eligible"] == ["searched", "lora"]  # within 0.5 points of 0.9320; the seed recipe is 0.95 below
    assert choice["name"] == "searched"  # not the in-domain best, nor the out-of-domain best, which gave up too much
    assert choose_for_use(validation, ood_dev, tolerance_points=1.0)["name"] == "seed_recipe"
    assert choose_for_use({"a": 0.9, "b": 0.9}, {"a": 0.5, "b": 0.5})["name"] == "a"  # a tie: the first listed
    with pytest.raises(ValueError, match="both scores"):
        choose_for_use(validation, {"lora": 0.5})


def tiny_folder(folder: Path, seed: int, hidden: int = 16) -> Path:
    torch.manual_seed(seed)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "happy", "sad", "today"]
    tokenizer = BertTokenizer(vocab={token: index for index, token in enumerate(tokens)})
    config = BertConfig(
        vocab_size=len(tokens), hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, num_labels=len(LABEL_NAMES),
        id2label=dict(enumerate(LABEL_NAMES)), label2id={name: i for i, name in enumerate(LABEL_NAMES)},
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_interpolation_mixes_every_weight_between_its_endpoints(tmp_path: Path) -> None:
    start, tuned = tiny_folder(tmp_path / "start", seed=0), tiny_folder(tmp_path / "tuned", seed=1)
    weights = {name: load_model_folder(folder)[0].state_dict() for name, folder in (("start", start), ("tuned", tuned))}
    for weight in (0.0, 0.3, 1.0):
        mixed = load_model_folder(interpolate_folders(start, tuned, weight, tmp_path / f"mixed-{weight}"))[0]
        for name, tensor in mixed.state_dict().items():
            if tensor.is_floating_point():
                expected = (1 - weight) * weights["start"][name] + weight * weights["tuned"][name]
                torch.testing.assert_close(tensor, expected, atol=1e-6, rtol=0)
    record = json.loads((tmp_path / "mixed-0.3" / INTERPOLATION_RECORD).read_text())
    assert record["weight"] == 0.3 and record["start"] == str(start)


def test_interpolation_refuses_two_different_models_and_a_weight_off_the_line(tmp_path: Path) -> None:
    start, wider = tiny_folder(tmp_path / "start", seed=0), tiny_folder(tmp_path / "wider", seed=0, hidden=32)
    with pytest.raises(ValueError, match="between 0"):
        interpolate_folders(start, start, 1.5, tmp_path / "out")
    with pytest.raises(ValueError, match="not two points of one model"):
        interpolate_folders(start, wider, 0.5, tmp_path / "out")


def test_extra_rows_join_the_training_split_only_at_the_asked_ratio(easy_data) -> None:
    extra = easy_data["train"].map(lambda row: {"text": row["text"].upper()})  # 240 rewritten rows, 40 per label
    mixed = mix_into_training(easy_data, extra, ratio=0.25, seed=0)
    assert len(mixed["train"]) == len(easy_data["train"]) + 60
    added = [label for text, label in zip(mixed["train"]["text"], mixed["train"]["label"]) if text.isupper()]
    assert len(added) == 60 and set(np.bincount(added, minlength=len(LABEL_NAMES))) == {10}  # stratified
    assert mixed["validation"]["text"] == easy_data["validation"]["text"]
    assert mixed["train"]["text"][:20] != [*easy_data["train"]["text"], *added][:20]  # shuffled in, not appended
    assert len(mix_into_training(easy_data, extra, ratio=5.0, seed=0)["train"]) == 2 * len(easy_data["train"])
    assert mix_into_training(easy_data, extra, ratio=0.0, seed=0) is easy_data
    with pytest.raises(ValueError, match="negative"):
        mix_into_training(easy_data, extra, ratio=-0.1, seed=0)


@pytest.mark.parametrize(
    ("tweet", "expected"),
    [
        ("i feel like i have to make it mean something", "i have to make it mean something"),
        ("ive been feeling a little burdened lately", "a little burdened lately"),
        ("i am feeling grouchy", "i am feeling grouchy"),  # nothing worth keeping would remain
        ("the day i feel like dancing", "the day i feel like dancing"),  # no lead-in at the start
    ],
)
def test_the_lead_in_goes_only_where_the_rest_still_says_something(tweet: str, expected: str) -> None:
    assert drop_lead_in(tweet) == expected


def test_a_rewrite_keeps_the_words_and_types_them_as_people_do(easy_data) -> None:
    assert with_apostrophes("im sure i m right but i dont know") == "I'm sure I'm right but I don't know"
    assert with_apostrophes("its a lets go") == "its a lets go"  # words too: left alone
    rewritten = rewrite_as_typed(easy_data["train"], seed=0)
    assert rewritten["label"] == easy_data["train"]["label"]
    for before, after in zip(easy_data["train"]["text"], rewritten["text"]):
        assert after[0].isupper() and after[-1] in ".!"
        assert after.lower().rstrip(".!").split()[-1] == before.split()[-1]  # the ending words are kept
    assert rewritten["text"] == rewrite_as_typed(easy_data["train"], seed=0)["text"]  # seeded


def test_the_report_reads_each_goal_off_the_served_model() -> None:
    def split(accuracy: float, f1_macro: float) -> dict:
        return {"accuracy": accuracy, "f1_macro": f1_macro, "ci95": {"accuracy": [0, 1], "f1_macro": [0, 1]}}

    test = {
        "in_domain": {"test": split(0.926, 0.88), "ood_test": split(0.30, 0.29), "handwritten_test": split(0.55, 0.5)},
        "for_use": {"test": split(0.919, 0.87), "ood_test": split(0.76, 0.66), "handwritten_test": split(0.80, 0.79)},
    }
    flips = {"a full stop added": 0.005, "sentence case": 0.02, "the \u201ci feel\u201d opening dropped": 0.03}
    behaviour = {
        "tests": [{"name": n, "kind": "invariance", "cases": 100, "failure_rate": v} for n, v in flips.items()]
    }
    r = SimpleNamespace(
        sets={}, annotation={}, choice={"name": "for_use"}, served={"model": "for_use"}, test=test,
        validation={n: {"validation": split(0.92, 0.9), "ood_dev_all": split(0.7, 0.6)} for n in test},
        behaviour={"for_use": behaviour},
    )  # fmt: skip
    facts = robustness_facts({"robustness": r, "metrics": SimpleNamespace(chosen={"name": "in_domain"})})
    met = [goal["met"] for goal in facts["goals"]]
    # OOD-test accuracy, OOD-test macro F1, hand-written accuracy, in domain (0.919 < 0.926 - 0.005), then flips
    assert met == [True, False, True, False, True, False, True]
    assert facts["versus"]["ood_test"] == pytest.approx(100 * (0.30 - 0.76))
    assert facts["rows"][0]["name"] == "for_use" and facts["rows"][0]["chosen"]
