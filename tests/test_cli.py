"""emotion-predict on input as people and their tools write it, refusing bad input before the model loads."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from transformers import BertForSequenceClassification

from helpers.models.building import build_model, load_tokenizer
from helpers.profiles import resolve_profile
from helpers.serving.cli import UsageError, main, output_columns, read_column

ROWS = [("1", "i feel so alone tonight"), ("2", "what a wonderful day"), ("3", "i am scared of the dark")]


def save_model(folder: Path, **config_changes) -> Path:
    """The smoke profile's untrained model saved as a model folder, its config changed by `config_changes`."""
    profile = resolve_profile("smoke")
    tokenizer = load_tokenizer(profile)
    model = build_model(profile, len(tokenizer))
    if config_changes:
        model.config.update(config_changes)
        model = BertForSequenceClassification(model.config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def smoke_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(tmp_path_factory.mktemp("smoke") / "model")


def predict_csv(model: Path, source: Path, *extra: str) -> tuple[int, Path]:
    target = source.with_name("out.csv")
    return main([str(model), "--csv", str(source), "--output", str(target), "--backend", "fp32", *extra]), target


def test_smoke_model_is_announced_as_random(smoke_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(smoke_model), "i feel fine", "--backend", "fp32"]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "randomly initialised" in warnings[0] and "meaningless" in warnings[0]
    assert captured.out.count("\t") == 1  # the prediction is still printed, on stdout


def test_other_model_is_not_announced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = save_model(tmp_path / "model", num_hidden_layers=1)
    assert main([str(model), "i feel fine", "--backend", "fp32"]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_text_is_refused_before_the_model_loads(tmp_path: Path, capsys, text: str) -> None:
    assert main([str(tmp_path / "no-model"), text]) == 2  # the folder's error would come from loading
    err = capsys.readouterr().err
    assert "the text to classify is empty" in err and "model folder" not in err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("id,text\n1,fine\n2,\n", "in.csv:3: empty text in column 'text'"),
        ('id,text\n1,"two\nlines"\n2,"  "\n', "in.csv:4: empty text"),
        ('id,text\n1,"a\n\nthree-line text"\n2,fine,extra\n', "in.csv:5: expected 2 fields as in the header, got 3"),
        ('id,text\n1,"two\nlines"\n\n2,fine\n', "in.csv:4: blank line"),
        ('text\nfine\n""\n', "in.csv:3: empty text"),  # one column: an empty field is a row, not a blank line
        ("text\nfine\n   \nfine too\n", "in.csv:3: empty text"),
        ("id,text\n1,fine\n", ""),  # a good file: only the missing model is refused
    ],
)
def test_bad_csv_is_refused_by_line_before_the_model_loads(tmp_path: Path, capsys, content: str, fragment: str):
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    code, target = predict_csv(tmp_path / "no-model", source)
    err = capsys.readouterr().err
    assert code == 2 and not target.exists()
    assert fragment in err and ("no such model folder" in err) == (fragment == "")


def test_non_utf8_csv_names_file_line_and_encoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("id,text\n1,fine\n2,\u201ccaf\u00e9\u201d was lovely\n".encode("cp1252"))
    code, _ = predict_csv(tmp_path / "no-model", source)
    err = capsys.readouterr().err
    assert code == 2 and "in.csv:3:" in err and "not UTF-8" in err and "cp1252" in err
    assert "\u201ccaf\u00e9\u201d was lovely" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("bom", "newline", "tail"),
    [("\ufeff", "\n", ""), ("", "\r\n", ""), ("", "\n", "\n\n"), ("\ufeff", "\r\n", "\n\n")],
    ids=["bom", "crlf", "trailing-blank-lines", "all-three"],
)
def test_csv_as_excel_and_editors_write_it(smoke_model: Path, tmp_path: Path, bom: str, newline: str, tail: str):
    source = tmp_path / "in.csv"
    content = "id,text\n" + "".join(f"{id_},{text}\n" for id_, text in ROWS) + '4,"two\nlines"\n'
    source.write_bytes((bom + content + tail).replace("\n", newline).encode("utf-8"))
    code, target = predict_csv(smoke_model, source)
    assert code == 0
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["text"]) for r in rows] == [*ROWS, ("4", f"two{newline}lines")]
    assert all(r["emotion"] and r["score"] for r in rows)


