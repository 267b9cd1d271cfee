"""The benchmark runs end to end on the smoke profile, and the fast back ends predict what float32 predicts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import DatasetDict
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from helpers.bench import inference as bench_inference
from helpers.bench import parallel as bench_parallel
from helpers.bench import precision as bench_precision
from helpers.bench import run as bench_run
from helpers.bench import training as bench_training
from helpers.bench.settings import BATCH_EFFECT_TOLERANCE, BF16_RECIPES, PRECISIONS, PROJECT, SEED, SETTINGS
from helpers.data.loading import load_emotion, subset_for_profile
from helpers.hardware import cpu_has_native_bf16, resolve_mixed_precision
from helpers.models.batching import LogitsFunction, batched_logits, sorted_batch_logits, torch_backend
from helpers.models.building import load_tokenizer
from helpers.models.folder import weights_sha256
from helpers.probabilities import softmax
from helpers.profiles import resolve_profile
from helpers.reporting.context import speed_facts
from helpers.reporting.templates import environment, reflow
from helpers.reporting.titles import PRECISION_NAMES
from helpers.serving.backends import BACKENDS, FAST_BACKEND, build_backend, onnx_backend
from helpers.serving.classifier import EmotionClassifier
from helpers.serving.onnx_export import ONNX_CACHE, build_onnx, export_onnx
from helpers.training.workers import default_workers


@pytest.fixture(scope="module")
def trained_folder(trained_model_dir: Path) -> Path:
    return trained_model_dir


@pytest.fixture(scope="module")
def fp32_and_texts(trained_folder: Path, easy_data: DatasetDict):
    model = AutoModelForSequenceClassification.from_pretrained(trained_folder)
    tokenizer = AutoTokenizer.from_pretrained(trained_folder)
    texts = list(easy_data["test"]["text"]) + list(easy_data["validation"]["text"])
    return model, tokenizer, texts


def logits_on(backend: str, model, tokenizer, texts: list[str]) -> np.ndarray:
    """Batches of 8 of mixed lengths, so padding and the attention mask are exercised."""
    return sorted_batch_logits(build_backend(model, backend), 6, tokenizer, texts, batch_size=8, max_length=64)


@pytest.fixture(scope="module")
def smoke_bench(
    real_data_dir: Path, trained_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, Path]:
    """One smoke bench for the module (its parallel workers take a while to start): what `main` returned and the
    JSON file it wrote. Runs go to a scratch folder, as every test's do."""
    folder = tmp_path_factory.mktemp("bench")
    output = folder / "out" / "benchmarks.json"
    args = ["--profile", "smoke", "--output", str(output), "--model", str(trained_folder)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMOTION_RUNS_DIR", str(folder / "runs"))
        returned = bench_run.main([*args, "--data-dir", str(real_data_dir)])
    return returned, output


def test_smoke_bench_writes_complete_json(
    smoke_bench: tuple[dict, Path], trained_folder: Path, real_data_dir: Path
) -> None:
    _, output = smoke_bench
    written = json.loads(output.read_text(), parse_constant=refuse_non_finite)  # strict JSON, as browsers read it
    assert written["profile"] == "smoke"
    assert written["machine"]["cpu_count"] >= 1 and written["machine"]["torch_threads"] >= 1
    assert {"torch", "transformers", "onnxruntime"} <= set(written["machine"]["libraries"])
    assert written["settings"]["train_batch_size"] == 16

    (training,) = written["training"].values()
    for key in ("seed_samples_per_second", "project_samples_per_second", "speedup_vs_seed"):
        assert training[key] > 0, key
    recipes = training["recipes"]
    assert recipes["seed"]["mean_padded_tokens"] == resolve_profile("smoke").max_length
    assert recipes["project"]["mean_padded_tokens"] < recipes["seed"]["mean_padded_tokens"]
    padding = written["epoch_mean_padded_tokens"]
    assert padding["unpadded"] <= padding["dynamic_padding_length_grouped"] < padding["dynamic_padding_random_order"]
    assert padding["dynamic_padding_random_order"] < padding["seed"] == resolve_profile("smoke").max_length
    assert all(row["steps"] > 0 and row["samples_per_second"] > 0 for row in recipes.values())

    inference = written["inference"]
    assert inference["trained"] and inference["model"] == str(trained_folder)
    assert set(inference["variants"]) == set(BACKENDS)
    assert set(inference["ablations"]) == set(bench_inference.ABLATIONS_INFERENCE)
    for name, row in {**inference["variants"], **inference["ablations"]}.items():
        assert row["description"] and 0 <= row["agreement_with_fp32"] <= 1, name
        for key in ("texts_per_second", "latency_ms_median", "speedup_vs_fp32", "build_seconds"):
            assert row[key] > 0, (name, key)
        assert 0 <= row["accuracy"] <= 1
        assert row["accuracy_drop_points"] == pytest.approx(100 * (inference["fp32_accuracy"] - row["accuracy"]))
    # each recommendation is the fastest back end that passes its own conditions, checked row by row here
    rows = inference["variants"]
    within = {
        name
        for name, row in rows.items()
        if row["changed_label_share"] <= inference["max_changed_label_share"] + 1e-9
        and abs(row["accuracy_drop_points"]) <= inference["max_accuracy_change_points"] + 1e-9
    }
    invariant = {name for name in within if rows[name]["batch_effect_max_probability"] <= BATCH_EFFECT_TOLERANCE}
    assert "fp32" in invariant  # float32 is its own reference, so there is always an answer
    for key, allowed in (("fastest_within_bounds", within), ("recommended_backend", invariant)):
        assert inference[key] in allowed, key
        assert rows[inference[key]]["texts_per_second"] == max(rows[name]["texts_per_second"] for name in allowed)
    # the bench scores the profile's validation texts, never the test split: its float32 accuracy is theirs
    smoke = resolve_profile("smoke")
    validation = subset_for_profile(load_emotion(real_data_dir), smoke.train_size, smoke.eval_size, smoke.seed)
    model = AutoModelForSequenceClassification.from_pretrained(trained_folder)
    tokenizer = AutoTokenizer.from_pretrained(trained_folder)
    logits = batched_logits(model, tokenizer, list(validation["validation"]["text"]), max_length=smoke.max_length)
    expected = (logits.argmax(axis=1) == np.asarray(validation["validation"]["label"])).mean()
    assert inference["fp32_accuracy"] == pytest.approx(expected)
    assert written["machine"]["cpu_model"] and written["machine"]["torch_cpu_capability"]
    # the default back end gives a text the same probabilities alone as in a batch; fp32 does too
    for name in ("fp32", FAST_BACKEND):
        assert 0 <= inference["variants"][name]["batch_effect_max_probability"] <= BATCH_EFFECT_TOLERANCE


def refuse_non_finite(constant: str) -> float:
    raise ValueError(f"benchmarks.json holds {constant}, which is not JSON")


TEXTS = ["i feel sad", "i am so happy today", "i am scared", "that made me angry", "i love you", "wow what a surprise"]
LABELS = [1, 1, 2, 3, 4, 5]
"""Float32 predicts text i as label i % 6: right on all but the first text, 5 of 6."""


def fake_runners(tokenizer) -> dict[str, LogitsFunction]:
    """Logits functions that recognise each text by its token ids and predict as stated:
    fp32 the `LABELS` but the first text as 0; int8 as fp32 but the second text wrong too (4 of 6); onnx as fp32 but
    the first text right (6 of 6); onnx-int8 as fp32 with class 5 raised by 0.5 for each other text in its call,
    which moves its probabilities by batch but changes no label (margin 4, at most 2.5 added)."""
    texts_by_ids = {sum(tokenizer(text)["input_ids"]): index for index, text in enumerate(TEXTS)}
    assert len(texts_by_ids) == len(TEXTS)  # every text recognisable

    def predicting(changes: dict[int, int], batch_shift: float = 0.0) -> LogitsFunction:
        def logits_of(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
            logits = np.zeros((len(input_ids), 6), dtype=np.float32)
            for row, (ids, mask) in enumerate(zip(input_ids, attention_mask)):
                index = texts_by_ids[int(ids[mask.astype(bool)].sum())]
                logits[row, changes.get(index, index % 6)] = 4.0
                logits[row, 5] += batch_shift * (len(input_ids) - 1)
            return logits

        return logits_of

    runners = {"fp32": predicting({}), "int8": predicting({1: 2}), "onnx": predicting({0: 1})}
    runners["onnx-int8"] = predicting({}, batch_shift=0.5)
    return runners | {name: runners["fp32"] for name in bench_inference.ABLATIONS_INFERENCE}


def test_inference_rows_measure_each_back_end_against_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accuracy drops, changed labels and the batch effect follow from what each back end predicted."""
    profile = resolve_profile("smoke")
    tokenizer = load_tokenizer(profile)
    runners = fake_runners(tokenizer)
    monkeypatch.setattr(bench_inference, "build_runners", lambda model, folder: (runners, dict.fromkeys(runners, 0.5)))
    monkeypatch.setattr(bench_inference, "PAUSE_SECONDS", 0.0)
    result = bench_inference.bench_inference(None, tokenizer, TEXTS, LABELS, 64, SETTINGS["smoke"], trained=True)
    variants = result["variants"]
    assert result["fp32_accuracy"] == pytest.approx(5 / 6)
    expected = {  # name: (accuracy, drop in points, changed label share)
        "fp32": (5 / 6, 0.0, 0.0),
        "int8": (4 / 6, 100 / 6, 1 / 6),
        "onnx": (1.0, -100 / 6, 1 / 6),
        "onnx-int8": (5 / 6, 0.0, 0.0),
    }
    for name, (accuracy, drop, changed) in expected.items():
        row = variants[name]
        assert (row["accuracy"], row["accuracy_drop_points"]) == pytest.approx((accuracy, drop)), name
        assert (row["changed_label_share"], row["agreement_with_fp32"]) == pytest.approx((changed, 1 - changed))
    # all six texts share one call (batches of 64); alone, each is a call of its own
    base = np.zeros((len(TEXTS), 6))
    base[np.arange(len(TEXTS)), np.arange(len(TEXTS)) % 6] = 4.0
    shifted = base.copy()
    shifted[:, 5] += 0.5 * (len(TEXTS) - 1)
    effect = np.abs(softmax(shifted) - softmax(base)).max()
    assert variants["onnx-int8"]["batch_effect_max_probability"] == pytest.approx(effect, rel=1e-5)
    assert effect > BATCH_EFFECT_TOLERANCE
    assert all(variants[name]["batch_effect_max_probability"] == 0 for name in ("fp32", "int8", "onnx"))
    # int8 and onnx change a label in six: outside the bounds; only fp32 is also batch-invariant
    assert result["recommended_backend"] == "fp32"
    faster = max(("fp32", "onnx-int8"), key=lambda name: variants[name]["texts_per_second"])  # timed, so either
    assert result["fastest_within_bounds"] == faster


def variant(texts_per_second: float, changed: float, drop: float, batch_effect: float = 0.0) -> dict[str, float]:
    return {
        "texts_per_second": texts_per_second,
        "changed_label_share": changed,
        "accuracy_drop_points": drop,
        "batch_effect_max_probability": batch_effect,
    }


def test_recommendation_is_the_fastest_within_both_bounds() -> None:
    variants = {
        "fp32": variant(100, 0.0, 0.0),
        "int8": variant(400, 0.006, 0.1),  # changes too many labels
        "onnx": variant(200, 0.0, 0.0),
        "onnx-int8": variant(300, 0.005, -0.3, batch_effect=5e-4),  # on both bounds: within them
    }
    assert bench_inference.recommend(variants, batch_invariant=False) == "onnx-int8"
    assert bench_inference.recommend(variants, batch_invariant=True) == "onnx"  # onnx-int8's batch effect is too large
    variants["onnx-int8"] = variant(300, 0.0, 0.31)  # accuracy fell by more than 0.3 points
    assert bench_inference.recommend(variants, batch_invariant=False) == "onnx"
    variants["onnx"] = variant(200, 0.0, -0.31)  # rose by more: out of bounds as well
    assert bench_inference.recommend(variants, batch_invariant=False) == "fp32"


def test_parallel_section_ran_the_same_experiments_both_ways(smoke_bench: tuple[dict, Path]) -> None:
    """Experiments per hour follow from the section's own counts and seconds, as read back from the file."""
    parallel = json.loads(smoke_bench[1].read_text())["parallel"]
    if default_workers() <= 1:
        assert "skipped" in parallel
        return
    arrangements = parallel["arrangements"]
    assert set(arrangements) == set(bench_parallel.ARRANGEMENTS) and parallel["workers"] == default_workers()
    assert parallel["order"] == bench_parallel.arrangement_order(parallel["rounds"])
    assert parallel["experiments_per_round"] == 2 * parallel["workers"]
    assert parallel["precision"] == resolve_mixed_precision(resolve_profile("smoke").mixed_precision, "cpu")
    one, many = arrangements["one_at_a_time"], arrangements["parallel"]
    assert one["experiments"] == many["experiments"] == parallel["rounds"] * parallel["experiments_per_round"]
    assert (one["workers"], many["workers"], many["threads_per_experiment"]) == (1, parallel["workers"], 1)
    for row in arrangements.values():
        assert len(row["round_seconds"]) == parallel["rounds"]
        assert row["wall_seconds"] == pytest.approx(sum(row["round_seconds"]))
        assert row["experiments_per_hour"] == pytest.approx(row["experiments"] / row["wall_seconds"] * 3600)
        assert 0 < row["mean_train_seconds"] < row["wall_seconds"] and 0 <= row["mean_validation_accuracy"] <= 1
    assert parallel["speedup"] == pytest.approx(many["experiments_per_hour"] / one["experiments_per_hour"])


def test_arrangements_alternate_so_neither_always_goes_first() -> None:
    a, b = bench_parallel.ARRANGEMENTS
    assert bench_parallel.arrangement_order(1) == [a, b]
    assert bench_parallel.arrangement_order(2) == [a, b, b, a]


@pytest.mark.parametrize(
    ("speedup", "float32_accuracy", "bf16_accuracy", "adopted"),
    [
        (1.4, 0.860, 0.870, True),
        (1.4, 0.860, 0.860, True),  # not lower is enough
        (1.4, 0.870, 0.860, False),  # faster but less accurate
        (0.9, 0.860, 0.870, False),  # more accurate but slower
        (1.0, 0.860, 0.870, False),  # no faster
    ],
)
def test_bf16_is_adopted_only_if_it_wins_on_both(
    speedup: float, float32_accuracy: float, bf16_accuracy: float, adopted: bool
) -> None:
    assert bench_precision.adopt_bf16(speedup, float32_accuracy, bf16_accuracy) is adopted


def test_precision_section_follows_its_rule(smoke_bench: tuple[dict, Path]) -> None:
    written = json.loads(smoke_bench[1].read_text())
    precision = written["precision"]
    (recipes,) = (model["recipes"] for model in written["training"].values())
    bf16_names = {recipe.name for recipe in BF16_RECIPES}
    if not cpu_has_native_bf16():
        assert precision["supported"] is False and precision["reason"]
        assert not bf16_names & set(recipes)
        return
    assert bf16_names <= set(recipes)  # the bf16 step recipes ran beside float32's
    steps = precision["step_speedup"]
    assert steps["all_threads"] == pytest.approx(
        recipes["project_bf16"]["samples_per_second"] / recipes["project"]["samples_per_second"]
    )
    sides = {name: precision[name] for name in PRECISIONS}
    for side in sides.values():
        assert [row["seed"] for row in side["runs"]] == precision["runs"]["seeds"]
        for key in ("accuracy", "f1_weighted", "train_seconds"):
            assert side[f"mean_{key}"] == pytest.approx(np.mean([row[key] for row in side["runs"]]))
    float32, bf16 = sides["float32"], sides["bf16"]
    assert precision["speedup"] == pytest.approx(float32["mean_train_seconds"] / bf16["mean_train_seconds"])
    assert precision["accuracy_change_points"] == pytest.approx(
        100 * (bf16["mean_accuracy"] - float32["mean_accuracy"])
    )
    assert precision["adopt_bf16"] is bench_precision.adopt_bf16(
        precision["speedup"], float32["mean_accuracy"], bf16["mean_accuracy"]
    )


def test_bf16_recipes_only_where_the_cpu_has_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_training, "cpu_has_native_bf16", lambda: True)
    assert bench_training.bf16_recipes() == BF16_RECIPES and all(recipe.bf16 for recipe in BF16_RECIPES)
    monkeypatch.setattr(bench_training, "cpu_has_native_bf16", lambda: False)
    assert bench_training.bf16_recipes() == ()


def test_report_shows_the_new_sections_and_skips_them_when_absent(smoke_bench: tuple[dict, Path], tmp_path: Path):
    written = json.loads(smoke_bench[1].read_text())

    def speed_section(measured: dict) -> str:
        facts = speed_facts({**measured, "path": str(smoke_bench[1])})
        template = environment().get_template("sections/speed.md.j2")
        context = {"speed": facts, "precision_names": PRECISION_NAMES, "figure": lambda name, caption: ""}
        return reflow(template.render(context))

    text = speed_section(written)
    parallel = written["parallel"]
    if "arrangements" in parallel:
        for row in parallel["arrangements"].values():
            assert f"| {row['experiments_per_hour']:.0f} |" in text
        assert f"{parallel['speedup']:.2f}× the experiments per hour" in text
    if written["precision"]["supported"]:
        verdict = "wins" if written["precision"]["adopt_bf16"] else "does not win"
        assert f"bf16 {verdict} on both counts" in text and f"{written['precision']['speedup']:.2f}× as fast" in text
        assert f"With {len(written['precision']['runs']['seeds'])} seeds per precision" in text
    older = {key: value for key, value in written.items() if key not in ("parallel", "precision")}
    text = speed_section(older)  # a benchmarks.json from before these sections: left out, no error
    assert "Speed on a CPU" in text and "per hour" not in text and "bf16 autocast against" not in text


def test_untrained_model_has_no_accuracy_and_no_recommendation(real_data_dir: Path) -> None:
    profile = resolve_profile("smoke")
    tokenizer = load_tokenizer(profile)
    assert bench_inference.default_model_folder("smoke") is None  # the scratch runs folder holds no model
    model, same_tokenizer = bench_inference.inference_model(profile, tokenizer, None)
    assert same_tokenizer is tokenizer
    texts = [f"i feel {word} today" for word in ("happy", "sad", "scared", "angry")]
    result = bench_inference.bench_inference(
        model, tokenizer, texts, [1, 0, 4, 3], 64, SETTINGS["smoke"], trained=False
    )
    assert result["fp32_accuracy"] == "untrained" and result["recommended_backend"] is None
    assert all(
        row["accuracy"] == "untrained" and row["accuracy_drop_points"] is None for row in result["variants"].values()
    )


def test_default_model_folder_prefers_the_tuned_run(scratch_runs: Path) -> None:
    for run in ("finetune", "tuned"):
        folder = scratch_runs / "smoke" / run / "model"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        assert bench_inference.default_model_folder("smoke") == folder


def test_length_grouped_epoch_covers_every_text_once_with_less_padding() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=500).tolist()
    grouped = bench_training.epoch_batches(lengths, 16, grouped=True, seed=0)
    shuffled = bench_training.epoch_batches(lengths, 16, grouped=False, seed=0)
    for batches in (grouped, shuffled):
        assert sorted(i for batch in batches for i in batch) == list(range(500))

    def mean_padded(batches: list[list[int]]) -> float:
        return float(np.mean([max(lengths[i] for i in batch) for batch in batches]))

    assert mean_padded(grouped) < 0.8 * mean_padded(shuffled)
    picked = bench_training.representative_batches(grouped, lengths, 10, seed=0)
    assert len({tuple(batch) for batch in picked}) == 10 and all(batch in grouped for batch in picked)
    assert mean_padded(picked) == pytest.approx(mean_padded(grouped), rel=0.05)  # a fair sample of the epoch


