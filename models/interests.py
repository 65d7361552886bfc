"""The interest model's recipe: a frozen hashed-word encoder, a small head, a temperature.

Architecture (what ``interests.tflite`` computes; :func:`forward` is the NumPy reference):

1. **Input**: hashed unigram counts of the text (CRC-32 folded to ``H`` = 2^15 buckets),
   ``log1p``, times the inverse document frequency, L2-normalised: weights ``a`` over the
   text's buckets (the old linear model's TF-IDF input).
2. **Encoder** (frozen; ``int8`` rows with one ``float32`` scale per bucket):
   ``z = Σ_k a_k · scale_k · codes[idx_k] + sub_bias``, one logit per *sub-label*. A
   sub-label is one label as one corpus writes about it (technology in Reddit posts, in AG
   News, in Usenet): the rows are a multinomial logistic regression over those 47
   sub-labels, so the encoder is an embedding bag learned supervised, one dimension per
   sub-label, and news and posts about the same topic do not have to share one direction.
3. **Aggregation** (fixed): ``g = log(softmax(z) · A)``, the log-probability of each of the
   ``C`` labels (``A`` sums the sub-labels of a label).
4. **Whitening** (fixed): ``h = (max(g, F) − μ) · P`` with the floor ``F`` =
   :data:`LOG_PROB_FLOOR`, ``μ`` the mean floored log-probability of each label over the
   training texts and ``P = U · diag(λ + r·mean(λ))^(-1/2)`` from the eigen-decomposition
   ``U diag(λ) Uᵀ`` of their covariance (ridge ``r`` = :data:`WHITENING_RIDGE`). The raw
   log-probabilities span 0 to about −28, on different scales per label and strongly
   correlated (one text's labels rise and fall together), so SGD on them was steep and
   jagged and federated rounds stalled far from centralized fine-tuning; whitened, every
   direction has unit variance and one learning rate suits all (measured in
   ``scripts/bench_adaptation.py`` and ``scripts/bench_population.py``, docs/benchmarks.md).
5. **Head** (trainable, what ``get_weights``/``set_weights``/``train`` cover):
   ``logits = (h · W + b) / T`` with ``W`` ``[C, C]`` and ``b`` ``[C]``, and the temperature
   ``T`` fitted on the validation split (a constant). At build time ``W = P⁻¹`` and
   ``b = μ``, so ``h · W + b = max(g, F)``: the shipped model reads the encoder's floored
   label log-probabilities unchanged. ``C·C + C`` = 1,332 float32 values: a 5.3 kB update.
6. ``probs = softmax(logits)``: calibrated probabilities over the ``C`` labels.

Why this design (measured on reddit-top2013, see the model card): the logistic-regression
rows beat a fastText-style embedding bag learned by SGD, and sub-labels per corpus read AG
News and 20 Newsgroups far better than one row per label, within the 2 MB budget; fitting
is deterministic (lbfgs), so the build is bit-identical without seeding a training loop.
Everything here is NumPy/scikit-learn: the benchmark refits the recipe without AG News.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from edge_client.taxonomy import Taxonomy
from edge_client.text.features import TextCounts
from edge_client.text.hashing import sparse_input
from models.data import Doc, Source

__all__ = [
    "AGNEWS_TARGETS",
    "HASH_DIM",
    "LOG_PROB_FLOOR",
    "MAX_CELL_WEIGHT",
    "REGULARISATION_C",
    "WHITENING_RIDGE",
    "InterestModel",
    "SubLabels",
    "agnews_transfer",
    "design_matrix",
    "evaluate",
    "expected_calibration_error",
    "fit_idf",
    "fit_model",
    "fit_temperature",
    "forward",
    "quantize_rows",
    "softmax",
    "sub_labels",
    "top_k_scores",
    "whitened",
    "whitening",
]

HASH_DIM = 2**15
"""Buckets of the hashed unigram input."""
REGULARISATION_C = 10.0
"""Inverse L2 strength of the encoder's logistic regression (chosen on the validation split)."""
MAX_CELL_WEIGHT = 3.0
"""Largest weight one text of a small sub-label gets (see :func:`sub_labels`)."""
LOG_PROB_FLOOR = -16.0
"""Floor of the label log-probabilities the head reads (0.24 % of real values lie below it)."""
WHITENING_RIDGE = 0.01
"""Added to each eigenvalue, times their mean: bounds the whitening's gain on rare directions."""
_MAX_ITER = 1000
_TOL = 1e-4
_EPS = 1e-12

