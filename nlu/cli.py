"""``relais nlu train | parse | test``: the same verbs as Rasa's CLI, for the embedded model."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from nlu import model_store
from nlu.evaluation import evaluate, write_results
from nlu.parser import build_parser
from nlu.settings import NluSettings
from nlu.training_data import TrainingDataError, load

app = typer.Typer(help="Train, try and evaluate the NLU (intent + service).", no_args_is_help=True)
console = Console(stderr=True)

TRAINING_STEPS = ["read", "normalise", "fit", "services", "save"]
STEP_LABELS = {
    "read": "Reading training data",
    "normalise": "Normalising examples",
    "fit": "Fitting n-gram features and classifier",
    "services": "Building the service synonym table",
    "save": "Writing the model file",
}

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="config.yml to read (default: ./config.yml if present).")
]
ModelDirOption = Annotated[Path | None, typer.Option("--model-dir", help="Override nlu.model_dir.")]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Override nlu.data_dir (training data).")]


def load_nlu_settings(config: Path | None = None, **overrides: object) -> NluSettings:
    """The ``nlu`` section of the app's configuration, or defaults when the app is not installed."""
    try:
        from bot.config import ConfigError, load_settings
    except ImportError:
        settings = NluSettings()
    else:
        try:
            settings = load_settings(config).nlu
        except ConfigError as exc:
            typer.secho(str(exc), err=True, fg="red")
            raise typer.Exit(code=2) from exc
    updates = {key: value for key, value in overrides.items() if value is not None}
    return NluSettings.model_validate({**settings.model_dump(), **updates}) if updates else settings


@app.command()
def train(config: ConfigOption = None, model_dir: ModelDirOption = None, data_dir: DataDirOption = None) -> None:
    """Train the embedded model on the training data and write a model file stamped with the data's hash."""
    settings = load_nlu_settings(config, model_dir=model_dir, data_dir=data_dir)
    with Progress(
        TextColumn("{task.description:<42}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=console,
    ) as progress:
        task = progress.add_task(STEP_LABELS["read"], total=len(TRAINING_STEPS))
        seen: list[str] = []

        def on_step(name: str) -> None:
            if seen:
                progress.advance(task)
            seen.append(name)
            progress.update(task, description=STEP_LABELS.get(name, name))

        try:
            model, path = model_store.train(settings, on_step=on_step)
        except TrainingDataError as exc:
            typer.secho(str(exc), err=True, fg="red")
            raise typer.Exit(code=2) from exc
        progress.update(task, completed=len(TRAINING_STEPS), description="Done")
    typer.echo(json.dumps({
        "model_file": str(path),
        "data_hash": model.data_hash,
        "examples": model.examples,
        "intents": len(model.intents),
        "training_seconds": round(model.training_seconds, 2),
    }, indent=2))


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help="The message, as a resident would text it.")],
    config: ConfigOption = None,
    model_dir: ModelDirOption = None,
) -> None:
    """Print the parse of one message as Rasa's /model/parse JSON."""
    settings = load_nlu_settings(config, model_dir=model_dir)
    result = build_parser(settings).parse(text)
    typer.echo(json.dumps(result.to_rasa(), indent=2, ensure_ascii=False))


@app.command()
def test(
    data: Annotated[
        Path | None, typer.Option("--data", help="A Rasa NLU YAML file or folder (default: the held-out split).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Results folder (default: results/nlu-<time>).")] = None,
    config: ConfigOption = None,
    model_dir: ModelDirOption = None,
) -> None:
    """Evaluate on a labelled set: summary, per-intent report, confusion matrix PNG, misclassified examples."""
    settings = load_nlu_settings(config, model_dir=model_dir)
    data_path = data or settings.resolved_data_dir() / model_store.TEST_FOLDER
    try:
        labelled = load(data_path)
    except TrainingDataError as exc:
        typer.secho(str(exc), err=True, fg="red")
        raise typer.Exit(code=2) from exc
    if not labelled.examples:
        typer.secho(f"{data_path}: no intent examples found", err=True, fg="red")
        raise typer.Exit(code=2)
    labelled.synonyms = {**model_store.load_training_data(settings.resolved_data_dir()).synonyms,
                         **labelled.synonyms}
    parser = build_parser(settings)
    evaluation = evaluate(parser.parse, labelled)
    out_dir = out or Path("results") / time.strftime("nlu-%Y%m%d-%H%M%S")
    paths = write_results(evaluation, out_dir)
    summary = {**evaluation.summary(), "data": str(data_path), "files": {k: str(v) for k, v in paths.items()}}
    typer.echo(json.dumps(summary, indent=2))
