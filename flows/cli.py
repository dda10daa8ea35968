"""``relais flows ...``: commands about the guide library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.check import COVERAGE_FILE, INTENTS_FILE, MESSAGES_DIR, CheckPaths, check_library
from flows.library import GUIDES_DIR, MENU_FILE

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def flows() -> None:
    """The guide library: step-by-step guides residents follow by SMS."""


@app.command()
def check(
    guides_dir: Annotated[Path, typer.Option("--guides", help="Folder of guide files (*.yml).")] = GUIDES_DIR,
    menu_file: Annotated[Path, typer.Option("--menu", help="Main menu file.")] = MENU_FILE,
    coverage_file: Annotated[Path, typer.Option("--coverage", help="Which intents need guides.")] = COVERAGE_FILE,
    messages_dir: Annotated[Path, typer.Option("--messages", help="Folder of the bot's own texts.")] = MESSAGES_DIR,
    intents_file: Annotated[Path, typer.Option("--intents", help="The NLU contract (intents.yml).")] = INTENTS_FILE,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only, not warnings.")] = False,
) -> None:
    """Lint the whole library: GSM-7 and one SMS per step, branches, coverage, links, plain French.

    Prints one line per finding and a summary; exits with 1 when there is any error.
    """
    paths = CheckPaths(
        guides_dir=guides_dir, menu_file=menu_file, coverage_file=coverage_file,
        messages_dir=messages_dir, intents_file=intents_file,
    )
    report = check_library(paths, base=Path.cwd())
    for finding in report.findings:
        if quiet and finding.severity == "WARNING":
            continue
        typer.echo(str(finding))
    typer.echo(report.summary())
    raise typer.Exit(1 if report.errors else 0)