def test_project_recipe_is_what_the_cpu_profile_trains_with() -> None:
    assert PROJECT.attention == resolve_profile("cpu").attn_implementation == "eager"
    assert SEED.attention == "sdpa" and PROJECT.grouped and not SEED.pad_to_longest


def test_rotation_puts_each_item_first_once() -> None:
    items = ("a", "b", "c")
    firsts = [bench_training.rotated(items, shift)[0] for shift in range(3)]
    assert sorted(firsts) == list(items) and all(
        sorted(bench_training.rotated(items, s)) == list(items) for s in range(5)
    )


def test_onnx_float32_matches_pytorch(fp32_and_texts) -> None:
    model, tokenizer, texts = fp32_and_texts
    reference = logits_on("fp32", model, tokenizer, texts)
    onnx = logits_on("onnx", model, tokenizer, texts)
    np.testing.assert_allclose(onnx, reference, atol=1e-4)
    assert (onnx.argmax(axis=1) == reference.argmax(axis=1)).all()


@pytest.mark.parametrize("backend", ["int8", "onnx-int8"])
def test_int8_back_ends_keep_the_labels(fp32_and_texts, backend: str) -> None:
    """int8 weights perturb the logits a little; on confident predictions at most 1 in 20 labels may change."""
    model, tokenizer, texts = fp32_and_texts
    reference = logits_on("fp32", model, tokenizer, texts)
    quantised = logits_on(backend, model, tokenizer, texts)
    assert (quantised.argmax(axis=1) == reference.argmax(axis=1)).mean() >= 0.95
    assert not np.allclose(quantised, reference, atol=1e-6)  # it really is another computation