Float = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SubLabels:
    """The encoder's output units: one per (label, corpus) pair seen in training.

    Attributes
    ----------
    names : tuple of str
        ``"<label>/<corpus>"`` of each sub-label, in encoder column order.
    label_of : numpy.ndarray
        ``[F]`` index into the labels of each sub-label.
    of_doc : numpy.ndarray
        ``[N]`` sub-label of each training document.
    weights : numpy.ndarray
        ``[N]`` training weight of each document: within each corpus every sub-label
        weighs about as much as the corpus's median sub-label (at most
        :data:`MAX_CELL_WEIGHT` per text), so no label's prior comes from how many
        documents a corpus happens to have on it.
    """

    names: tuple[str, ...]
    label_of: npt.NDArray[np.intp]
    of_doc: npt.NDArray[np.intp]
    weights: npt.NDArray[np.float64]

    def aggregation(self, classes: int) -> npt.NDArray[np.float64]:
        """``[F, C]`` 0/1 matrix summing sub-label probabilities into label probabilities."""
        a = np.zeros((len(self.names), classes))
        a[np.arange(len(self.names)), self.label_of] = 1.0
        return a


def sub_labels(docs: Sequence[Doc], labels: Sequence[str]) -> SubLabels:
    """Sub-labels, their labels and the document weights of a training set."""
    index = {label: i for i, label in enumerate(labels)}
    order = sorted(
        {(index[d.label], d.source.value) for d in docs}, key=lambda cell: (cell[0], cell[1])
    )
    column = {cell: j for j, cell in enumerate(order)}
    of_doc = np.array([column[(index[d.label], d.source.value)] for d in docs], np.intp)
    sizes = np.bincount(of_doc, minlength=len(order)).astype(np.float64)
    source = np.array([cell[1] for cell in order])
    target = {s: float(np.median(sizes[source == s])) for s in set(source.tolist())}
    per_cell = np.array(
        [min(target[source[j]] / sizes[j], MAX_CELL_WEIGHT) for j in range(len(order))]
    )
    return SubLabels(
        names=tuple(f"{labels[i]}/{s}" for i, s in order),
        label_of=np.array([i for i, _ in order], np.intp),
        of_doc=of_doc,
        weights=per_cell[of_doc],
    )


@dataclass(frozen=True)
class InterestModel:
    """The fitted parts of the interest model (what the ``.tflite`` file holds).

    Attributes
    ----------
    idf : numpy.ndarray
        ``[H]`` float32 inverse document frequencies.
    codes : numpy.ndarray
        ``[H, F]`` int8 encoder rows (one column per sub-label).
    scale : numpy.ndarray
        ``[H]`` float32 scale of each encoder row.
    sub_bias : numpy.ndarray
        ``[F]`` float32 encoder intercepts.
    aggregation : numpy.ndarray
        ``[F, C]`` float32 0/1 sub-label → label matrix.
    centre : numpy.ndarray
        ``[C]`` float32 mean of each label's floored log-probability over the training texts.
    whitening : numpy.ndarray
        ``[C, C]`` float32 whitening matrix ``P`` (step 4 of the module doc).
    w, b : numpy.ndarray
        Head ``[C, C]`` and ``[C]`` float32 (trainable).
    temperature : float
        Calibration temperature (logits are divided by it).
    labels : tuple of str
        Output labels, in order.
    sub_label_names : tuple of str
        ``"<label>/<corpus>"`` of each encoder column.
    """

    idf: Float
    codes: npt.NDArray[np.int8]
    scale: Float
    sub_bias: Float
    aggregation: Float
    centre: Float
    whitening: Float
    w: Float
    b: Float
    temperature: float
    labels: tuple[str, ...]
    sub_label_names: tuple[str, ...]

    @property
    def trainable_values(self) -> int:
        """Number of float32 values ``get_weights``/``set_weights``/``train`` cover."""
        return int(self.w.size + self.b.size)


