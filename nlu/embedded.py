"""The embedded intent model: normalised text -> TF-IDF character and word n-grams -> logistic regression.

Training uses scikit-learn (``TfidfVectorizer`` x2 + ``LogisticRegression``). The fitted pipeline is then
compiled into plain vocabularies and numpy arrays (:class:`NgramTfidf`, ``coef``), so answering a
message needs neither scikit-learn nor its per-call validation: about 0.3 ms instead of 1.7 ms, and a
server that never imports scikit-learn. Tests check the compiled scorer gives scikit-learn's
probabilities.

Logistic regression was chosen over a LinearSVC with Platt scaling (CalibratedClassifierCV) or isotonic
calibration by measurement (docs/nlu.md): same accuracy, best-calibrated probabilities (expected
calibration error 0.08 in 5-fold cross-validation on the training set), so a confidence of 0.8 means
right about 8 times in 10.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import numpy as np

from nlu.contract import OUT_OF_SCOPE
from nlu.normalize import normalize
from nlu.result import IntentScore, ParseResult
from nlu.services import ServiceTable, extract_services
from nlu.training_data import TrainingData

# Bump when the features or the classifier change, so models trained by older code are retrained.
MODEL_VERSION = "embedded-3"
SKLEARN_VERSION = version("scikit-learn")
# Only the start of a very long message is read: the request is in the first lines, and cost stays flat.
MAX_CHARS = 1000
RANKING_LENGTH = 10
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)
WORD_PATTERN = r"(?u)\b\w+\b"
REGULARISATION_C = 30.0  # weak regularisation suits many sparse n-grams; probabilities stay calibrated
# A message that only names a service ("la caf", "pole emploi svp") says nothing about the need: its
# confidence is capped so the engine asks which need, offering the model's ranking. Pronote is the
# exception: the service is the intent.
SERVICE_ONLY_CONFIDENCE = 0.25
SERVICES_THAT_ARE_INTENTS = {"pronote"}
FILLER_WORDS = {
    "la", "le", "les", "l", "de", "du", "des", "d", "a", "au", "aux", "mon", "ma", "mes", "pour", "sur", "avec",
    "et", "site", "compte", "espace", "appli", "application", "svp", "bonjour", "salut", "aide", "probleme",
    "question", "cest", "c", "est", "ca", "urgent", "help",
}

log = logging.getLogger(__name__)

StepCallback = Callable[[str], None]
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass
class NgramTfidf:
    """One fitted TfidfVectorizer (sublinear tf, l2 norm), as data: same numbers, no scikit-learn."""

    analyzer: str  # "char_wb" or "word"
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int  # where this block starts in the concatenated feature vector

    def grams(self, text: str) -> list[str]:
        low, high = self.ngram_range
        grams: list[str] = []
        if self.analyzer == "char_wb":  # scikit-learn's _char_wb_ngrams
            for word in _WHITE_SPACES.sub(" ", text).split():
                padded = f" {word} "
                length = len(padded)
                for n in range(low, high + 1):
                    start = 0
                    grams.append(padded[start:start + n])
                    while start + n < length:
                        start += 1
                        grams.append(padded[start:start + n])
                    if start == 0:
                        break
            return grams
        tokens = re.findall(WORD_PATTERN, text)  # scikit-learn's _word_ngrams
        for n in range(low, high + 1):
            grams.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def features(self, text: str) -> tuple[list[int], list[float]]:
        counts = Counter(self.vocabulary[g] for g in self.grams(text) if g in self.vocabulary)
        if not counts:
            return [], []
        indices = list(counts)
        values = [(1.0 + math.log(counts[i])) * float(self.idf[i]) for i in indices]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return [self.offset + i for i in indices], [v / norm for v in values]


@dataclass
class EmbeddedModel:
    blocks: list[NgramTfidf]
    coef_t: np.ndarray  # (features, intents)
    intercept: np.ndarray  # (intents,)
    intents: list[str]
    services: ServiceTable
    data_hash: str
    trained_at: float
    training_seconds: float
    examples: int
    model_version: str = MODEL_VERSION
    sklearn_version: str = SKLEARN_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def train(cls, data: TrainingData, data_hash: str, on_step: StepCallback | None = None) -> EmbeddedModel:
        step = on_step or (lambda name: None)
        started = time.perf_counter()
        step("normalise")
        texts = [normalize(example.text) for example in data.examples]
        labels = [example.intent for example in data.examples]
        step("fit")
        pipeline = fit_pipeline(texts, labels)
        step("services")
        model = cls.from_pipeline(pipeline, ServiceTable.from_training_data(data), data_hash)
        model.training_seconds = time.perf_counter() - started
        model.examples = len(texts)
        return model

    @classmethod
    def from_pipeline(cls, pipeline: Any, services: ServiceTable, data_hash: str) -> EmbeddedModel:
        """Compile a fitted :func:`fit_pipeline` into vocabularies and arrays."""
        blocks = []
        offset = 0
        for _, vectorizer in pipeline.named_steps["features"].transformer_list:
            blocks.append(NgramTfidf(
                analyzer=vectorizer.analyzer, ngram_range=tuple(vectorizer.ngram_range),
                vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
                idf=np.asarray(vectorizer.idf_, dtype=np.float64), offset=offset,
            ))
            offset += len(vectorizer.vocabulary_)
        classifier = pipeline.named_steps["classifier"]
        return cls(
            blocks=blocks, coef_t=np.ascontiguousarray(classifier.coef_.T), intercept=classifier.intercept_.copy(),
            intents=[str(c) for c in classifier.classes_], services=services, data_hash=data_hash,
            trained_at=time.time(), training_seconds=0.0, examples=0,
        )

    def probabilities(self, normalized: str) -> np.ndarray | None:
        """Softmax over the intents (as LogisticRegression.predict_proba), or None if no feature is known."""
        indices: list[int] = []
        values: list[float] = []
        for block in self.blocks:
            block_indices, block_values = block.features(normalized)
            indices += block_indices
            values += block_values
        if not indices:
            return None
        scores = self.intercept + np.asarray(values) @ self.coef_t[indices]
        scores -= scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()

    def parse(self, text: str) -> ParseResult:
        """Intent and services of one message. Never raises: anything unexpected reads as out_of_scope."""
        try:
            return self._parse(text)
        except Exception:  # noqa: BLE001 - a resident's message must never crash the conversation
            log.exception("embedded NLU failed on a message; answering out_of_scope")
            return out_of_scope(text if isinstance(text, str) else "")

    def _parse(self, text: str) -> ParseResult:
        clipped = text[:MAX_CHARS]
        normalized = normalize(clipped)
        entities = extract_services(clipped, self.services)
        if not any(char.isalpha() for char in normalized) or not looks_like_text(clipped):
            # Nothing to read (empty, digits, punctuation, emoji, binary noise): not a request.
            return out_of_scope(text, entities)
        probabilities = self.probabilities(normalized)
        if probabilities is None:
            # Not one known word or letter group (another script, keyboard mash): off topic, not a guess.
            return out_of_scope(text, entities)
        order = np.argsort(probabilities)[::-1][:RANKING_LENGTH]
        cap = SERVICE_ONLY_CONFIDENCE if only_names_a_service(clipped, entities) else 1.0
        ranking = [IntentScore(self.intents[i], round(min(cap, float(probabilities[i])), 4)) for i in order]
        return ParseResult(text=text, intent=ranking[0], entities=entities, intent_ranking=ranking)


def fit_pipeline(texts: list[str], labels: list[str]) -> Any:
    """The scikit-learn pipeline, fitted on normalised texts (imported here: only training needs it)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, lowercase=False)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, sublinear_tf=True, lowercase=False,
                                  token_pattern=WORD_PATTERN)),
    ])
    pipeline = Pipeline([("features", features), ("classifier", LogisticRegression(C=REGULARISATION_C, max_iter=3000))])
    return pipeline.fit(texts, labels)


