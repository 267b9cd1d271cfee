"""`python -m helpers.reporting --profile P`: the run's notebooks as pages, then the report, then its PDF.

`--no-pdf` leaves the PDF out (Colab, machines without Chromium). Each step is also a function of its module:
`pages.publish_notebooks`, `build.build_report`, `pdf.print_pdf`.
"""

import argparse

from helpers.reporting import build, pages, pdf

parser = argparse.ArgumentParser(prog="python -m helpers.reporting", description=__doc__.split("\n\n")[0])
parser.add_argument("--profile", required=True, help="the run to report on (runs/<profile>)")
parser.add_argument("--report-dir", help="default: report/ (runs/smoke/report for smoke)")
parser.add_argument("--figures-dir", help="default: figures/ (runs/smoke/report/figures for smoke)")
parser.add_argument("--no-pdf", action="store_true", help="leave report.pdf out")
args = parser.parse_args()
where = ["--profile", args.profile] + (["--report-dir", args.report_dir] if args.report_dir else [])
pages.main(where)
build.main(where + (["--figures-dir", args.figures_dir] if args.figures_dir else []))
if not args.no_pdf:
    pdf.main(where)