def test_fast_backend_has_the_same_api(trained_folder: Path, easy_data: DatasetDict, tmp_path: Path) -> None:
    """The fast back end names the labels float32 names, and a text's answer does not depend on its batch."""
    folder = tmp_path / "model"
    shutil.copytree(trained_folder, folder)
    texts = list(easy_data["test"]["text"][:12])
    fast = EmotionClassifier.from_folder(folder, backend=FAST_BACKEND)
    plain = EmotionClassifier.from_folder(folder, backend="fp32")
    assert fast.backend == FAST_BACKEND and plain.backend == "fp32"
    batched = fast.predict_proba(texts, batch_size=5)
    np.testing.assert_allclose(batched, np.concatenate([fast.predict_proba(text) for text in texts]), atol=1e-6)
    assert (batched.argmax(axis=1) == plain.predict_proba(texts).argmax(axis=1)).all()
    assert [row[0]["label"] for row in fast.predict(texts)] == [row[0]["label"] for row in plain.predict(texts)]
    with pytest.raises(ValueError, match="unknown backend"):
        EmotionClassifier.from_folder(folder, backend="gpu")


def test_onnx_graphs_are_cached_in_the_model_folder_until_the_weights_change(trained_folder: Path, tmp_path: Path):
    folder = tmp_path / "model"
    shutil.copytree(trained_folder, folder)
    EmotionClassifier.from_folder(folder)
    (graph,) = (folder / ONNX_CACHE).glob("*.onnx")
    built = graph.stat().st_mtime_ns
    EmotionClassifier.from_folder(folder)
    assert list((folder / ONNX_CACHE).glob("*.onnx")) == [graph] and graph.stat().st_mtime_ns == built

    model = AutoModelForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():
        model.classifier.bias[5] += 100.0  # every text is now "surprise"
    model.save_pretrained(folder)
    retrained = EmotionClassifier.from_folder(folder)
    (rebuilt,) = (folder / ONNX_CACHE).glob("*.onnx")  # the stale graph is gone
    assert rebuilt != graph
    assert [row[0]["label"] for row in retrained.predict(["i feel great", "i am so sad"])] == ["surprise"] * 2


