"""Colab: the one place that knows this repository's address, and the setup behind each notebook's first cell.

On Colab every notebook gets a fresh runtime. Its first code cell (`bootstrap_cell`, the same in every
notebook) clones the repository named by `REPOSITORY` and calls `bootstrap`, which installs the project
once per runtime and keeps the runs on Google Drive (`$EMOTION_RUNS_DIR`), so notebook 02 finds what 01
wrote. Outside Colab that cell only checks that the kernel has the project.

`REPOSITORY` is the only copy of the address: `python -m helpers.colab` writes it into every notebook's
badge and first cell (`--check` reports notebooks that differ; tests/test_upstream.py runs that check).
This module (and `helpers.paths`, which it uses) imports only the standard library: it runs before the install.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from helpers.hardware import on_colab
from helpers.paths import FIGURES_DIR, PROJECT_ROOT, REPORT_DIR, RUNS_ENV, runs_root
from helpers.profiles import resolve_profile

REPOSITORY = "emotion-finetune/emotion-finetune"
"""GitHub owner/name of this project; change it here, then run `python -m helpers.colab`."""
BRANCH = "main"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CLONE_DIR = "/content/emotion-finetune"
DRIVE_MOUNT = "/content/drive"
DRIVE_RUNS = f"{DRIVE_MOUNT}/MyDrive/emotion-finetune/runs"
KERNEL = "Python 3 (emotion-finetune)"
"""Display name of the Jupyter kernel that `make setup` installs."""
DEV_MARKER = "# Tests and lint"
"""requirements.txt lists tests and lint tools after this line: a notebook runtime needs none of them."""
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_url(notebook: str) -> str:
    """Where Colab opens `notebook` (a file name in notebooks/) straight from GitHub."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{notebook}"


def badge(notebook: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook)})"


def bootstrap_cell() -> str:
    """The first code cell of every notebook: as little as can run before the project is installed."""
    return f'''# Setup, written by `python -m helpers.colab` (edit helpers/colab.py, not this cell). On Colab: fetch and
# install this project, runs kept on Google Drive if ticked. Elsewhere: only check this kernel has the project.
import os
import subprocess
import sys

runs_on_drive = True  # @param {{type:"boolean"}}
if "google.colab" in sys.modules:
    clone, url = "{CLONE_DIR}", "https://github.com/{REPOSITORY}.git"
    if not os.path.isdir(clone):
        done = subprocess.run(["git", "clone", "--depth", "1", url, clone], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"git clone {{url}} failed:\\n{{done.stderr}}")
    sys.path.insert(0, clone)
try:
    from helpers.colab import bootstrap
except ModuleNotFoundError:
    raise ModuleNotFoundError("choose the kernel '{KERNEL}': `make setup` installs it") from None
bootstrap(runs_on_drive)'''


def runtime_requirements(requirements: str, torch_version: str | None) -> list[str]:
    """The requirement lines a notebook runtime needs: those before `DEV_MARKER` (all, once dev tools move out).

    With `torch_version` (a torch already installed, such as Colab's CUDA build), torch itself is left out:
    the caller pins it with a constraint so that no other package can replace it.
    """
    wanted = []
    for line in requirements.splitlines():
        if line.strip() == DEV_MARKER:
            break
        requirement = line.split("#", 1)[0].strip()
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        if name and not (torch_version and name.group().lower() == "torch"):
            wanted.append(requirement)
    return wanted


def _installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _stream(command: Sequence[str], cwd: Path | None = None) -> None:
    """Run `command`, its output printed line by line into the cell (a subprocess's own output is not)."""
    print("$", " ".join(command), flush=True)
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)


def install() -> None:
    """The notebooks' requirements and this project (editable), keeping the runtime's torch and its CUDA build."""
    torch_version = _installed("torch")
    requirements = runtime_requirements((PROJECT_ROOT / "requirements.txt").read_text(), torch_version)
    pip = [sys.executable, "-m", "pip", "install", "--progress-bar", "off"]
    with tempfile.TemporaryDirectory() as folder:
        constraints = Path(folder) / "constraints.txt"
        constraints.write_text(f"torch=={torch_version}\n" if torch_version else "")
        _stream([*pip, *requirements, "--constraint", str(constraints)])
    _stream([*pip, "--no-deps", "--editable", str(PROJECT_ROOT)])


