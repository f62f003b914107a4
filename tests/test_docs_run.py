"""Every console and Python block of README.md and docs/ runs and prints what the page shows.

How a page is read (its fenced blocks, in order):

* ```` ```console ````: each ``$ ghostmech ...`` line (a trailing ``\\`` continues it) runs
  in-process through ``ghostmech.cli.main`` (stdout and stderr together, rich at 80
  columns); the lines under it, up to the next ``$``, are its expected output.
* ```` ```python ````: executed in a fresh namespace; a ```` ```text ```` block that follows it
  (with only prose between) is what it must print.
* ```` ```toml ````: must load as an experiment config (``load_config``); with
  ``shipped=NAME.VARIANT`` it must also equal that shipped file (as parsed TOML).
* ```` ```bash ````: every ``ghostmech ...`` line must parse (run with ``--help`` appended:
  click rejects unknown commands and options before it prints the help).
* other blocks (diagrams, on-disk layouts, signatures) are not run.

Blocks of a page run in order, in one working directory per page: a block first runs
the earlier blocks of its page (its prerequisites), unless marked ``standalone`` or
``chain=NAME`` (then only the earlier blocks of the same chain).

Comparison (:func:`compare`): lines are compared after stripping ANSI codes and trailing
space, collapsing runs of spaces and of table rules (``━━━━`` → ``━``), and replacing
clock times (``0:00:03``) by a wildcard; blank lines are ignored. Each line is split into
text and numbers: text must be equal, integers equal, other numbers equal within
``rtol`` (default 1e-2: the docs show 3–4 significant digits, and float32 training on
another CPU changes the last ones) plus ``atol`` (default 0). The shown lines must be
the output's lines, in order, with none missing or extra, except where the page writes a
line ``...`` (any number of output lines there).

Markers: an HTML comment before the fence (invisible on the rendered page), items
separated by ``;``::

    <!-- docs-run: slow -->            trains networks: only with ``pytest -m slow``
    <!-- docs-run: skip: REASON -->    not run (say why)
    <!-- docs-run: xfail: REASON -->   known to print something else (strict: passing fails)
    <!-- docs-run: standalone -->      does not need the earlier blocks of its page
    <!-- docs-run: chain=NAME -->      needs only the earlier blocks of its page in chain NAME
    <!-- docs-run: after=PAGE -->      runs PAGE's blocks first, in PAGE's directory
    <!-- docs-run: rtol=0.05 (why); atol=1e-20 -->
    <!-- docs-run: shipped=fig6a_rank1.quick -->
    <!-- docs-run: needs=torch -->     skipped (with the reason) when torch is not installed

A block that needs a slow block is slow too. On a mismatch the failure message shows
the block's whole output, ready to paste into the page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import importlib.util
import io
import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")], key=lambda p: str(p.relative_to(ROOT))
)
RTOL = 1e-2  # see the module docstring
WIDTH = 80  # rich console width while a command runs (the docs show 80-column tables)


# --------------------------------------------------------------------------- parsing


@dataclasses.dataclass
class Block:
    page: str  # relative to ROOT
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    options: dict[str, str]
    expected: str | None = None  # python: the text block after it
    index: int = 0  # position among the page's runnable blocks

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


_MARKER = re.compile(r"<!--\s*docs-run:(.*?)-->")
_FENCE = re.compile(r"^```(\S*)\s*$")
RUNNABLE = ("console", "python", "toml", "bash")


def parse_options(text: str) -> dict[str, str]:
    """``"slow; rtol=0.05; skip: a; b"`` -> ``{"slow": "", "rtol": "0.05", "skip": "a; b"}``
    (``skip:`` and ``xfail:`` take the rest of the marker as their reason)."""
    out: dict[str, str] = {}
    items = [i.strip() for i in text.split(";")]
    for n, item in enumerate(items):
        head = item.split(":")[0].strip()
        if head in ("skip", "xfail") and ":" in item:
            out[head] = "; ".join([item.partition(":")[2].strip(), *items[n + 1 :]]).strip("; ")
            break
        if item:  # key=value, optionally followed by a comment: "rtol=0.3 (why)"
            key, _, value = item.partition("=")
            out[key.strip()] = value.strip().split(" ", 1)[0]
    known = {"slow", "skip", "xfail", "standalone", "chain", "after", "rtol", "atol", "shipped",
             "needs"}  # fmt: skip
    unknown = set(out) - known
    if unknown:
        raise ValueError(f"unknown docs-run marker item(s) {sorted(unknown)} in {text!r}")
    return out


def parse_page(path: Path) -> list[Block]:
    """The runnable blocks of one Markdown page, with their markers and expected output."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = str(path.relative_to(ROOT))
    blocks: list[Block] = []
    i, last_fenced = 0, None
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        body = "\n".join(lines[i + 1 : j])
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        marker = _MARKER.search(lines[k]) if k >= 0 else None
        options = parse_options(marker.group(1)) if marker else {}
        if lang == "text" and last_fenced is not None and last_fenced.lang == "python":
            last_fenced.expected = body
        if lang in RUNNABLE:
            blocks.append(Block(page, start + 1, lang, body, options))
        last_fenced = blocks[-1] if lang in RUNNABLE else None
        i = j + 1
    for n, b in enumerate(blocks):
        b.index = n
    return blocks


