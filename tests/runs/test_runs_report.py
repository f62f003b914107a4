"""The static HTML report: self-contained (every image a data URI), escaped, and
(when a headless chromium is available) every image decodes in a real browser."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from ghostmech.runs.report import (
    Section,
    image,
    paragraph,
    preformatted,
    render_page,
    table,
    write_page,
)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    p = _Tags()
    p.feed(html)
    return p.tags


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    png, gif = tmp_path / "a.png", tmp_path / "v.gif"
    Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).save(png)
    frames = [Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)) for i in range(3)]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return png, gif


def _page(files, tmp_path):
    png, gif = files
    sections = [
        Section("figures", [image(png, "a <png>"), image(gif, "video")]),
        Section("numbers", [table(["epoch", "loss"], [(0, 1.0), (10, 0.123456)])]),
        Section("config", [preformatted('name = "x" <b>'), paragraph("α & β")]),
    ]
    return write_page(tmp_path / "out" / "page.html", "run <x>", sections)


def test_images_are_inlined_byte_for_byte(files, tmp_path):
    html = _page(files, tmp_path).read_text()
    imgs = [a["src"] for t, a in _tags(html) if t == "img"]
    assert len(imgs) == 2
    for src, path, mime in zip(imgs, files, ("image/png", "image/gif"), strict=True):
        head, data = src.split(",", 1)
        assert head == f"data:{mime};base64"
        assert base64.b64decode(data) == path.read_bytes()


def test_nothing_is_fetched_from_outside(files, tmp_path):
    tags = _tags(_page(files, tmp_path).read_text())
    refs = [a[k] for _, a in tags for k in ("src", "href") if k in a]
    assert refs and all(r.startswith("data:") for r in refs)
    assert not [t for t, _ in tags if t == "link"]
    assert all("src" not in a for t, a in tags if t == "script")


def test_text_is_escaped_and_numbers_rounded(files, tmp_path):
    html = _page(files, tmp_path).read_text()
    assert "run &lt;x&gt;" in html and "&lt;b&gt;" in html and "α &amp; β" in html
    assert "<td>0.1235</td>" in html and "<b>" not in html


def test_unknown_file_type_is_refused(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ValueError, match="`path`"):
        image(tmp_path / "x.txt")


def test_render_page_has_the_load_check_script():
    html = render_page("t", [])
    assert "data-images" not in html  # set at run time by the script, not written
    assert "naturalWidth" in html and html.startswith("<!DOCTYPE html>")


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)),
    reason=f"{CHROMIUM} not installed: headless browser check of the report skipped",
)
def test_page_loads_in_headless_chromium(files, tmp_path):
    page = _page(files, tmp_path)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
           "--v=0", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    body = next(a for t, a in _tags(res.stdout) if t == "body")
    assert body.get("data-ready") == "1"
    assert body["data-images-total"] == "2" and body["data-images-ok"] == "2"
    errors = [ln for ln in res.stderr.splitlines() if "Uncaught" in ln or "CONSOLE" in ln]
    assert errors == []
