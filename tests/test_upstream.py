"""Notebooks stop early when an earlier notebook's outputs are missing, and Colab needs the address in one place."""

from __future__ import annotations

import os
import re
import sys
import types
import zipfile
from pathlib import Path

import nbformat
import pytest

from helpers import colab
from helpers.paths import UPSTREAM, require_upstream, runs_root

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NUMBERED = sorted(path.stem for path in NOTEBOOKS.glob("0*.ipynb"))


def write_outputs(profile: str, notebook: str) -> None:
    for files in UPSTREAM[notebook].values():
        for name in files:
            path = runs_root() / profile / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")


def test_notebook_with_its_inputs_goes_on() -> None:
    write_outputs("smoke", "06_error_analysis")
    require_upstream("smoke", "06_error_analysis")


def test_missing_inputs_name_the_notebook_to_run_first() -> None:
    write_outputs("smoke", "06_error_analysis")
    (runs_root() / "smoke" / "evaluation" / "test_predictions.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"Run notebooks/05_evaluation\.ipynb first") as error:
        require_upstream("smoke", "06_error_analysis")
    assert "evaluation/test_predictions.csv" in str(error.value) and "audit.json" not in str(error.value)


def test_nothing_run_yet_points_to_the_earliest_notebook() -> None:
    with pytest.raises(FileNotFoundError, match=r"notebooks/02_baselines\.ipynb first") as error:
        require_upstream("cpu", "05_evaluation")
    assert "'cpu'" in str(error.value) and "EMOTION_RUNS_DIR" in str(error.value)


def test_other_profiles_outputs_do_not_count() -> None:
    write_outputs("smoke", "04_hpo")
    with pytest.raises(FileNotFoundError, match="03_finetune"):
        require_upstream("gpu", "04_hpo")


def test_unknown_notebook_is_refused() -> None:
    with pytest.raises(ValueError, match="07_extra"):
        require_upstream("smoke", "07_extra")


def test_map_covers_the_notebooks_after_the_first_and_only_earlier_ones() -> None:
    assert sorted(UPSTREAM) == NUMBERED[1:]
    for notebook, producers in UPSTREAM.items():
        assert all(producer in NUMBERED and producer < notebook for producer in producers), notebook


@pytest.mark.parametrize("stem", NUMBERED[1:])
def test_check_follows_the_profile_cell(stem: str) -> None:
    """The check runs right after the profile is known, before any data is loaded or model trained."""
    cells = [c for c in nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4).cells if c.cell_type == "code"]
    profile_cell = next(i for i, c in enumerate(cells) if "cfg = resolve_profile(" in c.source)
    assert f'require_upstream(cfg.name, "{stem}")' in cells[profile_cell + 1].source


def test_badges_and_bootstrap_cells_match_the_repository_constant() -> None:
    assert colab.sync_notebooks(check=True) == [], "run `python -m helpers.colab` to rewrite them"
    for path in NOTEBOOKS.glob("*.ipynb"):
        text = path.read_text()
        assert set(re.findall(r"github(?:\.com)?/([\w.-]+/[\w.-]+?)(?:\.git|/blob)", text)) == {colab.REPOSITORY}


def test_a_changed_constant_shows_as_stale_notebooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(colab, "REPOSITORY", "someone/fork")
    assert sorted(colab.sync_notebooks(check=True)) == sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))


REQUIREMENTS = """# Runtime
torch>=2.4
transformers==5.23.0
papermill>=2.6  # runs the notebooks
# Tests and lint
pytest>=8
ruff>=0.8
"""


def test_runtime_requirements_leave_out_dev_tools_and_an_installed_torch() -> None:
    assert colab.runtime_requirements(REQUIREMENTS, "2.8.0+cu126") == ["transformers==5.23.0", "papermill>=2.6"]


def test_runtime_requirements_keep_torch_when_there_is_none() -> None:
    assert colab.runtime_requirements(REQUIREMENTS, None)[0] == "torch>=2.4"


