"""Fuzzed command lines to ``sweep``, ``train``, ``canonical`` and ``reproduce``: no tracebacks.

Hypothesis draws arguments (wrong types, out-of-range numbers, random text,
unknown options, bad ``--set`` overrides) and runs ``ghostmech.cli.main`` in
this process. A command that fails must print exactly one ``error:`` line
that names the option or field and says what is allowed; none may raise.
Nothing expensive can start: sweeps get a memory limit of one byte (a valid
command line stops at the memory check), ``--workers`` only gets invalid
values, ``reproduce`` only figure names or seeds that do not resolve, and
``canonical scaling`` an invalid ``--T``. The number of cases tried is
reported in the terminal summary.

Below the fuzzing, the bad inputs of issue 16 one by one: every ``import`` format
and file kind (torch files only where torch is installed, and a torch-less
install simulated by making ``import torch`` fail), file-system faults (a file
where a folder is wanted, a path under a file, a read-only folder), canonical
options that used to be ignored, square brackets in messages and help, and an
unexpected internal error: each one clean line and a non-zero exit.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ghostmech.cli import main
from ghostmech.paper import resolve

TEXT = st.text(
    st.characters(max_codepoint=0x2FFF, exclude_categories=["Cs", "Cc"]), min_size=0, max_size=6
)
BAD_FLOAT = st.sampled_from(
    ["abc", "", "nan", "inf", "-inf", "-1", "0", "1e999", "1,5", "0x10", "-0", "1e-30"]
) | TEXT.filter(lambda s: not s.startswith("-"))
BAD_INT = st.sampled_from(["1.5", "-3", "x", "", "1e3", "0", "-1", "99999999999999999999"])
NOT_POSITIVE = st.sampled_from(["-1", "0", "nan", "inf", "-inf", "abc", "", "1e999"])
BAD_PATH = st.sampled_from(["/dev/null/x.png", "/proc/no/such/dir/x.png"])
WORD = st.sampled_from(["raw", "per_T", "closed", "euler", "bogus", "", "RAW", "x y"])
ALLOWED = re.compile(
    r"must|should|allowed|one of|required|expected|valid|needs|at most|no such option|"
    r"TOML|UTF-8|memory limit|neither|does not exist|missing|not a|got|exclude|requires|"
    r"supported|instead|rerun|existing file|writable|only appl|ambiguous|not on the grid",
    re.IGNORECASE,
)
COUNT = {"cases": 0, "failed": 0}

CANONICAL = {  # option -> values; a command's options, most values wrong or out of range
    "critical-lr": {"--T": BAD_FLOAT, "--R": BAD_FLOAT, "--scale": WORD, "--seed": BAD_INT},
    "landscape": {"--T": BAD_FLOAT, "--R": BAD_FLOAT, "--beta": BAD_FLOAT, "--x-theta": BAD_FLOAT,
                  "--scale": WORD, "--method": WORD, "--lo": BAD_FLOAT, "--hi": BAD_FLOAT,
                  "--points": BAD_INT},
    "descend": {"--eps-init": BAD_FLOAT, "--lr": BAD_FLOAT, "--epochs": BAD_INT, "--T": BAD_FLOAT,
                "--R": BAD_FLOAT, "--beta": BAD_FLOAT, "--x-theta": BAD_FLOAT, "--scale": WORD},
    "scaling": {"--R": BAD_FLOAT, "--scale": WORD, "--seed": BAD_INT, "--plot": BAD_PATH},
}  # fmt: skip
# Bugs this fuzz found earlier are fixed and kept as regression tests below
# (test_subnormal_delay..., test_infinite_landscape..., test_huge_epoch_count...).
KNOWN_BUGS: dict[tuple[str, str], set[str]] = {}
SET_KEYS = st.sampled_from(
    ["network.n", "network.rank", "training.epochs", "training.lr", "grid.seed", "grid.lr",
     "task.name", "task.timings", "network.readout", "training.backend", "bogus", "grid.bogus",
     "network", "", "a..b", "training.chunk", "checkpoints.every", "network.alpha"]
)  # fmt: skip
SET_VALUES = st.sampled_from(
    ["-1", "0", "3", "0.5", "'x'", "x", "[1, 1]", "[]", "{start=1}", "true", "nan", "[", "1e999",
     "{", "'full'", "[0.1, -0.1]", '"da"', "{delay=5}", "inf"]
)  # fmt: skip


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    return rc, err.getvalue()


def _names(argv: list[str]) -> set[str]:
    """Names an error may use for what it rejects: options, their parameters, --set keys."""
    names = {"config", "figure", "memory limit", "option", "argument", "command"}
    for a in argv:
        if a.startswith("--"):
            names |= {a, a[2:], a[2:].replace("-", "_")}
        elif "=" in a:
            key = a.split("=", 1)[0]
            names |= {key, "--set", *[p for p in key.split(".") if len(p) > 2]}
    return {n for n in names if n}


def _check(argv: list[str], *, may_succeed: bool = False, says: str | None = None) -> str:
    """One ``error:`` line naming an option, field or ``says``; non-zero exit; no traceback."""
    COUNT["cases"] += 1
    COUNT["failed"] += 1  # until every check below passes
    rc, err = _run(argv)
    assert "Traceback" not in err, err
    if rc == 0 and may_succeed:
        COUNT["failed"] -= 1
        return ""
    lines = err.strip().splitlines()
    assert rc != 0 and len(lines) == 1 and lines[0].startswith("error:"), (argv, rc, err)
    message = lines[0]
    if says is not None:
        assert says in message, (argv, message)
    else:
        assert any(n in message for n in _names(argv)), (argv, message)
    assert ALLOWED.search(message), (argv, message)
    COUNT["failed"] -= 1
    return message


class _Report:
    """Prints the number of fuzzed cases in pytest's terminal summary (with or without -s)."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            f"test_cli_fuzz: {COUNT['cases']} fuzzed command lines tried, "
            f"{COUNT['failed']} without one clean error line"
        )