def bootstrap(runs_on_drive: bool = True) -> None:
    """Prepare a Colab runtime for the notebooks; elsewhere do nothing.

    With `runs_on_drive`, `$EMOTION_RUNS_DIR` defaults to a folder on Google Drive, mounted after Colab asks
    for access, so the next notebook's runtime finds this one's outputs. The install runs once per runtime:
    notebooks that `run_report` executes in the same runtime skip it.
    """
    if not on_colab():
        return
    # Always set, so that the notebooks `run_report` executes inherit this choice instead of making their own.
    runs = os.environ.setdefault(RUNS_ENV, DRIVE_RUNS if runs_on_drive else str(runs_root()))
    if runs.startswith(DRIVE_MOUNT + "/") and not os.path.isdir(f"{DRIVE_MOUNT}/MyDrive"):
        # only on Colab: the module exists nowhere else
        from google.colab import drive

        drive.mount(DRIVE_MOUNT)
    if _installed("emotion-finetune") is None:
        install()
    os.chdir(NOTEBOOKS_DIR)  # as under `make report` (papermill --cwd notebooks)
    kept = "kept on Google Drive" if runs.startswith(DRIVE_MOUNT + "/") else "lost with this runtime"
    print(f"emotion-finetune ready in {PROJECT_ROOT}; runs in {runs} ({kept})")


def _register_kernels() -> None:
    """A kernel of this Python under each name the notebooks ask for, so papermill finds it on Colab."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager

    known = KernelSpecManager().find_kernel_specs()
    wanted = {nbformat.read(path, as_version=4).metadata.kernelspec.name for path in NOTEBOOKS_DIR.glob("0*.ipynb")}
    for name in sorted(wanted - set(known)):
        _stream([sys.executable, "-m", "ipykernel", "install", "--user", "--name", name, "--display-name", KERNEL])


def run_report(profile: str | None = None) -> Path | None:
    """On Colab: `make report` for `profile` (default: gpu with CUDA, else cpu), then the report zipped and
    offered for download. Returns the archive; elsewhere returns None and says what to run instead."""
    if not on_colab():
        print("Not on Colab: run `make report PROFILE=...` in a terminal.")
        return None

    name = resolve_profile(profile).name
    _register_kernels()
    # The runtime's own Python has everything (`bootstrap`); `-o setup` keeps make from building a CPU .venv.
    # Colab has no Chromium to print the PDF; the zip carries report.html, which a browser prints as well.
    _stream(["make", "report", f"PROFILE={name}", f"PY={sys.executable}", "PDF=no", "-o", "setup"], cwd=PROJECT_ROOT)
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / f"emotion-finetune-{name}"
        if name == "smoke":  # helpers.reporting.build keeps smoke reports (figures inside) away from report/
            shutil.copytree(runs_root() / name / "report", staged / "report")
        else:
            shutil.copytree(REPORT_DIR, staged / "report")
            shutil.copytree(FIGURES_DIR, staged / "figures")
        archive = Path(shutil.make_archive(str(PROJECT_ROOT / staged.name), "zip", folder, staged.name))
    # only on Colab: the module exists nowhere else
    from google.colab import files

    files.download(str(archive))
    print(f"report and figures in {archive}")
    return archive


def _with_badge(source: str, notebook: str) -> str:
    """A first markdown cell with the badge on the line after its title (any earlier badge replaced)."""
    title, *rest = [line for line in source.split("\n") if "colab.research.google.com/github/" not in line]
    while rest and not rest[0].strip():
        rest.pop(0)
    return "\n".join([title, "", badge(notebook), "", *rest])


def sync_notebooks(check: bool = False) -> list[str]:
    """Write every notebook's badge and bootstrap cell from this module; returns the notebooks that differed.

    With `check`, nothing is written. Only those two cells change: outputs and other cells stay as stored.
    """
    import nbformat

    stale = []
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        markdown = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
        code = next(cell for cell in notebook.cells if cell.cell_type == "code")
        wanted = (_with_badge(markdown.source, path.name), bootstrap_cell())
        if (markdown.source, code.source) == wanted:
            continue
        stale.append(path.name)
        if not check:
            markdown.source, code.source = wanted
            nbformat.write(notebook, path)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.colab", description=sync_notebooks.__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only list notebooks that differ (exit status 1)")
    args = parser.parse_args(argv)
    stale = sync_notebooks(check=args.check)
    for name in stale:
        print(f"{'differs' if args.check else 'updated'}: notebooks/{name}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