def fit_idf(counts: Sequence[TextCounts], dim: int = HASH_DIM) -> npt.NDArray[np.float64]:
    """Smoothed IDF (as scikit-learn's ``TfidfTransformer``) from training counts."""
    df = np.zeros(dim)
    for c in counts:
        idx, _ = sparse_input((c.unigrams,), dim)
        df[idx] += 1
    n = len(counts)
    return np.log((1 + n) / (1 + df)) + 1.0


def design_matrix(
    counts: Sequence[TextCounts], idf: npt.NDArray[np.floating], dim: int = HASH_DIM
) -> sp.csr_matrix:
    """The encoder's weights ``a`` of each text as a sparse ``[N, H]`` matrix (TF-IDF, L2)."""
    rows, cols, vals = [], [], []
    idf64 = np.asarray(idf, np.float64)
    for i, c in enumerate(counts):
        idx, val = sparse_input((c.unigrams,), dim)
        v = val.astype(np.float64) * idf64[idx]
        rows.append(np.full(len(idx), i))
        cols.append(idx)
        vals.append(v / (np.sqrt((v * v).sum()) + _EPS))
    if not rows:
        return sp.csr_matrix((0, dim))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(counts), dim),
    )


def quantize_rows(weights: npt.NDArray[np.floating]) -> tuple[npt.NDArray[np.int8], Float]:
    """Symmetric int8 quantization with one scale per row (max |value| maps to 127).

    Returns
    -------
    codes, scale : numpy.ndarray
        ``codes * scale[:, None]`` approximates ``weights``; all-zero rows get scale 0.
    """
    w = np.asarray(weights, np.float64)
    peak = np.abs(w).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 0.0)
    safe = np.where(scale > 0, scale, 1.0)
    codes = np.clip(np.rint(w / safe[:, None]), -127, 127).astype(np.int8)
    return codes, scale.astype(np.float32)


def softmax(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Row-wise softmax."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def label_log_probs(model: InterestModel, x: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """The encoder's label log-probabilities ``g`` ``[N, C]`` (steps 2-3 of the module doc)."""
    a = sp.csr_matrix(x.multiply(model.scale.astype(np.float64)[None, :]))
    z = np.asarray(a @ model.codes.astype(np.float64)) + model.sub_bias.astype(np.float64)
    return np.log(softmax(z) @ model.aggregation.astype(np.float64) + _EPS)


def whitened(model: InterestModel, g: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The head's input ``h = (max(g, F) − μ) · P`` (step 4 of the module doc)."""
    centred = np.maximum(g, LOG_PROB_FLOOR) - model.centre.astype(np.float64)
    return np.asarray(centred @ model.whitening.astype(np.float64))


def forward(
    model: InterestModel, x: sp.csr_matrix, *, calibrated: bool = True
) -> npt.NDArray[np.float64]:
    """NumPy reference of ``infer``: logits ``[N, C]`` for rows of :func:`design_matrix`."""
    h = whitened(model, label_log_probs(model, x))
    logits = h @ model.w.astype(np.float64) + model.b.astype(np.float64)
    return logits / model.temperature if calibrated else logits


def whitening(floored: npt.NDArray[np.float64]) -> tuple[Float, Float, Float]:
    """Centre, whitening ``P`` and its inverse from floored training log-probabilities.

    Parameters
    ----------
    floored : numpy.ndarray
        ``[N, C]`` label log-probabilities of the training texts, floored.

    Returns
    -------
    tuple of numpy.ndarray
        ``μ`` ``[C]``, ``P`` ``[C, C]`` and ``P⁻¹`` ``[C, C]``, float32. A label without
        training text sits at the floor for every text: its direction has no variance, so
        its whitened input is zero, and the ridge keeps ``P`` finite.
    """
    centre = floored.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(floored - centre, rowvar=False))
    values = np.maximum(values, 0.0)
    values = values + WHITENING_RIDGE * values.mean()
    forward = vectors / np.sqrt(values)
    inverse = (vectors * np.sqrt(values)).T
    return centre.astype(np.float32), forward.astype(np.float32), inverse.astype(np.float32)


def fit_temperature(logits: npt.NDArray[np.float64], y: npt.NDArray[np.intp]) -> float:
    """Temperature minimising the negative log-likelihood of held-out ``logits`` (Guo 2017)."""

    def nll(log_t: float) -> float:
        z = logits / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean())

    found = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded", options={"xatol": 1e-6})
    return float(round(math.exp(float(found.x)), 6))