@pytest.mark.parametrize(
    ("columns", "top_k", "clash"),
    [(["emotion"], 1, "emotion"), (["score"], 1, "score"), (["score_2", "emotion"], 2, "emotion, score_2")],
)
def test_output_columns_never_overwrite_input_columns(tmp_path: Path, capsys, columns, top_k: int, clash: str):
    source = tmp_path / "in.csv"
    source.write_text(",".join(["text", *columns]) + "\n" + ",".join(["fine", *columns]) + "\n", encoding="utf-8")
    code, target = predict_csv(tmp_path / "no-model", source, "--top-k", str(top_k))
    err = capsys.readouterr().err
    assert code == 2 and not target.exists()
    assert f"would overwrite its column(s) {clash};" in err


def test_input_columns_beyond_top_k_are_kept(smoke_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text,emotion_2\ni feel fine,mine\n", encoding="utf-8")
    code, target = predict_csv(smoke_model, source)
    assert code == 0
    with target.open(encoding="utf-8", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert row["emotion_2"] == "mine" and set(row) == {"text", "emotion_2", "emotion", "score"}


@pytest.mark.parametrize("size", [0, 100])
def test_truncated_weights_are_an_incomplete_model_folder(smoke_model: Path, tmp_path: Path, capsys, size: int):
    copy = shutil.copytree(smoke_model, tmp_path / "model")
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:size])
    assert main([str(copy), "i feel fine"]) == 2
    err = capsys.readouterr().err
    assert "incomplete model folder" in err and "model.safetensors" in err and "Traceback" not in err


def test_read_column_returns_header_rows_and_the_columns_texts_as_written(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('id,tweet,lang\n1,"  i feel fine, really ",en\n2,"two\nlines",en\n', encoding="utf-8")
    header, rows, texts = read_column(source, "tweet", output_columns(2))
    assert header == ["id", "tweet", "lang"]
    assert rows == [
        {"id": "1", "tweet": "  i feel fine, really ", "lang": "en"},
        {"id": "2", "tweet": "two\nlines", "lang": "en"},
    ]
    assert texts == ["  i feel fine, really ", "two\nlines"]  # only the check for emptiness strips


@pytest.mark.parametrize(
    ("content", "column", "fragments"),
    [
        ("id,tweet\n1,fine\n", "text", ["in.csv: no column 'text'", "columns are ['id', 'tweet']"]),
        ('{"text": "i feel fine"}\n', "text", ["in.csv: no column 'text'", '\'{"text": "i feel fine"}\'']),
        ("", "text", ["in.csv:1: no header row"]),
        ("\nid,text\n1,fine\n", "text", ["in.csv:1: no header row"]),
        ("id,text\n", "text", ["in.csv: the file has a header but no rows"]),
        ("id,text\n1,fine\n2,\t\n", "text", ["in.csv:3: empty text in column 'text'"]),
        ("id,text\n1,fine\n\n2,fine\n", "text", ["in.csv:3: blank line"]),
        ("id,text\n1,fine,extra\n", "text", ["in.csv:2: expected 2 fields"]),
        ("text,score\nfine,1\n", "text", ["in.csv: the predictions would overwrite its column(s) score"]),
    ],
    ids=[
        "missing-column",
        "jsonl",
        "empty-file",
        "blank-first-line",
        "no-rows",
        "empty-text",
        "blank-line",
        "fields",
        "clash",
    ],
)
def test_read_column_names_file_line_and_column(tmp_path: Path, content: str, column: str, fragments: list[str]):
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as refused:
        read_column(source, column, output_columns(1))
    assert all(fragment in str(refused.value) for fragment in fragments), str(refused.value)
    assert str(source) in str(refused.value)


def test_read_column_refuses_a_missing_file_and_other_encodings(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nowhere.csv: no such CSV file"):
        read_column(tmp_path / "nowhere.csv", "text", [])
    (tmp_path / "folder").mkdir()
    with pytest.raises(UsageError, match="folder: no such CSV file"):
        read_column(tmp_path / "folder", "text", [])
    source = tmp_path / "latin.csv"
    source.write_bytes("text\nfine\nna\u00efve\n".encode("latin-1"))
    with pytest.raises(UsageError, match=r"latin.csv:3: not UTF-8 \(byte 0xef at column 3\)"):
        read_column(source, "text", [])


def test_read_column_trailing_blank_lines_and_byte_order_mark_are_fine(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("\ufefftext\r\nfine\r\n\r\n\r\n".encode())
    assert read_column(source, "text", []) == (["text"], [{"text": "fine"}], ["fine"])