def only_names_a_service(text: str, entities: list) -> bool:
    """True for "la caf", "Pole emploi svp": services and filler words, nothing about the need."""
    if not entities or any(e.value in SERVICES_THAT_ARE_INTENTS for e in entities):
        return False
    rest = list(text)
    for entity in entities:
        rest[entity.start:entity.end] = " " * (entity.end - entity.start)
    return all(word in FILLER_WORDS for word in normalize("".join(rest)).split())


def looks_like_text(text: str, min_letter_share: float = 0.5) -> bool:
    """Mostly letters, once spaces, punctuation, digits and emoji are set aside.

    Binary noise decoded as text (NUL, U+FFFD, lone surrogates...) folds into stray letters ("y") the
    model would otherwise read as "yes"; control, unassigned and replacement characters count against it.
    """
    letters = noise = 0
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "L":
            letters += 1
        elif (category in {"Cc", "Cf", "Cs", "Co", "Cn"} or char == "\ufffd") and char not in "\t\n\r":
            noise += 1
    return noise == 0 or letters / (letters + noise) >= min_letter_share


def out_of_scope(text: str, entities: list | None = None) -> ParseResult:
    score = IntentScore(OUT_OF_SCOPE, 1.0)
    return ParseResult(text=text, intent=score, entities=list(entities or []), intent_ranking=[score])
