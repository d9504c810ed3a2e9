"""Offline appeal classifier: suggests one of the eleven categories from the Chinese text (docs/appeals.md).

Features: TF-IDF over jieba words (with a small domain dictionary, ``data/userdict.txt``), weighted
0.5, joined with TF-IDF over character 1–2-grams; model: multinomial logistic regression (C=20),
which gives probabilities directly. Chosen by 5-fold × 3 cross-validated accuracy on the corpus
(0.879 ± 0.019) against words or characters alone, other n-gram ranges, equal weights and a
calibrated LinearSVC, all equal or worse within noise (table in docs/appeals.md, "Classification").

Training data: ``data/corpus.csv`` (hand-written appeals of the 2020 resumption, ``text,category``)
plus the handlers' corrections — confirmed appeals whose category differs from the suggestion. The
corpus is also the held-out test set: ``train`` and ``evaluate`` keep a stratified 20 % aside
(fixed seed) to measure accuracy before fitting on everything.

``suggest`` uses the model saved by ``train`` at ``VAR_DIR/appeals/classifier.joblib`` (reloaded
when the file changes), or, when there is none, a model fitted on the corpus once per process.
Department suggestions are not made here: the routing table maps a category to a department.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus.csv"
USERDICT = DATA / "userdict.txt"
FORMAT = 1  # bump when the saved payload or the features change
SEED = 0
TEST_SIZE = 0.2
C = 20.0  # inverse regularisation of the logistic regression (cross-validated, docs/appeals.md)
CORRECTION_WEIGHT = 3.0  # a handler's correction counts as much as three corpus examples
WORD_WEIGHT = 0.5  # the words' share next to the characters (cross-validated)
MODEL_NAME = "TF-IDF (jieba words ×0.5 + char 1–2-grams) + LogisticRegression(C=20)"


@dataclass(frozen=True)
class Suggestion:
    """The suggested category, its probability, and every category with its probability, best first."""

    category: str
    confidence: float
    ranked: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class TrainReport:
    """What ``train`` did: examples used, accuracy on the held-out 20 % of the corpus, where it saved."""

    n_corpus: int
    n_corrections: int
    heldout_accuracy: float
    path: Path | None
    n_test: int = 0
    baseline_accuracy: float = 0.0
    seconds: float = 0.0


# --- text → tokens (module-level functions so that a saved model can be unpickled) ---------------

_jieba_lock = threading.Lock()
_tokenizer = None
_DIGITS = re.compile(r"\d+")
_SEGMENTS = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), lower case, every run of digits → ``0``."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text or "").lower())


def _jieba():
    """Our own jieba tokenizer with the domain dictionary; built on first use, quietly."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading to stderr
                tokenizer = jieba.Tokenizer()
                tokenizer.load_userdict(str(USERDICT))  # also initialises the main dictionary
                _tokenizer = tokenizer
    return _tokenizer


def word_tokens(text: str) -> list[str]:
    """Words of the normalised text by jieba, punctuation dropped."""
    return [w for w in _jieba().lcut(normalize(text)) if _SEGMENTS.fullmatch(w)]


def char_tokens(text: str) -> list[str]:
    """Character 1–2-grams inside each run of letters and digits (never across punctuation)."""
    grams: list[str] = []
    for seg in _SEGMENTS.findall(normalize(text)):
        for n in (1, 2):
            grams.extend(seg[i : i + n] for i in range(len(seg) - n + 1))
    return grams


# --- data ------------------------------------------------------------------------------------------


def _key(text: str) -> str:
    """Texts that differ only in width, case, spaces or punctuation are the same text."""
    return "".join(_SEGMENTS.findall(unicodedata.normalize("NFKC", text or "").lower()))


def load_corpus(path: Path = CORPUS) -> list[tuple[str, str]]:
    """The labelled corpus as (text, category) pairs; unknown categories are an error."""
    from gulian.appeals.models import Category

    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            text, category = (row.get("text") or "").strip(), (row.get("category") or "").strip()
            if category not in Category.values:
                raise ValueError(f"{path.name} 第 {n} 行：未知类别 / row {n}: unknown category {category!r}")
            if text:
                rows.append((text, category))
    return rows