@pytest.fixture(scope="module", autouse=True)
def report_count(request):
    if not request.config.pluginmanager.has_plugin("ghostmech-cli-fuzz"):
        request.config.pluginmanager.register(_Report(), "ghostmech-cli-fuzz")
    return COUNT


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def fast(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def sweep_argv(draw, workdir) -> list[str]:
    command = draw(st.sampled_from(["sweep", "train"]))
    config = draw(st.sampled_from(["fig6a_rank1", "fig6b", "nope.toml", "fig9z"]) | TEXT)
    argv = [command, config, "--out", str(workdir / "never-written")]
    argv += draw(st.sampled_from([[], ["--quick"], ["--full"]]))
    for _ in range(draw(st.integers(0, 3))):
        argv += ["--set", f"{draw(SET_KEYS)}={draw(SET_VALUES)}"]
    if command == "sweep":
        if draw(st.booleans()):
            argv += ["--networks-per-task", draw(BAD_INT | st.sampled_from(["1", "7"]))]
        if draw(st.booleans()):
            argv += ["--workers", draw(BAD_INT)]  # never a valid count: no cluster starts
            if draw(st.booleans()):
                argv += ["--scheduler", draw(TEXT)]
    if draw(st.booleans()):
        argv += [draw(st.sampled_from(["--bogus", "--set", "-x", "--out"]))]
    argv += ["--memory-limit-gb", "1e-9"]
    if draw(st.booleans()):
        argv += ["--memory-limit-gb", draw(NOT_POSITIVE)]
    return argv


@fast(45)
@given(data=st.data())
def test_fuzzed_sweep_and_train_arguments(data, workdir):
    argv = data.draw(sweep_argv(workdir))
    _check(argv)
    assert not (workdir / "never-written").exists()


@fast(45)
@given(command=st.sampled_from(sorted(CANONICAL)), data=st.data())
def test_fuzzed_canonical_arguments(command, data):
    options = CANONICAL[command]
    argv = ["canonical", command]
    if command == "scaling":  # an invalid delay: the measurement never starts
        argv += ["--T", data.draw(NOT_POSITIVE)]
    chosen = data.draw(st.lists(st.sampled_from(sorted(options)), min_size=1, max_size=2))
    for name in chosen:
        value = data.draw(options[name])
        assume(value not in KNOWN_BUGS.get((command, name), ()))
        argv += [name, value]
    _check(argv, may_succeed=True)


@fast(30)
@given(names=st.lists(TEXT | st.sampled_from(["fig0", "fig99", "all!", "figure1", ""]),
                      min_size=0, max_size=2),
       seed=st.none() | BAD_INT, data=st.data())  # fmt: skip
def test_fuzzed_reproduce_arguments(names, seed, data, workdir):
    try:
        resolve(names)
        valid_names = True
    except ValueError:
        valid_names = False
    bad_seed = seed is not None and not seed.isdigit()
    assume(not valid_names or bad_seed)  # never run a figure
    argv = ["reproduce", *names, "--out", str(workdir / "repro")]
    argv += [] if seed is None else ["--seed", seed]
    argv += data.draw(st.sampled_from([[], ["--quick"], ["--full"], ["--bogus"]]))
    _check(argv)
    assert not any((workdir / "repro").glob("fig*"))


def test_subnormal_delay_is_a_clean_error():
    _check(["canonical", "critical-lr", "--T", "1e-320"])


def test_infinite_landscape_range_is_a_clean_error():
    _check(["canonical", "landscape", "--hi", "inf"])


def test_huge_epoch_count_is_a_clean_error():
    _check(["canonical", "descend", "--epochs", "99999999999999999999"])


# --- the bad inputs of issue 16, one by one, and their file-system relatives ------------
#
# Root ignores permission bits, so "read-only" is simulated two ways: a path under a
# regular file (Not a directory: a real OS error) and, for the run folder itself, a
# probe write that fails with EROFS (monkeypatched; what a read-only mount gives).


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    np.savez(d / "x.npz", W=0.5 * np.eye(4), b=np.zeros(4), W_in=np.ones((4, 1)), alpha=0.5)
    np.savez(d / "badshape.npz", W=0.5 * np.eye(10), b=np.zeros(3), alpha=0.5)
    np.savez(d / "badwin.npz", W=0.5 * np.eye(10), W_in=np.zeros(3), alpha=0.5)
    np.savez(d / "badout.npz", W=0.5 * np.eye(10), w_out=np.zeros((1, 3)), alpha=0.5)
    (d / "text.npz").write_text("hello, not an archive\n")
    (d / "good.toml").write_text('name = "x"\n')
    (d / "afile.txt").write_text("x")
    with zipfile.ZipFile(d / "rnn.pt", "w") as zf:  # torch.save's layout; replaced below
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")  # when torch is installed
    try:
        import torch
    except ImportError:
        return d
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(3, 8).state_dict(), d / "rnn.pt")
    torch.save(torch.nn.RNN(3, 8), d / "module.pt")
    torch.save(torch.nn.LSTM(3, 8).state_dict(), d / "lstm.pt")
    torch.save(torch.nn.GRU(3, 8).state_dict(), d / "gru.pt")
    torch.save(torch.nn.RNN(3, 8, num_layers=2).state_dict(), d / "two_layers.pt")
    return d


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished 2-network sweep (2 blocks of 1 network), 20 epochs: seconds."""
    out = tmp_path_factory.mktemp("run") / "run"
    argv = ["sweep", "fig3a", "--out", str(out), "--set", "training.epochs=20", "--set",
            "checkpoints.epochs=[0,10,20]", "--set", "training.chunk=20", "--set", "grid.seed=2",
            "--networks-per-task", "1"]  # fmt: skip
    assert _run(argv)[0] == 0
    return out


@pytest.fixture
def read_only(monkeypatch):
    """Make every folder under the returned set unwritable (EROFS), as a read-only mount."""
    import errno

    import ghostmech.cli._outputs as outputs

    frozen: set = set()
    probe = outputs._probe

    def fake(folder):
        if any(folder == f or f in folder.parents for f in frozen):
            raise OSError(errno.EROFS, "Read-only file system", str(folder))
        probe(folder)

    monkeypatch.setattr(outputs, "_probe", fake)
    return frozen


IMPORT_CASES = [  # (argv after "import" with files relative to `files`, needs torch, says)
    (["good.toml"], False, "neither a numpy .npz archive nor a torch.save file"),
    (["text.npz"], False, "neither a numpy .npz archive nor a torch.save file"),
    (["x.npz", "--format", "torch-rnn"], False, "not a torch.save file"),
    (["x.npz", "--format", "torch-state-dict"], False, "not a torch.save file"),
    (["x.npz", "--format", "bogus"], False, "--format"),
    (["x.npz", "--n-starts", "0"], False, "--n-starts"),
    (["x.npz", "--alpha", "0"], False, "--alpha"),
    (["x.npz", "--key", "nokey"], False, "--key"),
    (["x.npz", "--key", "w=missing"], False, "'missing'"),
    (["badshape.npz"], False, "'b'"),
    (["badwin.npz"], False, "'W_in'"),
    (["badout.npz"], False, "'w_out'"),
    (["x.npz", "--out", "afile.txt"], False, "--out"),
    (["x.npz", "--out", "afile.txt/sub"], False, "--out"),
    (["x.npz", "--save", "afile.txt/y.npz"], False, "--save"),
    (["missing.npz"], False, "missing.npz"),
    (["module.pt"], True, "state_dict"),
    (["lstm.pt"], True, "nn.LSTM"),
    (["gru.pt"], True, "nn.GRU"),
    (["two_layers.pt"], True, "several layers"),
    (["rnn.pt", "--alpha", "0.5"], True, "alpha"),
    (["rnn.pt", "--format", "npz"], True, "not a numpy .npz"),
]


@pytest.mark.parametrize(("args", "torch_file", "says"), IMPORT_CASES,
                         ids=[" ".join(c[0]) for c in IMPORT_CASES])  # fmt: skip
def test_import_bad_inputs(files, monkeypatch, args, torch_file, says):
    if torch_file:
        pytest.importorskip("torch")
    monkeypatch.chdir(files)
    _check(["import", *args], says=says)


def test_import_without_torch(files, monkeypatch):
    """A torch-less install: a .pt file says what to install; an .npz still works."""
    monkeypatch.chdir(files)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    _check(["import", "rnn.pt"], says="needs PyTorch")
    rc, err = _run(["import", "x.npz", "--n-starts", "2"])
    assert rc == 0 and "Traceback" not in err


def test_import_prints_missing_arrays_as_warnings(files, monkeypatch):
    monkeypatch.chdir(files)
    rc, err = _run(["import", "x.npz", "--n-starts", "2"])
    assert rc == 0
    assert err.strip().splitlines() == [
        "warning: 'x.npz': no readout weights found (looked for w_out, W_out, readout.weight, "
        "output.weight, fc.weight, linear.weight, decoder.weight, head.weight, out.weight); "
        "using w_out = 0"
    ]


def test_canonical_bad_inputs(files, monkeypatch):
    monkeypatch.chdir(files)
    _check(["canonical", "critical-lr", "--measure", "--R", "0"], says="--R")
    _check(["canonical", "critical-lr", "--scale", "foo"], says="--scale")
    _check(["canonical", "critical-lr", "--plot", "x.png"], says="--measure")
    _check(["canonical", "critical-lr", "--measure", "--plot", "afile.txt/p.png"], says="--plot")
    _check(["canonical", "scaling", "--T", "100", "--T", "100"], says="two different delays")
    _check(["canonical", "landscape", "--plot", "afile.txt/p.png"], says="--plot")
    assert not (files / "x.png").exists()


def test_messages_keep_square_brackets():
    """Rich markup must not eat [words]: errors and help print them as typed."""
    message = _check(["canonical", "landscape", "--points", "1"])
    assert "[2, 100000]" in message
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["train", "--help"]) == 0
    assert "the [grid] is ignored" in out.getvalue()


def test_every_command_has_an_example_and_no_spec_reference():
    from ghostmech.cli import _register, app

    _register()
    commands = ["configs", "sweep", "train", "analyze", "report", "import", "reproduce",
                "version", "critical-lr", "canonical", "canonical critical-lr", "canonical landscape",
                "canonical descend", "canonical scaling"]  # fmt: skip
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == {c.split()[0] for c in commands}  # every command is listed here
    for command in ["", *commands]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main([*command.split(), "--help"]) == 0
        text = out.getvalue()
        assert "Example" in text and "ghostmech " in text.split("Example")[1], command
        assert "SPEC" not in text, command


def test_version_option():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--version"]) == 0
    import ghostmech

    assert out.getvalue().startswith(f"ghostmech {ghostmech.__version__}")


def test_sweep_and_reproduce_output_faults(files, monkeypatch):
    monkeypatch.chdir(files)
    _check(["reproduce", "fig1", "--out", "afile.txt"], says="existing file")
    _check(["reproduce", "fig1", "--out", "afile.txt/sub"], says="--out")
    _check(["sweep", "fig3a", "--out", "afile.txt"], says="existing file")
    message = _check(["sweep", "fig3a", "--set", "network.n=-1", "--out", "never"])
    assert "fig3a (shipped, quick) with --set network.n=-1" in message
    assert "configs/" not in message and ".toml" not in message  # not the package's file


def test_reproduce_into_a_read_only_folder(files, monkeypatch, read_only):
    monkeypatch.chdir(files)
    (files / "ro").mkdir(exist_ok=True)
    read_only.add(files / "ro")
    _check(["reproduce", "fig1", "--out", str(files / "ro")], says="Read-only file system")
    _check(["import", "x.npz", "--out", str(files / "ro")], says="Read-only file system")


def test_analyze_and_report_output_faults(tiny_run, files, read_only):
    afile = str(files / "afile.txt")
    _check(["analyze", str(tiny_run), "--out", afile], says="existing file")
    _check(["analyze", str(tiny_run), "--out", afile + "/sub"], says="--out")
    _check(["report", str(tiny_run), "--out", afile + "/r.html"], says="--out")
    _check(["analyze", str(tiny_run), "--n-starts", "0"], says="--n-starts")
    read_only.add(tiny_run)  # the run folder is read-only: say so, and how to go on
    _check(["analyze", str(tiny_run)], says="give --out FOLDER elsewhere")
    _check(["report", str(tiny_run)], says="give --out FILE elsewhere")


def test_damaged_run_config_names_the_file(tiny_run, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_run, bad)
    (bad / "config.toml").write_text("name = [\n")
    _check(["analyze", str(bad)], says=str(bad / "config.toml"))
    _check(["sweep", "fig3a", "--out", str(bad)], says=str(bad / "config.toml"))


def test_internal_error_is_one_line_without_traceback(monkeypatch):
    import ghostmech.cli.canonical as canonical

    def boom(*args, **kwargs):
        raise RuntimeError("something [broke]")

    monkeypatch.setattr(canonical, "_common", boom)
    rc, err = _run(["canonical", "critical-lr"])
    assert rc == 70 and "Traceback" not in err
    assert err.strip() == (
        "error: internal error (RuntimeError: something [broke]); please report it with the "
        "command line (GHOSTMECH_TRACEBACK=1 shows the traceback)"
    )


# --- fuzzed network files: whatever the arrays, import succeeds or says why in one line ---

KEYS = st.sampled_from(
    ["W", "w", "J", "m", "nT", "b", "bias", "W_in", "w_out", "b_out", "r0", "alpha", "meta",
     "weight_hh_l0", "weight_ih_l0", "bias_ih_l0", "bias_hh_l0", "rnn.weight_hh_l0",
     "rnn.weight_ih_l0", "rnn.bias_ih_l0", "weight_hh_l1", "readout.weight", "readout.bias",
     "head.weight", "junk"]
)  # fmt: skip
SHAPES = st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple)
VALUES = st.sampled_from(["float", "int", "nan", "text", "bool"])


def _array(kind: str, shape: tuple) -> np.ndarray:
    if kind == "text":
        return np.full(shape, "x")
    if kind == "bool":
        return np.ones(shape, bool)
    x = np.full(shape, 0.3) if kind != "nan" else np.full(shape, np.nan)
    return x.astype(int) if kind == "int" else x


@fast(60)
@given(arrays=st.dictionaries(KEYS, st.tuples(VALUES, SHAPES), max_size=6),
       container=st.sampled_from(["npz", "torch", "bytes"]),
       fmt=st.sampled_from(["auto", "npz", "torch-rnn", "torch-state-dict"]),
       alpha=st.sampled_from([None, 0.5, 1.0, -1.0]), data=st.data())  # fmt: skip
def test_fuzzed_network_files(arrays, container, fmt, alpha, data, workdir):
    """`read_network` (what ``ghostmech import`` calls) returns a network or raises an
    error the CLI prints as one line (ValueError / ImportError / OSError); nothing else."""
    from ghostmech.networks.external import read_network

    COUNT["cases"] += 1
    path = workdir / "net.file"
    content = {k: _array(kind, shape) for k, (kind, shape) in arrays.items()}
    if container == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=40)))
    elif container == "npz":
        with path.open("wb") as fh:
            np.savez(fh, **content)
    else:
        torch = pytest.importorskip("torch")
        tensors = {
            k: torch.from_numpy(v.copy()) for k, v in content.items() if v.dtype.kind in "fib"
        }
        torch.save(tensors, path)
    try:
        got = read_network(path, fmt=fmt, alpha=alpha)
    except (ValueError, ImportError, OSError):
        return
    assert got.net.b.shape == (got.net.n,)
    assert set(got.unused) <= set(content)


def test_import_skips_the_fast_transient_by_the_second_slowest_eigenvalue():
    """5 e-folds of the slowest transverse mode (|Re λ₂|), at most half the free run."""
    from ghostmech.cli.external import TRANSIENT_E_FOLDS, _transient

    assert _transient([-1e-9, -0.5 + 0.3j, -0.5 - 0.3j, -2.0]) == int(TRANSIENT_E_FOLDS / 0.5)
    assert _transient([1e-9, -2.0, -4.0]) == 3  # ceil(5 / 2)
    assert _transient([0.0, -1e-3], n_steps=200) == 100  # capped at half the run