BLOCKS = [b for p in PAGES for b in parse_page(p)]
BY_PAGE: dict[str, list[Block]] = {}
for _b in BLOCKS:
    BY_PAGE.setdefault(_b.page, []).append(_b)


def prerequisites(block: Block) -> list[Block]:
    """Blocks that must have run before ``block``, in the order to run them."""
    out: list[Block] = []
    if "after" in block.options:
        for b in BY_PAGE[block.options["after"]]:
            out += [p for p in [*prerequisites(b), b] if p not in out]
    if "standalone" not in block.options:
        chain = block.options.get("chain", "")
        for b in BY_PAGE[block.page][: block.index]:
            if b.options.get("chain", "") != chain or "skip" in b.options:
                continue
            if b.lang in ("console", "python"):
                out += [p for p in [*prerequisites(b), b] if p not in out]
    return out


def is_slow(block: Block) -> bool:
    return "slow" in block.options or any("slow" in p.options for p in prerequisites(block))


def workspace_key(block: Block) -> str:
    """Pages joined by ``after=`` share one working directory (the first page's)."""
    page = block.page
    seen = {page}
    while True:
        after = {b.options["after"] for b in BY_PAGE[page] if "after" in b.options}
        if not after:
            return page
        page = sorted(after)[0]
        if page in seen:
            raise ValueError(f"docs-run: after= cycle through {page}")
        seen.add(page)


# --------------------------------------------------------------------------- comparison

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CLOCK = re.compile(r"\b\d+:\d\d:\d\d\b")
_RULE = re.compile(r"([━─═])\1+")
_NUMBER = re.compile(r"[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+−]?\d+)?")
ELISION = ("...", "…")


def normalise(line: str) -> str:
    line = _ANSI.sub("", line)
    line = _CLOCK.sub("<time>", line)
    line = _RULE.sub(r"\1", line)
    return " ".join(line.split())


def pieces(line: str) -> list[str]:
    """Text and numbers of a normalised line: ``"lr=0.1 x"`` -> ``["lr=", "0.1", " x"]``."""
    out: list[str] = []
    pos = 0
    for m in _NUMBER.finditer(line):
        if m.start() > pos:
            out.append(line[pos : m.start()])
        out.append(m.group())
        pos = m.end()
    if pos < len(line):
        out.append(line[pos:])
    return out


def _is_number(s: str) -> bool:
    return bool(_NUMBER.fullmatch(s))


def line_matches(shown: str, printed: str, *, rtol: float, atol: float) -> bool:
    a, b = pieces(shown), pieces(printed)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if _is_number(x) and _is_number(y):
            fx, fy = float(x.replace("−", "-")), float(y.replace("−", "-"))
            ints = not any(c in s for s in (x, y) for c in ".eE")
            if ints and fx != fy:
                return False
            if abs(fx - fy) > atol + rtol * max(abs(fx), abs(fy)):
                return False
        elif x != y:
            return False
    return True


def compare(shown: str, printed: str, *, rtol: float = RTOL, atol: float = 0.0) -> str | None:
    """``None`` when ``printed`` is what ``shown`` shows (see the module docstring), else why not."""
    exp = [normalise(s) for s in shown.splitlines()]
    exp = [s for s in exp if s]
    act = [s for s in (normalise(s) for s in printed.splitlines()) if s]
    segments: list[list[str]] = [[]]
    for s in exp:
        if s in ELISION:
            segments.append([])
        else:
            segments[-1].append(s)
    pos = 0
    for k, seg in enumerate(segments):
        if not seg:
            continue
        starts = [pos] if k == 0 else range(pos, len(act) - len(seg) + 1)
        hit = next(
            (
                i
                for i in starts
                if i + len(seg) <= len(act)
                and all(
                    line_matches(e, a, rtol=rtol, atol=atol)
                    for e, a in zip(seg, act[i : i + len(seg)], strict=True)
                )
            ),
            None,
        )
        if hit is None:
            return f"shown lines not printed (from {_first_miss(seg, act, pos, rtol, atol)!r})"
        pos = hit + len(seg)
    if segments[-1] and pos != len(act):
        return f"printed {len(act) - pos} line(s) more than shown, from {act[pos]!r}"
    return None


