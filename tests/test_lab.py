"""The notebooks where people open them: JupyterLab in a real browser, and when long loops draw progress bars."""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from helpers.notebook import PROGRESS_VARIABLE, show_progress

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/01_data.ipynb"
SCREENSHOT = REPO / "runs" / "screenshots" / "jupyterlab_01_data.png"
# Settings for this server only: no autosave (the test must never write into notebooks/), every cell in the
# page (JupyterLab otherwise attaches off-screen cells later), and no news prompt over the screenshot.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
# A cell typed into the open notebook: a tqdm.auto bar, drawn only where `show_progress` says so.
PROGRESS_CELL = "from tqdm.auto import tqdm\nfrom helpers.notebook import show_progress\n" + (
    'total = sum(tqdm(range(3), desc="progress check", disable=not show_progress()))'
)


@pytest.mark.parametrize(
    ("setting", "ci", "expected"),
    [("0", None, False), ("off", None, False), ("1", "true", True), (None, "true", False), (None, None, False)],
)
def test_show_progress_outside_a_kernel(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, ci: str | None, expected: bool
) -> None:
    """The variable wins; else CI is headless; else only a Jupyter kernel (not pytest) draws bars."""
    for name, value in ((PROGRESS_VARIABLE, setting), ("CI", ci)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert show_progress() is expected


@dataclass
class LabServer:
    url: str
    token: str


@pytest.fixture
def lab(tmp_path: Path, real_data_dir: Path, free_port: int, serving) -> Iterator[LabServer]:
    """JupyterLab from this interpreter's environment on a free localhost port, as `make lab` starts it.

    Its Jupyter config, data, runtime, settings and checkpoint folders are temporary, so it finds only the
    kernel that `make setup` put into .venv and leaves nothing behind, not even a checkpoint next to the
    notebook; the kernel inherits the smoke profile and a scratch runs folder. CI and EMOTION_PROGRESS are
    dropped: the kernel should behave as a person's does.
    """
    port, token = free_port, secrets.token_hex(16)
    settings = tmp_path / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {key: value for key, value in os.environ.items() if key not in ("CI", PROGRESS_VARIABLE)}
    env |= {
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "EMOTION_PROFILE": "smoke",
        "EMOTION_RUNS_DIR": str(tmp_path / "runs"),
        "EMOTION_DATA_DIR": str(real_data_dir),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={REPO}",
        f"--FileCheckpoints.checkpoint_dir={tmp_path / 'checkpoints'}",  # opening a notebook checkpoints it
    ]
    url = f"http://127.0.0.1:{port}"
    with serving(command, env, f"{url}/api/status?token={token}", tmp_path / "jupyterlab.log", timeout=60):
        yield LabServer(url, token)


def test_notebook_runs_in_jupyterlab(chromium: Path, lab: LabServer) -> None:
    """Open notebook 01 in Chromium, run all cells on the project's kernel, and see its closing output."""
    source = (REPO / NOTEBOOK).read_bytes()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            _run_all_and_check(page, lab)
        finally:  # also on failure: the page shows what went wrong
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            browser.close()
    assert (REPO / NOTEBOOK).read_bytes() == source, "the test must not save the notebook"


def _run_all_and_check(page: Page, lab: LabServer) -> None:
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    # the kernel the notebook asks for is found and started, with no "Select Kernel" dialog
    expect(notebook.locator(".jp-KernelName")).to_have_text("Python 3 (emotion-finetune)", timeout=60_000)
    expect(notebook.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1)

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    outputs = notebook.locator(".jp-OutputArea-output")
    expect(outputs.filter(has_text="audit saved to")).to_have_count(1, timeout=90_000)

    expect(outputs.filter(has_text="Progress: live bars")).to_have_count(1)  # setup() saw a person's kernel
    expect(outputs.filter(has_text=re.compile("Traceback|Error:"))).to_have_count(0)
    prompts = notebook.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    assert prompts and all(re.fullmatch(r"\[\d+\]:", text.strip()) for text in prompts), prompts

    # a progress bar drawn as a widget, not the "IProgress not found" warning of a kernel without ipywidgets
    notebook.locator(".jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("y")  # a code cell, whatever the cell above
    page.keyboard.press("Enter")
    page.keyboard.type(PROGRESS_CELL)
    page.keyboard.press("Shift+Enter")
    bar = outputs.filter(has_text="progress check: 100%").locator(".widget-hprogress .progress-bar-success")
    expect(bar).to_have_count(1, timeout=30_000)
    expect(outputs.filter(has_text="IProgress not found")).to_have_count(0)
    outputs.filter(has_text="audit saved to").scroll_into_view_if_needed()
