"""A run's executed notebooks as pages beside its report, so that the analysis can be read with its outputs.

GitHub renders Markdown but shows HTML files as source, so each executed notebook is exported twice from one
conversion: `notebooks/01_data.md` for the repository's web view and `notebooks/01_data.html` for a browser (the
report's HTML links these), both reading their images from `notebooks/01_data_files/`. Images are re-encoded as
256-colour PNGs, a third of matplotlib's size with no visible change to a plot, and the machine's absolute paths
in the outputs become `runs/...`, so the pages read the same wherever the run was made.

    python -m helpers.reporting --profile cpu     # runs/cpu/notebooks/*.ipynb -> report/notebooks/
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.preprocessors import ExtractOutputPreprocessor
from PIL import Image
from pygments.formatters import HtmlFormatter
from traitlets.config import Config

from helpers.paths import PROJECT_ROOT, report_dirs, runs_root
from helpers.reporting.artifacts import ReportInputError

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .45rem;font-size:.9em}"
    "img{max-width:100%}code{background:#f4f4f4;padding:0 .2rem}"
    ".prompt,.anchor-link{display:none}.cell{margin:1rem 0}.input_area{background:#f7f7f7;border-left:3px solid #9ab;"
    "padding:.1rem .6rem;overflow-x:auto}.input_area pre{margin:.4rem 0}"
    ".output_area pre{background:#fff;border-left:3px solid #ddd;padding:.3rem .6rem;margin:.3rem 0;"
    "overflow-x:auto;font-size:.85em}.output_stderr pre{background:#fff6f4}"
)


class NotebookPages:
    """The executed notebooks published beside the report (`helpers.reporting.pages`), found by name."""

    def __init__(self, report_dir: Path) -> None:
        self.folder = report_dir / "notebooks"
        self.report_dir = report_dir

    def __call__(self, name: str) -> dict[str, str]:
        page = self.folder / f"{name}.md"
        if not page.is_file():
            raise ReportInputError(
                f"{page}: missing; publish the executed notebooks first (python -m helpers.reporting, or make report)"
            )
        lines = page.read_text(encoding="utf-8").split("\n")
        title = next((line[2:].strip() for line in lines if line.startswith("# ")), name)
        base = Path(os.path.relpath(page, self.report_dir)).with_suffix("")
        return {"name": name, "title": title, "md": f"{base.as_posix()}.md", "html": f"{base.as_posix()}.html"}

    def all(self) -> list[dict[str, str]]:
        return [self(page.stem) for page in sorted(self.folder.glob("*.md"))]


def compress_png(data: bytes) -> bytes:
    """A 256-colour PNG of the image on white, or the original when that is not smaller."""
    image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    buffer = io.BytesIO()
    image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
    smaller = buffer.getvalue()
    return smaller if len(smaller) < len(data) else data


def _local_paths() -> list[tuple[str, str]]:
    """This machine's folders as they appear in outputs, longest first, and what the pages say instead."""
    pairs = {str(runs_root().resolve()): "runs", str(runs_root()): "runs", str(PROJECT_ROOT): "."}
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Compress every PNG output and replace the machine's absolute paths in text outputs."""

    def shorten(text: str) -> str:
        for local, shown in _local_paths():
            text = text.replace(local, shown)
        return text

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = shorten(output["text"])
            data = output.get("data", {})
            for kind in data:
                if kind == "image/png":
                    png = compress_png(base64.b64decode(data[kind]))
                    data[kind] = base64.b64encode(png).decode("ascii")
                elif kind.startswith("text/"):
                    data[kind] = shorten(data[kind])
    return notebook


def title_of(notebook: nbformat.NotebookNode, default: str) -> str:
    """The notebook's first Markdown heading, without its hashes."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.split("\n"):
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def _html_page(body: str, title: str, report_link: str) -> str:
    style = PAGE_STYLE + HtmlFormatter(style="default").get_style_defs(".highlight")
    head = f'<meta charset="utf-8"><title>{title}</title><style>{style}</style>'
    nav = f'<p><a href="{report_link}">← the report</a></p>'
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{nav}{body}</body></html>\n'


def export(path: Path, folder: Path) -> list[Path]:
    """Write one executed notebook as `<name>.md` and `<name>.html` in `folder`, images in `<name>_files/`."""
    name = path.stem
    notebook = clean(nbformat.read(path, as_version=4))
    resources = {"output_files_dir": f"{name}_files", "unique_key": name, "outputs": {}}
    notebook, resources = ExtractOutputPreprocessor(enabled=True).preprocess(notebook, resources)
    title = title_of(notebook, name)
    once = Config({"ExtractOutputPreprocessor": {"enabled": False}})  # extracted above, for both pages
    markdown, _ = MarkdownExporter(config=once).from_notebook_node(notebook, resources=dict(resources))
    markdown = re.sub(r"<style scoped>.*?</style>\n?", "", markdown, flags=re.DOTALL)  # pandas' table style
    body, _ = HTMLExporter(template_name="basic").from_notebook_node(notebook, resources=dict(resources))
    written = [folder / f"{name}.md", folder / f"{name}.html"]
    written[0].write_text(f"[← the report](../report.md)\n\n{markdown.strip()}\n", encoding="utf-8")
    written[1].write_text(_html_page(body, title, "../report.html"), encoding="utf-8")
    for relative, data in resources["outputs"].items():
        image = folder / relative
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(data)
        written.append(image)
    return written


def publish_notebooks(executed: Path, report_dir: Path) -> list[Path]:
    """Replace `report_dir/notebooks/` with a page for every executed notebook in `executed`."""
    notebooks = sorted(path for path in executed.glob("*.ipynb") if not path.name.endswith(".partial.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{executed}: no executed notebooks; run `make notebooks` first")
    folder = report_dir / "notebooks"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return [page for path in notebooks for page in export(path, folder)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.reporting", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True, help="the run whose executed notebooks to publish")
    parser.add_argument("--report-dir", type=Path, help="default: report/ (runs/smoke/report for smoke)")
    args = parser.parse_args(argv)
    report_dir = args.report_dir or report_dirs(args.profile)[0]
    written = publish_notebooks(runs_root() / args.profile / "notebooks", report_dir)
    size = sum(path.stat().st_size for path in written)
    print(f"{len(written)} files, {size / 1024:.0f} KiB in {report_dir / 'notebooks'}")
