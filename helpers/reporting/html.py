"""The report as one HTML page, with its figures inlined and a print stylesheet for the PDF."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import markdown
from PIL import Image

from helpers.reporting.pages import compress_png

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem}"
    "img{max-width:100%}em{color:#555}code{background:#f4f4f4;padding:0 .2rem}"
    "figure{margin:1rem 0}figcaption{color:#555;font-style:italic}"
)

PRINT_STYLE = (
    "@page{size:A4;margin:16mm 14mm 18mm;"
    "@bottom-center{content:counter(page) ' / ' counter(pages);font:9pt system-ui,sans-serif;color:#666}}"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.4}"
    "figure,table,tr,li,pre,blockquote{break-inside:avoid}h1,h2,h3,h4{break-after:avoid}"
    "p:has(+table),p:has(+figure),p:has(+ul){break-after:avoid}"
    "figure img{display:block;max-width:100%;max-height:120mm;margin:0 auto}figure.tall img{max-height:215mm}"
    "figcaption{text-align:center}"
    "a{color:inherit}td,th{padding:.15rem .35rem}}"
)


def to_html(markdown_text: str, base: Path, title: str) -> str:
    """One self-contained HTML page: the Markdown rendered, each figure embedded (in 256 colours, as the notebook
    pages) with its caption, links to the notebook pages pointing at their HTML copies, and print rules for the
    PDF. A figure taller than wide is marked, so that print gives it more of the page's height."""

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])

    def figure(match: re.Match[str]) -> str:
        image, caption = match.groups()
        path = base / re.search(r'src="([^"]+)"', image).group(1)
        width, height = Image.open(path).size
        png = base64.b64encode(compress_png(path.read_bytes())).decode("ascii")
        image = re.sub(r'src="[^"]+"', f'src="data:image/png;base64,{png}"', image)
        tall = ' class="tall"' if height > width else ""
        return f"<figure{tall}>{image}<figcaption>{caption}</figcaption></figure>"

    body = re.sub(r"<p>(<img [^>]+>)</p>\s*<p><em>(.*?)</em></p>", figure, body)
    body = re.sub(r'href="(notebooks/[^"]+)\.md"', r'href="\1.html"', body)
    head = f'<meta charset="utf-8"><title>{title}</title><style>{PAGE_STYLE}{PRINT_STYLE}</style>'
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>\n'
