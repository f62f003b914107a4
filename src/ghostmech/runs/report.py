"""A self-contained static HTML page: every image and video inlined as a ``data:`` URI,
CSS and a few lines of JS inline, no network access needed to open it.

The page is a title, then sections of blocks (HTML snippets built by :func:`image`,
:func:`table`, :func:`preformatted`, :func:`paragraph`; all text is escaped). A small
inline script records, once the page has loaded, how many ``<img>`` elements decoded
and how many script errors occurred (``<body data-images-total="…" data-images-ok="…"
data-errors="…" data-ready="1">``), and each image's natural and rendered width
(``data-natural-width``, ``data-rendered-width``; with ``data-font-px``, the size of its
smallest text as shown), so a headless browser can check the page's layout
(``chromium --headless --dump-dom``; tests/runs/test_runs_report.py).

>>> html = render_page("t", [Section("s", [paragraph("a < b")])])
>>> "a &lt; b" in html and "<script" in html and "http" not in html
True
"""

from __future__ import annotations

import base64
import html as _html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Section",
    "data_uri",
    "image",
    "table",
    "preformatted",
    "paragraph",
    "render_page",
    "write_page",
    "MIME",
]

MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".mp4": "video/mp4",
}

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em}
figure{display:inline-block;margin:.5em;vertical-align:top}
figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#f4f4f4}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.8em}
"""

# Once everything (inlined data included) has loaded: counts decoded images, records each
# image's natural and rendered width, and counts script errors, as data-* attributes.
_JS = """
var ghostmechErrors = 0;
window.addEventListener('error', function () { ghostmechErrors++; });
window.addEventListener('load', function () {
  var imgs = document.getElementsByTagName('img'), ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    var im = imgs[i];
    if (im.complete && im.naturalWidth > 0) { ok++; im.dataset.loaded = '1'; }
    im.dataset.naturalWidth = String(im.naturalWidth);
    im.dataset.renderedWidth = String(Math.round(im.getBoundingClientRect().width));
  }
  document.body.dataset.imagesTotal = String(imgs.length);
  document.body.dataset.imagesOk = String(ok);
  document.body.dataset.errors = String(ghostmechErrors);
  document.body.dataset.ready = '1';
});
"""


@dataclass(frozen=True)
class Section:
    """A titled part of the page; ``blocks`` are HTML snippets from this module's helpers."""

    title: str
    blocks: list[str] = field(default_factory=list)


def data_uri(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,<data>``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _mime(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in MIME:
        raise ValueError(f"`path` (={str(path)!r}) must end in one of: {', '.join(MIME)}")
    return MIME[suffix]


def image(
    path: str | Path, caption: str = "", *, width: int | None = None, font_px: float | None = None
) -> str:
    """A ``<figure>`` with the file (PNG, GIF, JPEG, SVG or MP4 video) inlined; ``font_px``:
    the smallest text in the image, in image pixels (``data-font-px``, checked by the tests
    against the size the browser shows it at)."""
    path = Path(path)
    mime = _mime(path)
    src = data_uri(path.read_bytes(), mime)
    style = f' style="max-width:{int(width)}px"' if width else ""
    if font_px is not None:
        style += f' data-font-px="{float(font_px):.2f}"'
    alt = _html.escape(caption or path.name, quote=True)
    if mime.startswith("video/"):
        body = f'<video controls loop muted src="{src}"{style}></video>'
    else:
        body = f'<img src="{src}" alt="{alt}"{style}>'
    cap = f"<figcaption>{_html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{body}{cap}</figure>"


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return _html.escape(str(v))


def table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """An HTML table (floats to 4 significant digits)."""
    head = "".join(f"<th>{_html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def preformatted(text: str) -> str:
    return f"<pre>{_html.escape(text)}</pre>"


def paragraph(text: str) -> str:
    return f"<p>{_html.escape(text)}</p>"


def render_page(title: str, sections: Sequence[Section]) -> str:
    """The whole page as one string (UTF-8 HTML5, no external resources)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_html.escape(title)}</title><style>{_CSS}</style></head>",
        f"<body><h1>{_html.escape(title)}</h1>",
    ]
    for sec in sections:
        parts.append(f"<section><h2>{_html.escape(sec.title)}</h2>{''.join(sec.blocks)}</section>")
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts)


def write_page(path: str | Path, title: str, sections: Sequence[Section]) -> Path:
    """Write :func:`render_page` to ``path`` (parents created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(title, sections), encoding="utf-8")
    return path