def tiny(kind: str):
    """A randomly initialised two-layer classifier of one architecture: no download."""
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        DistilBertConfig,
        DistilBertForSequenceClassification,
        RobertaConfig,
        RobertaForSequenceClassification,
    )

    torch.manual_seed(0)
    sizes = {"vocab_size": 120, "num_labels": 6}
    if kind == "distilbert":
        config = DistilBertConfig(n_layers=2, dim=32, hidden_dim=64, n_heads=4, **sizes)
        return DistilBertForSequenceClassification(config).eval()
    bert_sizes = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}
    if kind == "bert":
        return BertForSequenceClassification(BertConfig(**bert_sizes, **sizes)).eval()
    return RobertaForSequenceClassification(RobertaConfig(**bert_sizes, **sizes)).eval()


def padded_batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    input_ids = rng.integers(5, 120, size=(5, 11)).astype(np.int64)
    attention_mask = np.ones_like(input_ids)
    for row, length in enumerate((11, 9, 6, 3, 11)):
        attention_mask[row, length:] = 0
    return input_ids, attention_mask


@pytest.mark.parametrize("kind", ["bert", "distilbert", "roberta"])
def test_cls_only_graph_gives_the_full_models_logits(kind: str, tmp_path: Path) -> None:
    """BERT and DistilBERT get the [CLS]-only last layer; another architecture gets the whole model; all exact."""
    model = tiny(kind)
    input_ids, attention_mask = padded_batch()
    reference = torch_backend(model)(input_ids, attention_mask)
    graph = export_onnx(model, tmp_path / "model.onnx")
    logits = onnx_backend(graph, workers=1)(input_ids, attention_mask)
    np.testing.assert_allclose(logits, reference, atol=1e-5)
    full = export_onnx(model, tmp_path / "full.onnx", cls_only_last_layer=False)
    assert (graph.stat().st_size < full.stat().st_size) == (kind != "roberta")  # fewer nodes, same weights