def test_without_the_marker_every_requirement_is_for_the_runtime() -> None:
    runtime_only = REQUIREMENTS.split(colab.DEV_MARKER)[0]
    assert colab.runtime_requirements(runtime_only, None) == colab.runtime_requirements(REQUIREMENTS, None)


def test_the_project_requirements_split_where_the_runtime_ends() -> None:
    wanted = colab.runtime_requirements((colab.PROJECT_ROOT / "requirements.txt").read_text(), "2.13.0")
    names = {re.match(r"[\w.-]+", line).group().lower() for line in wanted}
    assert {"transformers", "papermill", "ipykernel"} <= names
    assert not names & {"torch", "pytest", "nbval", "ruff", "playwright"}


def test_outside_colab_bootstrap_and_run_report_do_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    before = (os.getcwd(), dict(os.environ))
    colab.bootstrap(runs_on_drive=True)
    assert colab.run_report("gpu") is None
    assert (os.getcwd(), dict(os.environ)) == before
    assert "make report" in capsys.readouterr().out


@pytest.fixture
def fake_colab(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """A Colab runtime as far as `bootstrap` can tell: the module, Drive, and pip and make recorded, not run."""
    seen: dict[str, list] = {"mounted": [], "commands": [], "constraints": []}
    drive = types.ModuleType("google.colab.drive")
    drive.mount = seen["mounted"].append
    module = types.ModuleType("google.colab")
    module.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", module)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)

    def record(command: list[str], cwd: Path | None = None) -> None:
        seen["commands"].append(list(command))
        if "--constraint" in command:
            seen["constraints"].append(Path(command[command.index("--constraint") + 1]).read_text())

    monkeypatch.setattr(colab, "_stream", record)
    monkeypatch.chdir(NOTEBOOKS.parent)  # bootstrap moves into notebooks/; monkeypatch moves back
    return seen


def test_fresh_colab_runtime_mounts_drive_and_installs_around_its_torch(
    fake_colab: dict[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMOTION_RUNS_DIR")
    monkeypatch.setattr(colab, "_installed", {"torch": "2.8.0+cu126"}.get)
    colab.bootstrap(runs_on_drive=True)
    assert os.environ["EMOTION_RUNS_DIR"] == colab.DRIVE_RUNS and fake_colab["mounted"] == [colab.DRIVE_MOUNT]
    requirements, project = fake_colab["commands"]
    assert fake_colab["constraints"] == ["torch==2.8.0+cu126\n"]
    assert "transformers==5.23.0" in requirements and not {"-q", "torch>=2.4", "pytest>=8"} & set(requirements)
    assert project[-3:] == ["--no-deps", "--editable", str(colab.PROJECT_ROOT)]
    assert Path.cwd() == colab.NOTEBOOKS_DIR


def test_colab_runtime_with_the_project_keeps_runs_local_when_asked(
    fake_colab: dict[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMOTION_RUNS_DIR")
    colab.bootstrap(runs_on_drive=False)  # emotion-finetune is installed here: nothing to install
    assert os.environ["EMOTION_RUNS_DIR"] == str(colab.PROJECT_ROOT / "runs")
    assert fake_colab["mounted"] == [] and fake_colab["commands"] == []


def test_run_all_runs_make_with_the_runtime_python_and_downloads_the_report(
    fake_colab: dict[str, list], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    downloads: list[str] = []
    files = types.ModuleType("google.colab.files")
    files.download = downloads.append
    monkeypatch.setitem(sys.modules, "google.colab.files", files)
    monkeypatch.setattr(sys.modules["google.colab"], "files", files, raising=False)
    monkeypatch.setattr(colab, "PROJECT_ROOT", tmp_path)  # the archive lands here, not in the checkout
    archive = colab.run_report("gpu")
    make = fake_colab["commands"][-1]
    assert make[:3] == ["make", "report", "PROFILE=gpu"] and f"PY={sys.executable}" in make
    assert make[-2:] == ["-o", "setup"]  # never builds a CPU .venv over Colab's CUDA torch
    assert downloads == [str(archive)] and archive.parent == tmp_path
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
    assert "emotion-finetune-gpu/report/report.md" in names
    assert any(name.startswith("emotion-finetune-gpu/figures/") for name in names)