def expected_calibration_error(
    probs: npt.NDArray[np.float64], y: npt.NDArray[np.intp], bins: int = 15
) -> float:
    """ECE of the top class: confidence vs accuracy over ``bins`` equal-width bins."""
    conf = probs.max(axis=1)
    hit = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(conf[inside].mean() - hit[inside].mean())
    return float(total)


def fit_model(
    train: Sequence[TextCounts],
    train_docs: Sequence[Doc],
    validation: Sequence[TextCounts],
    validation_docs: Sequence[Doc],
    labels: Sequence[str],
    *,
    c: float = REGULARISATION_C,
    absent_labels: bool = False,
) -> InterestModel:
    """Fit the encoder on ``train``, quantize it, fit the temperature on ``validation``.

    Parameters
    ----------
    train, validation : sequence of TextCounts
        Unigram counts of the training and validation texts.
    train_docs, validation_docs : sequence of Doc
        The same documents (their labels and corpora).
    labels : sequence of str
        The output labels; every one must have training documents.
    c : float
        Inverse L2 strength of the logistic regression.
    absent_labels : bool, default False
        Allow labels without training documents (a variant fitted without one corpus): the
        encoder gives them no sub-label, so only a trained head can ever predict them.

    Returns
    -------
    InterestModel
        Quantized encoder, whitening, the head that reads the floored label
        log-probabilities unchanged, fitted temperature.
    """
    index = {label: i for i, label in enumerate(labels)}
    missing = sorted(set(labels) - {d.label for d in train_docs})
    if missing and not absent_labels:
        raise ValueError(f"no training text for labels {missing}")
    subs = sub_labels(train_docs, labels)
    idf = fit_idf(train)
    x_train = design_matrix(train, idf)
    clf = LogisticRegression(C=c, max_iter=_MAX_ITER, tol=_TOL)
    clf.fit(x_train, subs.of_doc, sample_weight=subs.weights)
    codes, scale = quantize_rows(np.asarray(clf.coef_).T)
    classes = len(labels)
    model = InterestModel(
        idf=idf.astype(np.float32),
        codes=codes,
        scale=scale,
        sub_bias=np.asarray(clf.intercept_, np.float32),
        aggregation=subs.aggregation(classes).astype(np.float32),
        centre=np.zeros(classes, np.float32),
        whitening=np.eye(classes, dtype=np.float32),
        w=np.eye(classes, dtype=np.float32),
        b=np.zeros(classes, np.float32),
        temperature=1.0,
        labels=tuple(labels),
        sub_label_names=subs.names,
    )
    centre, forward_p, inverse_p = whitening(
        np.maximum(label_log_probs(model, x_train), LOG_PROB_FLOOR)
    )
    model = replace(model, centre=centre, whitening=forward_p, w=inverse_p, b=centre.copy())
    y_validation = np.array([index[d.label] for d in validation_docs])
    raw = forward(model, design_matrix(validation, model.idf), calibrated=False)
    return replace(model, temperature=fit_temperature(raw, y_validation))


