"""The root typer app and the error boundary shared by every command.

Every failure of a command ends in :func:`run_guarded`, the one place that turns
an exception into output: one line ``error: ...`` on stderr (rich markup
escaped, so ``[checkpoints]`` prints as typed), a non-zero exit code and no
traceback. Exit codes: 2 for a bad argument, file or missing optional
dependency; 1 for a command that fails (e.g. ``reproduce --strict``); 70 for an
unexpected internal error (its type and message are printed; set
``GHOSTMECH_TRACEBACK=1`` to see the traceback); 130 for Ctrl-C. Python
warnings print as one ``warning: ...`` line each.
"""

from __future__ import annotations

import inspect
import os
import sys
import tomllib
import warnings

import typer
from rich.console import Console
from rich.markup import escape
from typer.models import DefaultPlaceholder, ParameterInfo

app = typer.Typer(
    name="ghostmech",
    help="The ghost mechanism of abrupt learning in recurrent networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)
console = Console()

#: exit code of an internal error (BSD sysexits EX_SOFTWARE)
EXIT_INTERNAL = 70


def _version_callback(value: bool) -> None:
    if value:
        _print_version()
        raise typer.Exit(0)


@app.callback(
    epilog="Example: ghostmech reproduce fig3a --out results  (--help after any command for more)"
)
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version_callback,
        is_eager=True,
    ),
) -> None:  # fmt: skip
    """The ghost mechanism of abrupt learning in recurrent networks."""


# Exceptions that mean "the user asked for something invalid": one line, exit 2.
try:  # pragma: no cover - import guard
    from pydantic import ValidationError as _PydanticError
except ImportError:  # pragma: no cover
    _PydanticError = ValueError  # type: ignore[misc,assignment]

USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,  # includes UnicodeDecodeError, zipfile.BadZipFile is separate
    TypeError,
    OSError,  # files: missing, not a directory, read-only, disk full ...
    ImportError,  # a missing optional dependency (torch, distributed ...)
    tomllib.TOMLDecodeError,
    _PydanticError,
)


def one_line(text: str) -> str:
    """``text`` as one line: its lines joined by spaces (a message must fit one line)."""
    return " ".join(p.strip() for p in str(text).strip().splitlines() if p.strip())


def describe(exc: BaseException) -> str:
    """The one-line message of a user error (file errors name the file and the reason)."""
    if isinstance(exc, _PydanticError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        where = repr(str(exc.filename))
        if exc.filename2 is not None:
            where += f" -> {str(exc.filename2)!r}"
        return f"cannot use {where}: {exc.strerror}"
    if isinstance(exc, ImportError) and exc.name and str(exc).startswith("No module named"):
        return (
            f"this needs the package {exc.name!r}, which is not installed: pip install {exc.name}"
        )
    return one_line(str(exc)) or type(exc).__name__


def print_error(message: str) -> None:
    """Print ``error: message`` as one escaped line on stderr."""
    err_console.print(
        f"[red]error:[/red] {escape(one_line(message))}", highlight=False, soft_wrap=True
    )


def print_warning(message: str) -> None:
    """Print ``warning: message`` as one escaped line on stderr."""
    err_console.print(
        f"[yellow]warning:[/yellow] {escape(one_line(message))}", highlight=False, soft_wrap=True
    )


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print_warning(str(message))


def _escape_help(application: typer.Typer, seen: set[int] | None = None) -> None:
    """Escape rich markup in every help text of ``application`` (idempotent).

    Help texts are plain text: ``[grid]`` must print as typed, not vanish as a
    markup tag. Docstrings become explicit ``help``; parameter help is escaped
    in place (option objects shared by several commands are escaped once).
    """
    seen = set() if seen is None else seen
    if id(application) in seen:
        return
    seen.add(id(application))
    infos = [application.info, *application.registered_commands]
    infos += [g for g in application.registered_groups]
    for info in infos:
        callback = getattr(info, "callback", None)
        callback = callback if callable(callback) else None
        text = info.help.value if isinstance(info.help, DefaultPlaceholder) else info.help
        if text is None and callback is not None:
            text = inspect.getdoc(callback)
        if isinstance(text, str):
            info.help = escape(text)
        epilog = getattr(info, "epilog", None)
        epilog = epilog.value if isinstance(epilog, DefaultPlaceholder) else epilog
        if isinstance(epilog, str):
            info.epilog = escape(epilog)
        if callback is not None:
            for param in inspect.signature(callback).parameters.values():
                default = param.default
                if isinstance(default, ParameterInfo) and id(default) not in seen:
                    seen.add(id(default))
                    if isinstance(default.help, str):
                        default.help = escape(default.help)
        sub = getattr(info, "typer_instance", None)
        if isinstance(sub, typer.Typer):
            _escape_help(sub, seen)


_ESCAPED: set[int] = set()


def run_guarded(application: typer.Typer, argv: list[str]) -> int:
    """Run ``application`` on ``argv``: the CLI's one error boundary (see module doc)."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            _escape_help(application, _ESCAPED)
            # With standalone_mode=False click returns the code of a raised Exit.
            rc = application(args=argv, prog_name="ghostmech", standalone_mode=False)
            if isinstance(rc, int) and not isinstance(rc, bool):
                return rc
        except typer.Exit as exc:
            return int(exc.exit_code or 0)
        except SystemExit as exc:  # pragma: no cover - click may still raise it
            return int(exc.code or 0) if isinstance(exc.code, int) else 1
        except KeyboardInterrupt:
            print_error("interrupted")
            return 130
        except USER_ERRORS as exc:
            print_error(describe(exc))
            return 2
        except Exception as exc:  # click usage errors and friends (typer vendors click)
            if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
                if one_line(exc.format_message()):  # empty: no_args_is_help printed the help
                    print_error(exc.format_message())
                return int(exc.exit_code)
            if type(exc).__name__ == "Abort":
                print_error("aborted")
                return 130
            if os.environ.get("GHOSTMECH_TRACEBACK"):
                raise
            print_error(
                f"internal error ({type(exc).__name__}: {describe(exc)}); please report it with "
                "the command line (GHOSTMECH_TRACEBACK=1 shows the traceback)"
            )
            return EXIT_INTERNAL
    return 0


def fail(message: str) -> None:
    """Print one error line and exit with code 2 (for checks done in a command)."""
    print_error(message)
    sys.exit(2)


def _print_version() -> None:
    import jax

    import ghostmech

    console.print(f"ghostmech {ghostmech.__version__} (jax {jax.__version__})", highlight=False)


@app.command("version", epilog="Example: ghostmech version")
def version() -> None:
    """Print the ghostmech version and the numerical stack's versions (as --version)."""
    _print_version()
