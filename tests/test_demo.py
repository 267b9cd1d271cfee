"""The demo page: the functions behind it, then the page itself in headless Chromium, timed."""

from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect, sync_playwright

from helpers import LABEL_NAMES
from helpers.paths import run_dir
from helpers.reporting.modelcard import write_model_card
from helpers.serving.backends import save_backend_decision
from helpers.serving.cli import main as predict_main
from helpers.serving.demo import (
    MAX_EXPLAINED_WORDS,
    MODEL_ENV,
    DemoModel,
    NoModelError,
    about_markdown,
    main,
    newest_model,
    read_model_card,
    resolve_model,
)
from helpers.serving.explain import SEED_REPORT_SENTENCES
from helpers.serving.served import SERVED_RECORD, record_served_model, served_model_folder

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "runs" / "screenshots"
ROUND_TRIP = REPO / "runs" / "demo_round_trip.json"
HAPPY, SCARED = "i feel so happy about it", "i am terrified about it"


@pytest.fixture(scope="module")
def model_dir(trained_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny trained model: the demo writes its ONNX graphs into the folder it serves."""
    return Path(shutil.copytree(trained_model_dir, tmp_path_factory.mktemp("demo") / "model"))


@pytest.fixture(scope="module")
def demo(model_dir: Path) -> DemoModel:
    return DemoModel.load(model_dir)


def write(path: Path, content: str | bytes) -> str:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


def make_run(root: Path, profile: str, mtime: float) -> Path:
    folder = root / profile / "tuned" / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    os.utime(folder / "config.json", (mtime, mtime))
    return folder


def test_newest_run_is_found_by_its_config(scratch_runs: Path) -> None:
    assert newest_model() is None
    old, new = make_run(scratch_runs, "cpu", 1_000), make_run(scratch_runs, "smoke", 2_000)
    (scratch_runs / "gpu" / "tuned" / "model").mkdir(parents=True)  # no config.json: not a model
    os.utime(old, (3_000, 3_000))  # a load added onnx-cache/ to the old folder: still older
    assert newest_model() == new
    assert resolve_model() == new


def test_the_served_model_comes_before_the_newest_tuned_one(scratch_runs: Path, tmp_path: Path) -> None:
    served = make_run(scratch_runs, "cpu", 1_000).parent.parent / "tuned-seed43" / "model"
    served.mkdir(parents=True)
    (served / "config.json").write_text("{}")
    newer_tuned = make_run(scratch_runs, "smoke", 2_000)
    assert newest_model() == newer_tuned  # no run was evaluated yet
    record = record_served_model(run_dir("cpu", "evaluation"), served, "finetune_tuned_seed43", "ensemble_tuned")
    assert json.loads(record.read_text())["folder"] == "tuned-seed43/model"
    assert newest_model() == served and resolve_model() == served
    assert resolve_model(scratch_runs / "cpu") == served  # a run folder stands for the model it serves
    assert resolve_model(newer_tuned) == newer_tuned  # a model folder stands for itself
    copied = tmp_path / "copied"
    shutil.copytree(scratch_runs / "cpu", copied)
    assert served_model_folder(copied) == copied / "tuned-seed43" / "model"  # the record survives a move
    robust = scratch_runs / "cpu" / "robust" / "augment-0.5" / "model"
    robust.mkdir(parents=True)
    (robust / "config.json").write_text("{}")
    record_served_model(run_dir("cpu", "robustness"), robust, "augment-0.5", "augment-0.5")
    assert resolve_model(scratch_runs / "cpu") == robust  # notebook 08's model for use comes before 05's choice
    (scratch_runs / "cpu" / "robustness" / SERVED_RECORD).write_text("{not json")
    with pytest.raises(ValueError, match="served_model.json"):
        newest_model()


def test_model_choice_order(scratch_runs: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    make_run(scratch_runs, "cpu", 1_000)
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "from-env"))
    assert resolve_model() == tmp_path / "from-env"
    assert resolve_model(tmp_path / "given") == tmp_path / "given"


def test_no_model_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    with pytest.raises(NoModelError):
        resolve_model()
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "make report PROFILE=cpu" in err and "MODEL=" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_model_folder_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "no such model folder" in capsys.readouterr().err


def test_single_text_gives_six_probabilities(demo: DemoModel) -> None:
    scores, notice = demo.classify(HAPPY)
    assert list(scores) == list(LABEL_NAMES) and abs(sum(scores.values()) - 1) < 1e-5
    assert max(scores, key=scores.get) == "joy" and notice == ""
    assert max(demo.classify(SCARED)[0].items(), key=lambda item: item[1])[0] == "fear"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_a_message(demo: DemoModel, text: str) -> None:
    assert demo.classify(text) == (None, "Type a sentence first: the text is empty.")
    assert demo.explain(text) == (None, "")


def test_long_text_is_truncated_with_a_notice(demo: DemoModel) -> None:
    scores, notice = demo.classify("i feel so happy about it " * 100)
    assert scores is not None and "longer than the model's limit of 128 tokens" in notice
    spans, caption = demo.explain("i feel so happy about it " * 100)
    assert len([span for span in spans if span[1] is not None]) == MAX_EXPLAINED_WORDS
    assert f"first {MAX_EXPLAINED_WORDS} words" in caption


def test_explanation_highlights_each_word(demo: DemoModel) -> None:
    spans, caption = demo.explain(HAPPY)
    words = spans[::2]
    assert [word for word, _ in words] == HAPPY.split() and all(gap == (" ", None) for gap in spans[1::2])
    scores = [score for _, score in words]
    assert max(map(abs, scores)) == 1.0
    assert dict(words)["happy"] == 1.0  # the cue word carries the prediction
    assert caption.startswith("Why **joy**") and "**happy**" in caption


def test_csv_gives_a_table_and_the_same_file_as_the_cli(demo: DemoModel, model_dir: Path, tmp_path: Path) -> None:
    source = write(tmp_path / "tweets.csv", f"id,tweet\n1,{HAPPY}\n2,{SCARED}\n3,i feel sad about it\n")
    assert demo.columns(source) == (["id", "tweet"], "id", "tweets.csv: 2 column(s); choose the one holding the texts.")
    table, download, message = demo.classify_file(source, "tweet")
    assert list(table.columns) == ["id", "tweet", "emotion", "score"] and len(table) == 3
    assert list(table["emotion"][:2]) == ["joy", "fear"] and message == "Classified 3 row(s) of column `tweet`."
    cli_output = tmp_path / "cli.csv"
    assert predict_main([str(model_dir), "--csv", source, "--column", "tweet", "--output", str(cli_output)]) == 0
    assert Path(download).read_text() == cli_output.read_text()


def test_csv_progress_goes_batch_by_batch(demo: DemoModel, tmp_path: Path) -> None:
    source = write(tmp_path / "many.csv", "text\n" + f"{HAPPY}\n" * 130)
    seen: list[int] = []

    def track(steps):
        for step in steps:
            seen.append(step)
            yield step

    table, _, _ = demo.classify_file(source, "text", track)
    assert seen == [0, 64, 128] and len(table) == 130


@pytest.mark.parametrize(
    ("content", "column", "fragment"),
    [
        (b"", "text", "empty.csv is empty"),
        ("id,text\n1,caf\u00e9\n".encode("latin-1"), "text", "not UTF-8"),
        ("id,tweet\n1,fine\n", "text", "no column 'text'"),
        ("id,text\n", "text", "no rows"),
        ("id,text\n1,fine\n2,\n", "text", "empty.csv:3: empty text"),
        ("id,emotion\n1,fine\n", "emotion", "would overwrite"),
    ],
)
def test_bad_csv_is_a_message(demo: DemoModel, tmp_path: Path, content: bytes | str, column: str, fragment: str):
    source = write(tmp_path / "empty.csv", content)
    table, download, message = demo.classify_file(source, column)
    assert table is None and download is None
    assert message.startswith("**Cannot classify this file:**") and fragment in message
    assert str(tmp_path) not in message  # named by its name, not by the upload's temporary path


def test_unreadable_upload_gets_no_column_choice(demo: DemoModel, tmp_path: Path) -> None:
    choices, chosen, message = demo.columns(write(tmp_path / "latin.csv", "id,text\n1,caf\u00e9\n".encode("latin-1")))
    assert (choices, chosen) == ([], None) and "latin.csv:2: not UTF-8" in message
    assert demo.columns(write(tmp_path / "blank.csv", b""))[2] == "**Cannot read this file:** blank.csv is empty"


def test_limits_are_checked(demo: DemoModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write(tmp_path / "big.csv", "text\n" + f"{HAPPY}\n" * 5)
    monkeypatch.setattr("helpers.serving.demo.MAX_ROWS", 4)
    assert "has 5 rows; the demo takes up to 4" in demo.classify_file(source, "text")[2]
    monkeypatch.setattr("helpers.serving.demo.MAX_UPLOAD_BYTES", 100)
    for message in (demo.classify_file(source, "text")[2], demo.columns(source)[2]):
        assert "big.csv is 0.0 MB; the demo takes files up to 0 MB" in message


def test_missing_upload_or_column(demo: DemoModel, tmp_path: Path) -> None:
    assert demo.classify_file(None, "text")[2] == "**Upload a CSV file first.**"
    assert demo.classify_file(write(tmp_path / "a.csv", "text\nhi\n"), None)[2].startswith("**Choose the column")
    unreadable = write(tmp_path / "b.csv", "text\ncaf\u00e9\n".encode("latin-1"))
    assert "b.csv:2: not UTF-8" in demo.classify_file(unreadable, None)[2]


def test_concurrent_visitors_get_their_own_answers(demo: DemoModel) -> None:
    texts = [HAPPY, SCARED, "i feel sad about it", "today i am furious about it"] * 4
    expected = [demo.classify(text) for text in texts]
    answers: list[tuple | None] = [None] * len(texts)

    def visit(index: int) -> None:
        answers[index] = demo.classify(texts[index])

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == expected


def test_about_reads_the_model_card_and_backend(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    folder = Path(shutil.copytree(model_dir, tmp_path / "model"))
    assert read_model_card(folder) is None
    assert "no model card" in about_markdown(folder, "onnx") and "no validation-split decision" in about_markdown(
        folder, "onnx"
    )
    scores = {"accuracy": 0.9245, "f1_weighted": 0.9249, "f1_macro": 0.8831}
    test = scores | {f"{kind}_{name}": 0.9 for kind in ("precision", "recall", "f1") for name in LABEL_NAMES}
    decision = {
        "backend": "onnx-int8",
        "candidate": "onnx-int8",
        "split": "validation",
        "agreement": {
            "texts": 2000,
            "changed_labels": 3,
            "changed_label_share": 0.0015,
            "accuracy_change_points": 0.05,
        },
        "bounds": {"max_changed_label_share": 0.005, "max_accuracy_change_points": 0.3},
    }
    counts = dict(zip(LABEL_NAMES, (4666, 5362, 1304, 2159, 1937, 572)))
    write_model_card(folder, "base/model", {"lr": 1e-4}, test, scores, {"torch": "2"}, counts, scores, decision)
    save_backend_decision(folder, decision)
    card = read_model_card(folder)
    assert card.metrics == {"Accuracy": 0.9245, "F1 (weighted)": 0.9249, "F1 (macro)": 0.8831}
    assert card.dataset == "dair-ai/emotion, test split"
    assert card.limitations.startswith("- One label per text") and "## " not in card.limitations
    about = about_markdown(folder, "onnx-int8")
    assert "| Accuracy | 0.9245 |" in about and "label noise" in about
    assert "joy and sadness are 63% of the training texts, surprise 3.6%" in card.limitations
    assert "`onnx-int8`, chosen on the validation split" in about and "changed 3 of 2000" in about
    assert "served only within 0.5% and 0.3 points" in about


def test_space_is_deployable_as_it_is() -> None:
    """The Space's header names Gradio and app.py; its requirements are the project's, with the same versions."""
    header = yaml.safe_load((REPO / "space" / "README.md").read_text(encoding="utf-8").split("---\n")[1])
    assert header["sdk"] == "gradio" and (REPO / "space" / header["app_file"]).is_file()
    import gradio

    assert header["sdk_version"].split(".")[0] == gradio.__version__.split(".")[0]
    ours = {line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()}
    space = [line.strip() for line in (REPO / "space" / "requirements.txt").read_text().splitlines()]
    assert [line for line in space if line and line[0] not in "#-" and line not in ours] == []


# ---- the page in a real browser ----


@pytest.fixture
def server(model_dir: Path, tmp_path: Path, free_port: int, serving) -> Iterator[str]:
    """`python -m helpers.serving.demo MODEL` on a free localhost port, as `make demo MODEL=...` starts it."""
    env = os.environ | {"GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    log_path = tmp_path / "demo.log"
    url = f"http://127.0.0.1:{free_port}"
    command = [sys.executable, "-m", "helpers.serving.demo", str(model_dir), "--port", str(free_port)]
    with serving(command, env, url, log_path, timeout=90):
        yield url
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


def expected_label(demo: DemoModel, text: str) -> str:
    scores, _ = demo.classify(text)
    return max(scores, key=scores.get)


# From the click to the label showing the expected emotion, timed inside the page on every animation frame.
TIMED_CLICK = """([expected]) => new Promise((resolve) => {
    const start = performance.now();
    document.querySelector("#classify").click();
    const check = () => {
        const shown = document.querySelector('#emotion [data-testid="label-output-value"]');
        if (shown && shown.textContent.trim() === expected) resolve(performance.now() - start);
        else requestAnimationFrame(check);
    };
    check();
})"""


def test_demo_in_a_browser(chromium: Path, server: str, demo: DemoModel, tmp_path: Path) -> None:
    """Type, click an example, upload a CSV and download the result, refuse bad input, and time the round trip."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        try:
            page.goto(server)
            _single_text(page, demo)
            _round_trip(page, demo)
            _two_visitors(browser, server, demo)
            _file(page, demo, tmp_path)
            page.get_by_role("tab", name="About").click()
            expect(page.locator("#about")).to_contain_text("Inference back end: onnx")
        finally:  # also on failure: the page shows what went wrong
            page.screenshot(path=str(SCREENSHOTS / "demo_last.png"), full_page=True)
            browser.close()


def _single_text(page: Page, demo: DemoModel) -> None:
    label = page.locator('#emotion [data-testid="label-output-value"]')
    page.get_by_label("Text").fill(HAPPY)
    page.locator("#classify").click()
    expect(label).to_have_text("joy", timeout=20_000)
    expected, _ = demo.classify(HAPPY)
    for name in LABEL_NAMES:
        meter = page.locator(f'#emotion [data-testid="{name}-confidence-set"] meter')
        assert abs(float(meter.get_attribute("value")) - expected[name]) < 1e-4, name
    expect(page.locator("#why")).to_contain_text("happy")
    expect(page.locator("#why-caption")).to_contain_text("Why joy")
    page.screenshot(path=str(SCREENSHOTS / "demo_single_text.png"), full_page=True)

    example = SEED_REPORT_SENTENCES[3]
    page.get_by_text(example, exact=True).click()
    expect(page.get_by_label("Text")).to_have_value(example)
    expect(label).to_have_text(expected_label(demo, example))
    expect(page.locator("#why")).to_contain_text("tomorrow.")

    page.get_by_label("Text").fill("   ")
    page.locator("#classify").click()
    expect(page.locator("#text-notice")).to_have_text("Type a sentence first: the text is empty.")
    expect(label).to_have_count(0)


def _round_trip(page: Page, demo: DemoModel) -> None:
    """Median of ten clicks; the two texts alternate emotions, so every answer changes what the page shows."""
    assert expected_label(demo, HAPPY) != expected_label(demo, SCARED)
    times = []
    for index in range(10):
        text = (HAPPY, SCARED)[index % 2]
        page.get_by_label("Text").fill(text)
        times.append(page.evaluate(TIMED_CLICK, [expected_label(demo, text)]))
    median = statistics.median(times)
    ROUND_TRIP.write_text(json.dumps({"median_ms": median, "times_ms": times}, indent=2) + "\n")
    print(f"\ndemo round trip, click to label (ms): median {median:.0f}, min {min(times):.0f}, max {max(times):.0f}")
    assert median < 1000, times


def _two_visitors(browser, server: str, demo: DemoModel) -> None:
    """Two pages click at once; each gets the answer to its own text."""
    pages = [browser.new_page(), browser.new_page()]
    for page, text in zip(pages, (HAPPY, SCARED)):
        page.goto(server)
        page.get_by_label("Text").fill(text)
    for page in pages:
        page.locator("#classify").click()
    for page, text in zip(pages, (HAPPY, SCARED)):
        expect(page.locator('#emotion [data-testid="label-output-value"]')).to_have_text(expected_label(demo, text))
        page.close()


def _file(page: Page, demo: DemoModel, tmp_path: Path) -> None:
    page.get_by_role("tab", name="A file").click()
    upload = page.locator("#upload input[type=file]")
    notice = page.locator("#file-notice")

    upload.set_input_files(write(tmp_path / "latin.csv", "id,text\n1,caf\u00e9\n".encode("latin-1")))
    expect(notice).to_contain_text("Cannot read this file: latin.csv:2: not UTF-8")
    page.get_by_role("button", name="Classify the file").click()
    expect(notice).to_contain_text("Cannot read this file: latin.csv:2: not UTF-8")

    page.locator("#upload button[aria-label='Clear']").click()
    upload.set_input_files(write(tmp_path / "header.csv", "id,text\n"))
    expect(notice).to_contain_text("header.csv: 2 column(s)")
    page.get_by_role("button", name="Classify the file").click()
    expect(notice).to_contain_text("Cannot classify this file: header.csv: the file has a header but no rows")

    page.locator("#upload button[aria-label='Clear']").click()
    rows = [(str(i), (HAPPY, SCARED, "i feel sad about it")[i % 3]) for i in range(150)]
    upload.set_input_files(write(tmp_path / "tweets.csv", "id,tweet\n" + "".join(f"{i},{t}\n" for i, t in rows)))
    expect(notice).to_contain_text("tweets.csv: 2 column(s)")
    page.locator("#column input").click()
    page.get_by_role("option", name="tweet").click()
    page.get_by_role("button", name="Classify the file").click()
    expect(notice).to_have_text("Classified 150 row(s) of column tweet.", timeout=30_000)
    expect(page.locator("#table")).to_contain_text(expected_label(demo, HAPPY))
    with page.expect_download() as download:
        page.locator("#download a").first.click()
    saved = tmp_path / "downloaded.csv"
    download.value.save_as(saved)
    with saved.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == ["id", "tweet", "emotion", "score"] and len(written) == len(rows)
    assert [row["emotion"] for row in written[:2]] == [expected_label(demo, HAPPY), expected_label(demo, SCARED)]
    page.screenshot(path=str(SCREENSHOTS / "demo_file.png"), full_page=True)
