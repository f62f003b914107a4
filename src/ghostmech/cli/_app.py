"""The root typer app and the error guard shared by every command."""

from __future__ import annotations

import sys
import tomllib

import typer
from rich.console import Console

app = typer.Typer(
    name="ghostmech",
    help="The ghost mechanism of abrupt learning in recurrent networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """The ghost mechanism of abrupt learning in recurrent networks."""


console = Console()

# Exceptions that mean "the user asked for something invalid": one line, exit 2.
try:  # pragma: no cover - import guard
    from pydantic import ValidationError as _PydanticError
except ImportError:  # pragma: no cover
    _PydanticError = ValueError  # type: ignore[misc,assignment]

USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    FileNotFoundError,
    NotADirectoryError,
    PermissionError,
    tomllib.TOMLDecodeError,
    _PydanticError,
)


def run_guarded(application: typer.Typer, argv: list[str]) -> int:
    """Run ``application`` on ``argv``; turn user errors into one line and exit code 2."""
    try:
        # With standalone_mode=False click returns the code of a raised Exit.
        rc = application(args=argv, prog_name="ghostmech", standalone_mode=False)
        if isinstance(rc, int) and not isinstance(rc, bool):
            return rc
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:  # pragma: no cover - click may still raise it
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    except USER_ERRORS as exc:
        msg = str(exc).strip().splitlines()
        first = msg[0] if msg else type(exc).__name__
        if isinstance(exc, _PydanticError):
            first = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
        err_console.print(f"[red]error:[/red] {first}", highlight=False, soft_wrap=True)
        return 2
    except Exception as exc:  # click usage errors and friends (typer vendors click)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            err_console.print(
                f"[red]error:[/red] {exc.format_message()}", highlight=False, soft_wrap=True
            )
            return int(exc.exit_code)
        if type(exc).__name__ == "Abort":
            err_console.print("[red]aborted[/red]")
            return 130
        raise
    return 0


def fail(message: str) -> None:
    """Print one error line and exit with code 2 (for checks done in a command)."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    sys.exit(2)


@app.command("version")
def version() -> None:
    """Print the ghostmech version and the numerical stack's versions."""
    import jax

    import ghostmech

    console.print(f"ghostmech {ghostmech.__version__} (jax {jax.__version__})")