AGNEWS_TARGETS: dict[str, tuple[str, ...]] = {
    "Sports": ("Sports",),
    "Business": ("Business and Finance", "Personal Finance"),
    "Sci/Tech": ("Technology & Computing", "Science"),
}
"""AG News topic → the tier-1 taxonomy nodes that count as read correctly (the issue's)."""


def _roots(labels: Sequence[str], taxonomy: Taxonomy) -> list[str]:
    """Tier-1 node label of each model label."""
    out = []
    for label in labels:
        node = taxonomy.label_to_node[label]
        chain = (node, *taxonomy.ancestors(node))
        out.append(taxonomy.nodes[chain[-1]].label)
    return out


def agnews_transfer(
    probs: npt.NDArray[np.float64], docs: Sequence[Doc], labels: Sequence[str], taxonomy: Taxonomy
) -> dict[str, float]:
    """Share of each AG News topic whose top label lands on the expected tier-1 node.

    World news has no expected node; its figure is the share whose top label is a special
    category (what the policy must then suppress).
    """
    roots = _roots(labels, taxonomy)
    top = probs.argmax(axis=1)
    out: dict[str, float] = {}
    for topic, wanted in AGNEWS_TARGETS.items():
        rows = [i for i, d in enumerate(docs) if d.fine == topic]
        hits = [roots[top[i]] in wanted for i in rows]
        out[f"agnews_{topic.lower().replace('/', '')}"] = round(float(np.mean(hits)), 4)
    special = [taxonomy.is_special(taxonomy.label_to_node[label]) for label in labels]
    world = [special[top[i]] for i, d in enumerate(docs) if d.fine == "World"]
    out["agnews_world_top_label_special"] = round(float(np.mean(world)), 4)
    return out


def top_k_scores(probs: npt.NDArray[np.float64], y: npt.NDArray[np.intp]) -> dict[str, float]:
    """Top-1 and top-3 accuracy and macro-F1 (over the labels present in ``y``)."""
    top = np.argsort(-probs, axis=1)
    present = sorted(set(y.tolist()))
    return {
        "top1_accuracy": round(float((top[:, 0] == y).mean()), 4),
        "top3_accuracy": round(float((top[:, :3] == y[:, None]).any(axis=1).mean()), 4),
        "macro_f1": round(float(f1_score(y, top[:, 0], labels=present, average="macro")), 4),
    }


def evaluate(
    probs: Mapping[Source, npt.NDArray[np.float64]],
    docs: Mapping[Source, Sequence[Doc]],
    labels: Sequence[str],
    taxonomy: Taxonomy,
) -> dict[str, object]:
    """The model card's figures from calibrated probabilities on each test split."""
    index = {label: i for i, label in enumerate(labels)}
    out: dict[str, object] = {}
    reddit = probs[Source.REDDIT]
    y = np.array([index[d.label] for d in docs[Source.REDDIT]])
    out["reddit_test_documents"] = len(y)
    out.update({f"reddit_{k}": v for k, v in top_k_scores(reddit, y).items()})
    out["reddit_ece"] = round(expected_calibration_error(reddit, y), 4)
    out.update(agnews_transfer(probs[Source.AGNEWS], docs[Source.AGNEWS], labels, taxonomy))
    news = probs[Source.NEWS20]
    y_news = np.array([index[d.label] for d in docs[Source.NEWS20]])
    out["news20_test_documents"] = len(y_news)
    out["news20_accuracy_unseen_authors"] = round(float((news.argmax(axis=1) == y_news).mean()), 4)
    pooled = np.concatenate([probs[s] for s in Source])
    y_all = np.concatenate([[index[d.label] for d in docs[s]] for s in Source]).astype(np.intp)
    out["ece_all_tests"] = round(expected_calibration_error(pooled, y_all), 4)
    return out
