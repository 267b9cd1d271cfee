"""The report as a PDF, for people who hand one in: headless Chromium prints `report.html` to `report.pdf`.

Chromium lays the page out as a browser does and follows the print rules in `report.html`: A4, page numbers,
and no figure, table row or code block cut across two pages. The browser is `$CHROMIUM`, else the first of
`chromium`, `chromium-browser` or `google-chrome` on the PATH (Debian: `apt-get install chromium`).

    python -m helpers.reporting --profile cpu      # report/report.html -> report/report.pdf
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from helpers.paths import report_dirs

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> Path:
    """The browser that prints the PDF; a clear error, naming what to install, when there is none."""
    named = os.environ.get("CHROMIUM")
    for candidate in [named] if named else [shutil.which(name) for name in BROWSERS]:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(
        f"no Chromium found ({'$CHROMIUM=' + named if named else ', '.join(BROWSERS)}) to print the PDF: "
        "apt-get install chromium, or set CHROMIUM to a Chromium or Chrome executable"
    )


def print_pdf(html: Path, pdf: Path, chromium: Path | None = None, timeout: float = 180) -> Path:
    """Print `html` to `pdf` with headless Chromium, in a throwaway browser profile."""
    if not html.is_file():
        raise FileNotFoundError(f"{html}: missing; python -m helpers.reporting writes it")
    browser = chromium or find_chromium()
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        command = [
            str(browser),
            "--headless",
            "--disable-gpu",
            f"--user-data-dir={profile}",  # never another session's browser, never its locks
            "--no-pdf-header-footer",  # the page numbers come from the report's own @page rules
            f"--print-to-pdf={pdf.resolve()}",
            html.resolve().as_uri(),
        ]
        if os.geteuid() == 0:  # Chromium refuses to sandbox itself as root
            command.insert(1, "--no-sandbox")
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode or not pdf.is_file() or not pdf.stat().st_size:
        raise RuntimeError(f"{browser} did not print {pdf} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return pdf


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.reporting", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True, help="whose report to print (report/, or runs/smoke/report)")
    parser.add_argument("--report-dir", type=Path, help="default: report/ (runs/smoke/report for smoke)")
    args = parser.parse_args(argv)
    report_dir = args.report_dir or report_dirs(args.profile)[0]
    print(f"pdf: {print_pdf(report_dir / 'report.html', report_dir / 'report.pdf')}")
