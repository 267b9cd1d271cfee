"""Which model folder a run serves: notebook 08's model for use, else the one notebook 05 chose on validation.

The demo and the command line serve one model folder. Notebooks 05 and 08 record which folder stands for their
chosen model, so that what people use is what the report describes, or the report says which member of an
ensemble is served instead. A run folder (`runs/cpu`) given where a model
folder is expected stands for the model it serves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.paths import runs_root

SERVED_RECORD = "served_model.json"
"""Written by notebook 05 into `runs/<profile>/evaluation/` and by notebook 08 into `runs/<profile>/robustness/`."""

RECORD_FOLDERS = ("robustness", "evaluation")
"""Where a run's served-model record is looked for, first found wins: notebook 08 chooses the model for use (in
domain and out of domain); notebook 05's choice, in domain only, stands where 08 has not run."""


def record_served_model(evaluation_dir: Path, model_folder: Path, name: str, chosen: str) -> Path:
    """Write which model folder the run serves (`name`, standing for the `chosen` model). The folder is kept
    relative to the run folder, so a run copied elsewhere (Google Drive, another checkout) still finds it."""
    run_folder = evaluation_dir.parent
    record = {
        "model": name,
        "chosen": chosen,
        "folder": Path(model_folder).resolve().relative_to(run_folder.resolve()).as_posix(),
    }
    path = evaluation_dir / SERVED_RECORD
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def read_served_record(run_folder: Path) -> dict[str, Any] | None:
    """The served-model record of a run folder (notebook 08's, else 05's), or None where neither has run."""
    found = [Path(run_folder) / folder / SERVED_RECORD for folder in RECORD_FOLDERS]
    path = next((path for path in found if path.is_file()), None)
    if path is None:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return {**record, "path": Path(run_folder) / record["folder"]}
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        notebook = "08" if path.parent.name == "robustness" else "05"
        raise ValueError(f"{path}: not a served-model record ({error}); re-run notebook {notebook}") from error


def served_model_folder(path: Path) -> Path:
    """`path` itself for a model folder; for a run folder (one with a served-model record), the model it serves."""
    record = read_served_record(path)
    return path if record is None else record["path"]


def newest_served_model() -> Path | None:
    """The served model of the run under `runs_root()` whose notebook 05 or 08 ran last, or None."""
    records = sorted(
        (path for folder in RECORD_FOLDERS for path in runs_root().glob(f"*/{folder}/{SERVED_RECORD}")),
        key=lambda path: path.stat().st_mtime,
    )
    for record in reversed(records):
        folder = served_model_folder(record.parent.parent)
        if (folder / "config.json").is_file() or (folder / "adapter_config.json").is_file():
            return folder
    return None
