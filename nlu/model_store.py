"""Model files: named and stamped with the hash of the training data, retrained when the data changes.

``<model_dir>/embedded-<first 16 hex of the hash>.joblib`` holds the model and its full hash. The hash
covers every training file (nlu/data minus test/), the SMS spelling table, the model code version and
scikit-learn's version, so editing an example, the lexicon or upgrading scikit-learn all retrain.
Model files are pickles: only load files this code wrote (the folder is ours, never user uploads).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import joblib

from nlu.embedded import MODEL_VERSION, SKLEARN_VERSION, EmbeddedModel, StepCallback
from nlu.normalize import LEXICON_FILE
from nlu.settings import NluSettings
from nlu.training_data import TrainingData, data_files, fingerprint, load

log = logging.getLogger(__name__)

TEST_FOLDER = "test"


class ModelNotTrainedError(RuntimeError):
    """No model file matches the current training data and training at start is disabled."""


def training_files(data_dir: Path) -> list[Path]:
    return data_files(data_dir, exclude=[data_dir / TEST_FOLDER])


def load_training_data(data_dir: Path) -> TrainingData:
    return load(data_dir, exclude=[data_dir / TEST_FOLDER])


def data_hash(data_dir: Path) -> str:
    return fingerprint(training_files(data_dir) + [LEXICON_FILE], MODEL_VERSION, SKLEARN_VERSION)


def model_path(model_dir: Path, digest: str) -> Path:
    return model_dir / f"embedded-{digest[:16]}.joblib"


def save(model: EmbeddedModel, model_dir: Path) -> Path:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a model."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_path(model_dir, model.data_hash)
    handle, temp_name = tempfile.mkstemp(dir=model_dir, prefix=".embedded-", suffix=".tmp")
    os.close(handle)
    try:
        joblib.dump(model, temp_name)
        os.replace(temp_name, target)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
    for stale in model_dir.glob("embedded-*.joblib"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def load_model(path: Path) -> EmbeddedModel:
    model = joblib.load(path)
    if not isinstance(model, EmbeddedModel):
        raise ValueError(f"{path}: not a Relais embedded NLU model")
    return model


def train(settings: NluSettings, on_step: StepCallback | None = None) -> tuple[EmbeddedModel, Path]:
    """Train on the settings' data folder and write the stamped model file."""
    data_dir = settings.resolved_data_dir()
    step = on_step or (lambda name: None)
    step("read")
    digest = data_hash(data_dir)
    data = load_training_data(data_dir)
    model = EmbeddedModel.train(data, digest, on_step=step)
    step("save")
    return model, save(model, settings.resolved_model_dir())


def load_or_train(settings: NluSettings) -> EmbeddedModel:
    """The model matching the current data: loaded if its file exists, else trained (and saved)."""
    data_dir = settings.resolved_data_dir()
    digest = data_hash(data_dir)
    path = model_path(settings.resolved_model_dir(), digest)
    if path.exists():
        try:
            model = load_model(path)
            if model.data_hash == digest:
                return model
            log.warning("NLU model file %s has another data hash; retraining", path)
        except Exception as exc:  # noqa: BLE001 - a corrupt cache file is rebuilt, not fatal
            log.warning("NLU model file %s unreadable (%s); retraining", path, exc)
    if not settings.train_if_needed:
        raise ModelNotTrainedError(
            f"no NLU model for the current data in {settings.resolved_model_dir()}: run `relais nlu train`"
        )
    log.info("training the NLU model (data changed or no model file)")
    model = EmbeddedModel.train(load_training_data(data_dir), digest)
    try:
        written = save(model, settings.resolved_model_dir())
    except OSError as exc:  # a read-only folder must not stop the bot: keep the model in memory
        log.warning("NLU model trained but not saved (%s); set nlu.model_dir to a writable folder", exc)
    else:
        log.info("NLU model trained in %.1f s on %d examples: %s", model.training_seconds, model.examples, written)
    return model
