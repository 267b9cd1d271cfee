"""The package's shape: stages import only down the pipeline, nothing imports in a circle, no module hides a
`helpers` import inside a function, and the Makefile's notebook prerequisites are the ones the imports give."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

from helpers.paths import PROJECT_ROOT
from helpers.reporting import prerequisites

HELPERS = PROJECT_ROOT / "helpers"

# The pipeline, first to last. A module may import from its own stage or an earlier one, never a later one.
# "" is the package's root: the shared parts (labels, profiles, paths, hardware, metrics) every stage uses.
STAGES = [
    "",
    "data",
    "models",
    "baselines",
    "training",
    "search",
    "serving",
    "evaluation",
    "robustness",
    "reporting",
    "bench",
]

LONGEST_MODULE = 500  # lines: past this a module is doing two things


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str:
    """The stage a module belongs to: its package under helpers, or "" for the root's own modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else ""


MODULES = {module_name(path): path for path in sorted(HELPERS.rglob("*.py"))}


def helpers_imports(path: Path, *, nested_only: bool = False) -> list[tuple[int, str]]:
    """(line, module) for each `helpers` module the file imports; only those inside functions if asked."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scopes = (
        [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if nested_only
        else [tree]
    )
    found: set[tuple[int, str]] = set()
    for scope in scopes:
        for node in ast.walk(scope):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                if name in MODULES and name.startswith("helpers"):
                    found.add((node.lineno, name))
    return sorted(found)


def test_every_package_is_a_known_stage() -> None:
    packages = {path.parent.name for path in HELPERS.glob("*/__init__.py")}
    assert packages == set(STAGES) - {""}, "a new package needs its place in STAGES (and in the README's layout)"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_pipeline(module: str) -> None:
    own = STAGES.index(stage(module))
    upward = [
        f"line {line}: {name} (stage {stage(name) or 'root'})"
        for line, name in helpers_imports(MODULES[module])
        if STAGES.index(stage(name)) > own
    ]
    assert not upward, f"{module} (stage {stage(module) or 'root'}) imports from later stages: {upward}"


def test_no_import_cycles() -> None:
    graph = {
        module: {name for _, name in helpers_imports(path) if name != module and not module.startswith(f"{name}.")}
        for module, path in MODULES.items()
    }
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the circle


@pytest.mark.parametrize("module", sorted(MODULES))
def test_helpers_imports_sit_at_the_top(module: str) -> None:
    """An import inside a function hides a dependency (and used to hide cycles); the one kept says why on its line."""
    lines = MODULES[module].read_text(encoding="utf-8").splitlines()
    hidden = [
        f"line {line}: {name}"
        for line, name in helpers_imports(MODULES[module], nested_only=True)
        if "#" not in lines[line - 1]
    ]
    assert not hidden, f"{module} imports helpers inside functions without saying why: {hidden}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module: str) -> None:
    length = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert length <= LONGEST_MODULE, f"{module} has {length} lines; split it by what its parts do"


def test_stage_detection() -> None:
    assert stage("helpers") == "" and stage("helpers.profiles") == ""
    assert stage("helpers.training") == "training" and stage("helpers.training.finetune") == "training"


def test_prerequisites_file_is_current() -> None:
    """`make` decides what to re-run from notebooks/prerequisites.mk: stale, it would skip a changed module."""
    assert prerequisites.MAKEFILE_PART.read_text(encoding="utf-8") == prerequisites.makefile_part(), (
        "notebooks/prerequisites.mk is out of date: run `make prerequisites`"
    )


def test_prerequisites_follow_imports_through_modules(tmp_path: Path) -> None:
    """A notebook importing one module depends on what that module imports, and on the packages on the way."""
    notebook = PROJECT_ROOT / "notebooks" / "03_finetune.ipynb"
    needed = prerequisites.prerequisites(notebook)
    assert "helpers/training/finetune.py" in needed
    assert "helpers/training/__init__.py" in needed and "helpers/__init__.py" in needed
    assert "helpers/profiles.py" in needed  # reached through helpers.training.finetune, not named in 03
    assert "helpers/serving/demo.py" not in needed and "helpers/reporting/build.py" not in needed
    assert "$(EXECUTED)/02_baselines.ipynb" not in needed


def test_prerequisites_name_data_files_and_upstream_runs() -> None:
    needed = prerequisites.prerequisites(PROJECT_ROOT / "notebooks" / "06_error_analysis.ipynb")
    assert "data/out_of_domain.csv" in needed
    assert {"$(EXECUTED)/01_data.ipynb", "$(EXECUTED)/05_evaluation.ipynb"} <= set(needed)


def test_prerequisites_read_every_import_form() -> None:
    code = "import helpers.data.loading\nfrom helpers.training import finetune\nfrom helpers import profiles\n"
    found = prerequisites.imported_modules(code)
    assert {"helpers", "helpers.data", "helpers.data.loading", "helpers.training.finetune", "helpers.profiles"} <= found
    assert "helpers.training.finetune.train" not in found  # names inside modules are not files
