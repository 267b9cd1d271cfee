"""Source notebooks follow the project's anatomy and are stored clean."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))


def test_numbered_notebooks_exist() -> None:
    assert [nb.stem[:2] for nb in NOTEBOOKS] == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]
    assert NOTEBOOKS[0].stem == "01_data"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_of_literals(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one cell tagged 'parameters'"
    for statement in ast.parse(tagged[0].source).body:
        assert isinstance(statement, ast.Assign), f"{path.name}: parameters cell holds only assignments"
        ast.literal_eval(statement.value)  # raises if a value is not a literal
    names = {t.id for s in ast.parse(tagged[0].source).body for t in s.targets}
    assert {"profile", "data_dir", "seed"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_asks_for_the_project_kernel(path: Path) -> None:
    """JupyterLab, papermill and a Jupyter installed elsewhere all start the kernel `make setup` registers."""
    kernelspec = nbformat.read(path, as_version=4).metadata.kernelspec
    assert kernelspec.name == "emotion-finetune", f"{path.name}: asks for kernel {kernelspec.name!r}"
    assert kernelspec.display_name == "Python 3 (emotion-finetune)"