def _first_miss(seg: list[str], act: list[str], pos: int, rtol: float, atol: float) -> str:
    """The first line of ``seg`` that matches no printed line after ``pos``."""
    for e in seg:
        hits = [i for i in range(pos, len(act)) if line_matches(e, act[i], rtol=rtol, atol=atol)]
        if not hits:
            return e
        pos = hits[0] + 1
    return seg[0]


def _report(block: Block, shown: str, printed: str, why: str) -> str:
    diff = "\n".join(
        difflib.unified_diff(
            [normalise(s) for s in shown.splitlines() if normalise(s)],
            [normalise(s) for s in printed.splitlines() if normalise(s)],
            "shown",
            "printed",
            lineterm="",
        )
    )
    return f"{block.id}: {why}\n--- diff (normalised) ---\n{diff}\n--- printed ---\n{printed}"


# --------------------------------------------------------------------------- running


def console_commands(text: str) -> list[tuple[str, str]]:
    """``[(command, shown output)]`` of a console block."""
    out: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("$ "):
            cmd = lines[i][2:]
            while cmd.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd.rstrip()[:-1].rstrip() + " " + lines[i].strip()
            out.append((cmd, []))
        elif out:
            out[-1][1].append(lines[i])
        i += 1
    return [(c, "\n".join(s)) for c, s in out]


@contextlib.contextmanager
def _in(directory: Path):
    old = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(old)


def run_cli(argv: list[str], width: int = WIDTH) -> tuple[int, str]:
    """``ghostmech ARGV`` in-process at ``width`` columns: (exit code, stdout + stderr)."""
    from ghostmech.cli import main
    from ghostmech.cli._app import console, err_console

    buf = io.StringIO()
    widths = console._width, err_console._width
    console.width = err_console.width = width
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = main(argv)
    finally:
        console._width, err_console._width = widths
    return rc, buf.getvalue()


def run_block(block: Block, cwd: Path) -> list[str]:
    """Run one block in ``cwd``; return the mismatches (empty: it prints what it shows)."""
    rtol = float(block.options.get("rtol", RTOL))
    atol = float(block.options.get("atol", 0.0))
    problems: list[str] = []
    with _in(cwd):
        if block.lang == "console":
            for cmd, shown in console_commands(block.text):
                argv = shlex.split(cmd)
                width = WIDTH
                if argv and argv[0].startswith("COLUMNS="):  # `$ COLUMNS=110 ghostmech ...`
                    width = int(argv.pop(0).split("=", 1)[1])
                assert argv[0] == "ghostmech", f"{block.id}: not a ghostmech command: {cmd}"
                rc, printed = run_cli(argv[1:], width)
                why = (f"exit code {rc}" if rc != 0 else None) or compare(
                    shown, printed, rtol=rtol, atol=atol
                )
                if why:
                    problems.append(_report(block, shown, printed, f"$ {cmd}: {why}"))
        elif block.lang == "python":
            buf = io.StringIO()
            code = compile(block.text, block.id, "exec")
            with contextlib.redirect_stdout(buf):
                exec(code, {"__name__": "__docs__"})
            if block.expected is not None:
                why = compare(block.expected, buf.getvalue(), rtol=rtol, atol=atol)
                if why:
                    problems.append(_report(block, block.expected, buf.getvalue(), why))
    return problems


_DONE: dict[str, list[str] | BaseException] = {}


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory):
    made: dict[str, Path] = {}

    def get(block: Block) -> Path:
        key = workspace_key(block)
        if key not in made:
            made[key] = tmp_path_factory.mktemp(re.sub(r"\W", "_", key))
        return made[key]

    return get


def _run_once(block: Block, cwd: Path) -> list[str] | BaseException:
    if block.id not in _DONE:
        try:
            _DONE[block.id] = run_block(block, cwd)
        except Exception as exc:  # recorded; re-raised by the block's own test
            _DONE[block.id] = exc
    return _DONE[block.id]


def _missing(block: Block) -> list[str]:
    """Optional packages (``needs=a,b``) of the block or its prerequisites not installed."""
    names = {
        n for b in [block, *prerequisites(block)] for n in b.options.get("needs", "").split(",")
    }
    return sorted(n for n in names if n and importlib.util.find_spec(n) is None)