def load_corrections() -> list[tuple[str, str]]:
    r"""Handlers' corrections: confirmed appeals whose category differs from the suggestion.

    The text is ``title + "\n" + text`` (what ``services.submit`` classifies); for the same text
    the latest correction wins.
    """
    from django.db.models import F

    from gulian.appeals.models import Appeal, Category

    latest: dict[str, tuple[str, str]] = {}
    rows = (
        Appeal.objects.filter(category_confirmed=True, category__in=Category.values)
        .exclude(category=F("suggested_category"))
        .order_by("updated_at", "id")
        .values_list("title", "text", "category")
    )
    for title, text, category in rows.iterator(chunk_size=2000):
        full = f"{title}\n{text}"
        if _key(full):
            latest[_key(full)] = (full, category)
    return list(latest.values())


def _merge(corpus, corrections):
    """Corpus labels overridden by corrections of the same text, plus the other corrections.

    Returns (texts, labels, weights, is_corpus).
    """
    override = {_key(t): c for t, c in corrections}
    texts, labels, weights, is_corpus = [], [], [], []
    seen = set()
    for t, c in corpus:
        k = _key(t)
        texts.append(t)
        labels.append(override.get(k, c))
        weights.append(CORRECTION_WEIGHT if k in override else 1.0)
        is_corpus.append(True)
        seen.add(k)
    for t, c in corrections:
        if _key(t) not in seen:
            texts.append(t)
            labels.append(c)
            weights.append(CORRECTION_WEIGHT)
            is_corpus.append(False)
    return texts, labels, weights, is_corpus


# --- the model -------------------------------------------------------------------------------------