def test_workers_share_a_batch_without_changing_it(tmp_path: Path) -> None:
    model = tiny("bert")
    input_ids, attention_mask = padded_batch()
    fp32 = tmp_path / "fp32.onnx"
    build_onnx(model, fp32, int8=False)
    np.testing.assert_allclose(
        onnx_backend(fp32, workers=3)(input_ids, attention_mask),
        onnx_backend(fp32, workers=1)(input_ids, attention_mask),
        atol=1e-6,
    )
    int8 = build_onnx(model, tmp_path / "int8.onnx", int8=True)
    alone = onnx_backend(int8, workers=3, one_text_per_call=True)
    together = alone(input_ids, attention_mask)
    for row in range(len(input_ids)):
        length = attention_mask[row].sum()
        single = alone(input_ids[row : row + 1, :length], attention_mask[row : row + 1, :length])
        np.testing.assert_array_equal(single[0], together[row])
    with pytest.raises(ValueError, match="no attention_mask input"):
        onnx_backend(int8, one_text_per_call=False)


def test_the_speed_section_says_whose_model_it_measured(smoke_bench: tuple[dict, Path], trained_folder: Path) -> None:
    written = json.loads(smoke_bench[1].read_text())
    assert written["inference"]["model_sha256"] == weights_sha256(trained_folder)
    template = environment().get_template("sections/speed.md.j2")

    def section(bench: dict, served: dict) -> str:
        facts = speed_facts({**bench, "path": str(smoke_bench[1])}, served)
        context = {"speed": facts, "precision_names": PRECISION_NAMES, "figure": lambda name, caption: ""}
        return reflow(template.render(context))

    ours = {"name": "finetune_tuned", "sha256": weights_sha256(trained_folder)}
    assert "Inference with the served model (`finetune_tuned`;" in section(written, ours)
    other = section(written, {"name": "lp-ft", "sha256": "0" * 64})
    assert "That is not the model this report serves (`lp-ft`), so the figures are that model's" in other
    assert f"with `{trained_folder}`" in other
    older = {**written, "inference": {k: v for k, v in written["inference"].items() if k != "model_sha256"}}
    assert "predates its record of which weights it measured" in section(older, ours)