def _param(block: Block):
    marks = []
    if _missing(block):
        marks.append(pytest.mark.skip(reason=f"not installed: {', '.join(_missing(block))}"))
    if "skip" in block.options:
        marks.append(pytest.mark.skip(reason=f"docs-run skip: {block.options['skip']}"))
    elif is_slow(block):
        marks.append(pytest.mark.slow)
    if "xfail" in block.options:
        marks.append(pytest.mark.xfail(strict=True, reason=block.options["xfail"]))
    return pytest.param(block, id=block.id, marks=marks)


EXECUTED = [b for b in BLOCKS if b.lang in ("console", "python")]


@pytest.mark.parametrize("block", [_param(b) for b in EXECUTED])
def test_block_prints_what_the_page_shows(block, workspaces):
    for pre in prerequisites(block):
        result = _run_once(pre, workspaces(pre))
        if isinstance(result, BaseException):
            pytest.fail(f"{block.id} needs {pre.id}, which raised {result!r}")
    # a block that already ran as another block's prerequisite is not run again (a second
    # `sweep` would only say "already finished"): its recorded result is checked here
    result = _run_once(block, workspaces(block))
    if isinstance(result, BaseException):
        raise result
    assert not result, "\n\n".join(result)


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS if b.lang == "toml"])
def test_toml_block_is_a_valid_config(block, tmp_path):
    from ghostmech.runs import load_config, resolve_config

    path = tmp_path / "block.toml"
    path.write_text(block.text)
    load_config(path)
    if "shipped" in block.options:
        name, _, variant = block.options["shipped"].partition(".")
        shipped = resolve_config(name, quick=variant == "quick")
        assert tomllib.loads(block.text) == tomllib.loads(shipped.read_text()), (
            f"{block.id} differs from the shipped {shipped.name}"
        )


SHELL = [
    pytest.param(b, line, id=f"{b.id}:{line.split('#')[0].strip()}")
    for b in BLOCKS
    if b.lang == "bash" and "skip" not in b.options
    for line in b.text.splitlines()
    if line.startswith("ghostmech ")
]


@pytest.mark.parametrize(("block", "line"), SHELL)
def test_shell_command_line_parses(block, line):
    argv = shlex.split(line, comments=True)
    rc, printed = run_cli([*argv[1:], "--help"])
    assert rc == 0, f"{block.id}: `{line}` does not parse:\n{printed}"


# --------------------------------------------------------------------------- the checker itself


def test_every_page_with_code_is_read():
    pages = {b.page for b in BLOCKS}
    assert {"README.md", "docs/guide/tutorial.md", "docs/guide/external-networks.md"} <= pages
    assert any(b.lang == "python" and b.expected for b in BLOCKS)


def test_fast_blocks_need_no_slow_block():
    for b in EXECUTED:
        if not is_slow(b):
            assert not any(is_slow(p) for p in prerequisites(b)), b.id


SHOWN = """\
┏━━━━━━━┳━━━━━━━━┓
┃ epoch ┃ loss   ┃
│ 0     │ 0.9999 │
│ 8000  │ 0.03203 │
...
done in 0:00:03
"""


def test_compare_accepts_the_same_table_with_other_widths_and_rounding():
    printed = SHOWN.replace("━━━━━━━━┓", "━━━━━━━━━━━━┓").replace("0.03203", "0.032035   ")
    printed = printed.replace("...\n", "extra line\nanother\n").replace("0:00:03", "1:02:03")
    assert compare(SHOWN, printed) is None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("0.03203", "0.0331"),  # a number off by more than rtol
        ("8000", "8001"),  # integers must be equal
        ("epoch", "epochs"),  # text
        ("│ 8000  │ 0.03203 │\n", ""),  # a shown line is missing
        ("done in 0:00:03\n", "done in 0:00:03\nnot shown\n"),  # an extra printed line
        ("│ 0     │ 0.9999 │\n", "│ 0     │ 0.9999 │\n│ 1     │ 0.9999 │\n"),  # an extra row
    ],
)
def test_compare_rejects_drift(old, new):
    assert compare(SHOWN, SHOWN.replace(old, new)) is not None


def test_console_block_commands_and_continuations():
    text = "$ ghostmech a \\\n    --b 1\nout 1\n\n$ ghostmech c\nout 2"
    assert console_commands(text) == [("ghostmech a --b 1", "out 1\n"), ("ghostmech c", "out 2")]
