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


# --------------------------------------------------------------------------- the run report
# A run whose outcome per network is planted in its curves: the report must count it.

LRS = (0.01, 0.03, 0.1, 0.3)
PLANTED = {  # lr index -> outcome of seeds 0..3
    0: ("plateau", "plateau", "plateau", "learned"),
    1: ("learned", "learned", "learned", "learned"),
    2: ("learned", "trapped", "learned", "trapped"),
    3: ("trapped", "trapped", "trapped", "trapped"),
}


def _curve(outcome: str, epochs: int, rng) -> tuple[np.ndarray, np.ndarray]:
    e = np.arange(epochs)
    if outcome == "learned":  # plateau at 0.9999, abrupt drop at a random epoch, then 0.02
        drop = rng.integers(epochs // 4, epochs // 2)
        return np.where(e < drop, 0.9999, 0.02), np.where(e < drop, 1e-3, 1e-2)
    if outcome == "trapped":  # stays at L = 1 with a vanishing gradient (no-learning zone)
        return np.full(epochs, 0.9999) + 1e-4 * (e > 10), np.where(e > 10, 1e-20, 1e-3)
    return 0.9999 - 1e-8 * e, np.full(epochs, 1e-3)  # plateau: slow, still learning


def _planted_run(overrides=()):
    import xarray as xr

    from ghostmech.runs import load_config, resolve_config, resolve_grid

    epochs, rng = 400, np.random.default_rng(0)
    curves = [[_curve(o, epochs, rng) for o in PLANTED[i]] for i in range(len(LRS))]
    loss = np.array([[c[0] for c in row] for row in curves])
    grad = np.array([[c[1] for c in row] for row in curves])
    coords = {"lr": list(LRS), "seed": [0, 1, 2, 3], "epoch": np.arange(epochs)}
    dims = ("lr", "seed", "epoch")
    ds = xr.Dataset({"loss": (dims, loss), "grad_norm": (dims, grad)}, coords=coords)
    sets = [f"grid.lr={list(LRS)}", "grid.seed=4", f"training.epochs={epochs}", *overrides]
    config = load_config(resolve_config("fig6a_rank1", quick=True), sets)

    class FakeRun:  # what the report reads of a Run
        metrics = ds
        grid = resolve_grid(config)

    FakeRun.config = config
    return FakeRun()


def test_wilson_interval_matches_scipy_and_stays_in_unit_interval():
    from scipy.stats import binomtest

    from ghostmech.runs.outcomes import wilson_interval

    for k, n in [(0, 4), (1, 4), (3, 10), (10, 10), (17, 40)]:
        lo, hi = wilson_interval(k, n)
        ref = binomtest(k, n).proportion_ci(method="wilson")
        np.testing.assert_allclose([lo, hi], [ref.low, ref.high], rtol=1e-12, atol=1e-15)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
    with pytest.raises(ValueError, match="`k`"):
        wilson_interval(5, 4)


def test_outcomes_count_the_planted_networks():
    from ghostmech.runs.outcomes import grid_outcomes

    o = grid_outcomes(_planted_run().metrics)
    expected = np.array([PLANTED[i] for i in range(len(LRS))])
    np.testing.assert_array_equal(o.status, expected)
    np.testing.assert_array_equal(o.count("learned"), [1, 4, 2, 0])
    np.testing.assert_array_equal(o.count("trapped"), [0, 0, 2, 4])
    assert o.labels == ["seed=0", "seed=1", "seed=2", "seed=3"]
    frac, lo, hi = o.fraction("learned")
    np.testing.assert_allclose(frac, [0.25, 1.0, 0.5, 0.0])
    assert np.all(lo <= frac) and np.all(frac <= hi) and hi[3] > 0 and lo[1] < 1


def test_report_leads_with_outcome_and_names_the_critical_lr(tmp_path):
    from ghostmech.cli._report_page import run_sections

    sections = run_sections(_planted_run(), tmp_path)
    assert [s.title for s in sections][:2] == ["Outcome against learning rate", "What ran"]
    first = "".join(sections[0].blocks)
    assert first.index("<img") < first.index("<table")
    # fraction learned: 0.25, 1, 0.5, 0 -> falls below 1/2 between 0.1 and 0.3 (geometric midpoint)
    assert f"{np.sqrt(0.1 * 0.3):.3g}" in first
    assert "2/4 = 0.50 [0.15, 0.85]" in first  # Wilson interval of 2 of 4


def test_description_reflects_set_overrides():
    from ghostmech.cli._report_page import describe, overrides

    run = _planted_run(["training.optimizer='adam'"])
    variant, diff = overrides(run.config)
    assert variant == "quick"
    assert "training.optimizer = 'adam' (shipped: 'sgd')" in diff
    assert "training.epochs = 400 (shipped: 5000)" in diff
    assert "adam, 4 lrs 0.01…0.3, 4 seeds; 400 epochs" in describe(run.config)
    from ghostmech.runs import load_config, resolve_config

    shipped = load_config(resolve_config("fig6a_rank1", quick=True))
    assert overrides(shipped) == ("quick", [])  # negative control: nothing overridden


def test_curves_share_one_y_axis_spanning_two_decades():
    from ghostmech.plotting.training import plot_curve_panels

    e = np.arange(100)
    fig = plot_curve_panels(e, {"a": np.full((2, 100), 0.9999) - 1e-6 * e, "b": 0.02 + 0 * e})
    lims = {ax.get_ylim() for ax in fig.axes if ax.get_visible() and ax.has_data()}
    assert len(lims) == 1
    lo, hi = lims.pop()
    assert hi / lo >= 100 and lo <= 0.02 and hi >= 0.9999
    assert fig.get_figwidth() * 100 >= 600  # report figures: 1000 px at REPORT_DPI


def _chromium(page, tmp_path):
    shot = tmp_path / "shot.png"
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--window-size=1200,2400", "--virtual-time-budget=5000"]  # fmt: skip
    dom = subprocess.run([*base, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    subprocess.run([*base, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    return dom, shot


def layout_problems(dom) -> list[str]:
    """What is wrong with a page as headless chromium laid it out (empty: nothing)."""
    tags = _tags(dom.stdout)
    body = next(a for t, a in tags if t == "body")
    out = []
    if body.get("data-ready") != "1" or body.get("data-errors") != "0":
        out.append(f"not ready or script errors: {body}")
    if body.get("data-images-ok") != body.get("data-images-total"):
        out.append(f"images not decoded: {body}")
    for a in (a for t, a in tags if t == "img" and "data-font-px" in a):  # readable as shown
        rendered, natural = int(a["data-rendered-width"]), int(a["data-natural-width"])
        if rendered < 600:
            out.append(f"{a['alt']}: shown {rendered} px wide (< 600)")
        if float(a["data-font-px"]) * rendered / natural < 10.0:
            out.append(f"{a['alt']}: text shown below 10 px")
    out += [ln for ln in dom.stderr.splitlines() if "Uncaught" in ln or "CONSOLE" in ln]
    return out


needs_chromium = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)),
    reason=f"{CHROMIUM} not installed: headless browser check of the report skipped",
)


@needs_chromium
def test_run_report_layout_in_headless_chromium(tmp_path):
    from ghostmech.cli._report_page import run_sections

    sections = run_sections(_planted_run(), tmp_path)
    page = write_page(tmp_path / "report.html", "ghostmech run: planted", sections)
    dom, shot = _chromium(page, tmp_path)
    assert layout_problems(dom) == []
    tags = _tags(dom.stdout)
    imgs = [a for t, a in tags if t == "img"]
    assert len(imgs) == 3 and all("data-font-px" in a for a in imgs)
    heads = [t for t, _ in tags if t in ("h2", "img")]
    assert heads[:2] == ["h2", "img"]  # the first section opens with the outcome figure
    with Image.open(shot) as im:  # the screenshot is the page, not a blank window
        assert im.size == (1200, 2400)
        assert np.asarray(im.convert("L")).std() > 10


@needs_chromium
def test_layout_check_catches_small_text_and_script_errors(tmp_path):
    big = tmp_path / "big.png"  # 2000 px wide: the 1100 px page shrinks it, 12 px text -> 6.6 px
    Image.fromarray(np.full((50, 2000, 3), 128, np.uint8)).save(big)
    page = write_page(tmp_path / "bad.html", "bad", [Section("s", [image(big, "big", font_px=12)])])
    page.write_text(page.read_text().replace("</body>", "<script>undefinedCall();</script></body>"))
    problems = layout_problems(_chromium(page, tmp_path)[0])
    assert any("below 10 px" in p for p in problems)
    assert any("script errors" in p for p in problems)


@pytest.mark.parametrize("name", ["fig3a", "fig6b", "fig8b", "fig4_dcd"])
def test_description_of_shipped_configs(name):
    from ghostmech.cli._report_page import describe, overrides
    from ghostmech.runs import load_config, resolve_config

    config = load_config(resolve_config(name, quick=True))
    assert describe(config).endswith(f"{config.training.epochs} epochs")
    assert overrides(config) == ("quick", [])


def test_outcomes_label_every_grid_axis():
    from ghostmech.runs.outcomes import grid_outcomes

    ds = _planted_run().metrics
    both = xr_concat_beta(ds, [0.5, 2.0])
    o = grid_outcomes(both)
    assert o.n == 8 and o.labels[:2] == ["seed=0, beta=0.5", "seed=0, beta=2"]
    np.testing.assert_array_equal(o.count("trapped"), [0, 0, 4, 8])


def xr_concat_beta(ds, betas):
    import xarray as xr

    return xr.concat(
        [ds] * len(betas), dim=xr.DataArray(betas, dims="beta", name="beta")
    ).transpose("lr", "seed", "beta", "epoch")


def test_timeline_image_keeps_a_plateau_flat_and_counts_whole():
    from types import SimpleNamespace

    from ghostmech.cli.analyze import timeline_figure

    one_fixed = SimpleNamespace(count=lambda kind: int(kind == "fixed"))
    tracking = SimpleNamespace(epochs=[0, 1000, 2000], points=[one_fixed] * 3, events=[])
    a = SimpleNamespace(loss=0.9999 - 1e-8 * np.arange(2000), learning=SimpleNamespace(jumps=[]),
                        tracking=tracking)  # fmt: skip
    top, bottom = timeline_figure(a).axes[:2]
    lo, hi = top.get_ylim()
    assert hi / lo >= 100  # 0.9999 -> 0.99988 is a flat line, not a panel-high drop
    assert all(float(t).is_integer() for t in bottom.get_yticks())