def build_pipeline(model: str = "logreg", c: float = C, features: str = "both"):
    """An unfitted scikit-learn pipeline; ``model`` logreg|svm, ``features`` words|chars|both."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline

    parts = []
    if features in ("words", "both"):
        parts.append(("words", TfidfVectorizer(analyzer=word_tokens, sublinear_tf=True)))
    if features in ("chars", "both"):
        parts.append(("chars", TfidfVectorizer(analyzer=char_tokens, sublinear_tf=True)))
    if not parts:
        raise ValueError(f"unknown features {features!r}")
    weights = {"words": WORD_WEIGHT, "chars": 1.0} if len(parts) == 2 else None
    if model == "logreg":
        from sklearn.linear_model import LogisticRegression

        # newton-cg reaches the same optimum as lbfgs in a tenth of the time on this corpus
        clf = LogisticRegression(C=c, solver="newton-cg", max_iter=1000)
    elif model == "svm":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        clf = CalibratedClassifierCV(LinearSVC(C=c), cv=5)
    else:
        raise ValueError(f"unknown model {model!r}")
    return Pipeline([("features", FeatureUnion(parts, transformer_weights=weights)), ("clf", clf)])


def _fit(texts, labels, weights=None):
    pipe = build_pipeline()
    pipe.fit(texts, labels, clf__sample_weight=weights)
    return pipe


class Compiled:
    """A fitted pipeline turned into plain lookups and one matrix product for ``suggest``.

    scikit-learn validates its input on every call (about 2 ms for one text); this does the same
    arithmetic directly: per vectorizer the counts of known tokens, ``(1 + ln tf) · idf`` (sublinear
    TF-IDF), L2-normalised and scaled by the union's weight; then ``softmax(x · Wᵀ + b)``, which is
    ``LogisticRegression.predict_proba`` for a multinomial model. ``pipeline`` keeps the original.
    """

    def __init__(self, pipeline):
        from sklearn.linear_model import LogisticRegression

        self.pipeline = pipeline
        union = pipeline.named_steps["features"]
        clf = pipeline.named_steps["clf"]
        self.classes = [str(c) for c in clf.classes_]
        self.fast = isinstance(clf, LogisticRegression) and clf.coef_.shape[0] == len(self.classes) > 2
        weights = union.transformer_weights or {}
        self.parts = []
        offset = 0
        for name, vec in union.transformer_list:
            self.parts.append((vec.analyzer, vec.vocabulary_, vec.idf_, offset, weights.get(name, 1.0)))
            offset += len(vec.vocabulary_)
        if self.fast:
            self.coef_t = np.ascontiguousarray(clf.coef_.T)
            self.intercept = clf.intercept_.copy()

    def proba(self, text: str):
        """Probabilities in ``classes`` order, or None when no token of the text is known."""
        if not self.fast:
            x = self.pipeline.named_steps["features"].transform([text])
            return None if x.nnz == 0 else self.pipeline.named_steps["clf"].predict_proba(x)[0]
        idx: list[int] = []
        val: list[np.ndarray] = []
        for analyzer, vocab, idf, offset, weight in self.parts:
            counts = Counter(t for t in analyzer(text) if t in vocab)
            if not counts:
                continue
            js = np.fromiter((vocab[t] for t in counts), dtype=np.intp, count=len(counts))
            v = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[js]
            val.append(v * (weight / np.sqrt(v @ v)))
            idx.extend((js + offset).tolist())
        if not idx:
            return None
        z = np.concatenate(val) @ self.coef_t[idx] + self.intercept
        z = np.exp(z - z.max())
        return z / z.sum()

    def predict(self, text: str) -> str:
        """The most likely category; ``other`` when nothing in the text is known."""
        p = self.proba(text)
        return "other" if p is None else self.classes[int(np.argmax(p))]


def _split(texts, labels, seed: int):
    """Indices of a stratified train/test split of the corpus (20 % test)."""
    from sklearn.model_selection import train_test_split

    idx = list(range(len(texts)))
    return train_test_split(idx, test_size=TEST_SIZE, random_state=seed, stratify=labels)


def model_path() -> Path:
    """Where ``train`` saves the model: ``VAR_DIR/appeals/classifier.joblib``."""
    return Path(settings.VAR_DIR) / "appeals" / "classifier.joblib"


# --- in-process cache ------------------------------------------------------------------------------

_lock = threading.Lock()
_corpus_model = None  # fitted on the corpus alone, once per process, when no saved model exists
_file_model: tuple | None = None  # ((path, mtime_ns, size), model or None when unusable)


def reset_cache() -> None:
    """Forget the loaded models (the next ``suggest`` reloads the saved file, or refits)."""
    global _corpus_model, _file_model
    with _lock:
        _corpus_model = None
        _file_model = None


def _load(path: Path):
    import joblib
    import sklearn

    try:
        payload = joblib.load(path)
    except Exception as e:  # a damaged or foreign file must not break intake
        log.warning("appeal classifier: cannot load %s (%s); using the corpus model", path, e)
        return None
    if (
        not isinstance(payload, dict)
        or payload.get("format") != FORMAT
        or payload.get("sklearn") != sklearn.__version__
    ):
        log.warning("appeal classifier: %s was saved by another version; using the corpus model (run "
                    "`gulian appeals train`)", path)  # fmt: skip
        return None
    return Compiled(payload["model"])


def _model():
    """The model ``suggest`` uses now (thread-safe; one ``stat`` per call once loaded)."""
    global _corpus_model, _file_model
    path = model_path()
    try:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is not None:
        cached = _file_model
        if cached is None or cached[0] != key:
            with _lock:
                if _file_model is None or _file_model[0] != key:
                    _file_model = (key, _load(path))
                cached = _file_model
        if cached[1] is not None:
            return cached[1]
    model = _corpus_model
    if model is None:
        with _lock:
            if _corpus_model is None:
                texts, labels, _, _ = _merge(load_corpus(), [])
                _corpus_model = Compiled(_fit(texts, labels))
            model = _corpus_model
    return model


def suggest(text: str) -> Suggestion:
    r"""The likely category of an appeal's text (title + "\n" + text), with probabilities.

    A text with no word or character the model knows (empty, punctuation only) gets ``other``
    with the uniform probability 1/11.
    """
    from gulian.appeals.models import Category

    model = _model()
    proba = model.proba(text or "")
    if proba is None:
        p = 1.0 / len(Category.values)
        ranked = [(Category.OTHER.value, p)] + [(c, p) for c in Category.values if c != Category.OTHER]
        return Suggestion(Category.OTHER.value, p, ranked)
    ranked = sorted(((c, float(p)) for c, p in zip(model.classes, proba, strict=True)), key=lambda cp: -cp[1])
    return Suggestion(ranked[0][0], ranked[0][1], ranked)


# --- training and evaluation -----------------------------------------------------------------------


def train(*, save: bool = True) -> TrainReport:
    """Fit on the corpus plus handlers' corrections; report held-out accuracy; save atomically.

    The held-out figure: fit on 80 % of the corpus (stratified, seed 0) plus the corrections whose
    text is not in the test part, score on the other 20 %. Then fit on everything, write
    ``model_path()`` through a temporary file and ``os.replace``, and drop the in-process cache so
    the next ``suggest`` uses the new model. ``save=False`` only reports (nothing written, the
    model in use is unchanged).
    """
    import sklearn

    started = time.perf_counter()
    corpus = load_corpus()
    corrections = load_corrections()
    texts, labels, weights, _ = _merge(corpus, corrections)
    n = len(corpus)
    train_idx, test_idx = _split(texts[:n], labels[:n], SEED)
    test_keys = {_key(texts[i]) for i in test_idx}
    fit_idx = train_idx + [i for i in range(n, len(texts)) if _key(texts[i]) not in test_keys]
    heldout = _fit([texts[i] for i in fit_idx], [labels[i] for i in fit_idx], [weights[i] for i in fit_idx])
    truth = [labels[i] for i in test_idx]
    predicted = heldout.predict([texts[i] for i in test_idx])
    accuracy = sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)
    baseline = _baseline_accuracy([labels[i] for i in train_idx], truth)
    path = None
    if save:
        model = _fit(texts, labels, weights)
        path = model_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT, "sklearn": sklearn.__version__, "model": model, "model_name": MODEL_NAME,
            "trained_at": dt.datetime.now(dt.UTC).isoformat(), "n_corpus": n, "n_corrections": len(corrections),
            "heldout_accuracy": accuracy,
        }  # fmt: skip
        _save(payload, path)
        reset_cache()
    return TrainReport(
        n_corpus=n, n_corrections=len(corrections), heldout_accuracy=accuracy, path=path, n_test=len(truth),
        baseline_accuracy=baseline, seconds=time.perf_counter() - started,
    )  # fmt: skip


def _save(payload: dict, path: Path) -> None:
    import joblib

    fd, tmp = tempfile.mkstemp(prefix=".classifier-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            joblib.dump(payload, f, compress=3)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the web server may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _baseline_accuracy(train_labels: list[str], test_labels: list[str]) -> float:
    """Accuracy of always answering the most frequent training category."""
    top = Counter(train_labels).most_common(1)[0][0]
    return sum(t == top for t in test_labels) / len(test_labels)


def evaluate(seed: int = SEED) -> dict:
    """Held-out figures on the corpus alone (for benchmarks/appeals.py and docs).

    Fits on a stratified 80 % (``seed``), scores the other 20 %: accuracy, macro-F1, recall per
    category, the most-frequent-class baseline, and the mean time to score one text (as ``suggest``).
    """
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    from gulian.appeals.models import Category

    corpus = load_corpus()
    texts, labels = [t for t, _ in corpus], [c for _, c in corpus]
    train_idx, test_idx = _split(texts, labels, seed)
    started = time.perf_counter()
    model = _fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
    fit_seconds = time.perf_counter() - started
    test_texts, truth = [texts[i] for i in test_idx], [labels[i] for i in test_idx]
    compiled = Compiled(model)
    started = time.perf_counter()
    predicted = [compiled.predict(t) for t in test_texts]
    per_text_ms = (time.perf_counter() - started) * 1000 / len(test_texts)
    cats = list(Category.values)
    recall = recall_score(truth, predicted, labels=cats, average=None, zero_division=0)
    return {
        "model": MODEL_NAME,
        "seed": seed,
        "n_corpus": len(texts),
        "n_train": len(train_idx),
        "n_test": len(test_idx),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=cats, average="macro", zero_division=0)), 4
        ),
        "baseline_accuracy": round(_baseline_accuracy([labels[i] for i in train_idx], truth), 4),
        "baseline": "most frequent category",
        "recall": {c: round(float(r), 4) for c, r in zip(cats, recall, strict=True)},
        "fit_seconds": round(fit_seconds, 3),
        "ms_per_text": round(per_text_ms, 3),
    }
