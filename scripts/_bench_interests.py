"""The interest part of ``bench_accuracy.py``: the shipped model against centralized baselines.

Everything runs in one process on the same documents:

- the shipped ``interests.tflite`` in the TensorFlow Lite runtime, on each corpus's test
  split (reddit-top2013 35 groups; AG News, whose train split the shipped model saw; 20
  Newsgroups authors absent from training);
- the same recipe refitted here without AG News (NumPy/scikit-learn, not shipped), for how
  the model reads a genre it never saw;
- centralized TF-IDF (1-2 grams) + logistic regression trained on reddit-top2013 alone (the
  corpus's published reference, 0.789) and on the shipped model's own training documents;
- the real :class:`~edge_client.EdgeProfiler` under the default policy on every test text:
  which special categories reach a profile or a selection reason, how often the answer is
  "no clear interest", how often English text is refused as not English.

Not a public API; ``bench_accuracy.py`` imports it once the repository is on ``sys.path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import _bench_common as common
import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from edge_client import EdgeProfiler
from edge_client.models import LiteModel, ModelName, load_model
from edge_client.policy import Purpose
from edge_client.selection import Selector, load_sample_catalog
from edge_client.taxonomy import Taxonomy, load_taxonomy
from edge_client.text.features import TextCounts, extract
from models import data, interests
from models.data import Doc, InterestCorpus, Source

__all__ = ["SPECIAL_GROUPS", "InterestBudget", "bench_interests"]

SPECIAL_GROUPS = ("politics", "religion", "medical_health")
"""The issue's "texts written only about politics, religion or health"."""
_BATCH = 256
_REFERENCE_C = 10.0
_REFERENCE_FEATURES = 200_000
"""Most frequent 1-2 grams the references keep (all of them took 7 GB and 30 minutes)."""


@dataclass(frozen=True)
class InterestBudget:
    """How many documents a run uses (``None``: all).

    Attributes
    ----------
    train : int or None
        Training documents for the refits (no-AG variant, references).
    test : int or None
        Test documents per corpus.
    """

    train: int | None
    test: int | None


def _stride(items: Sequence[Any], limit: int | None) -> list[Any]:
    if limit is None or len(items) <= limit:
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def _probs(model: LiteModel, counts: Sequence[TextCounts]) -> npt.NDArray[np.float64]:
    parts = [model.predict(counts[s : s + _BATCH]) for s in range(0, len(counts), _BATCH)]
    return np.concatenate(parts).astype(np.float64)


def _reference(
    train: Sequence[Doc], tests: dict[Source, list[Doc]], labels: Sequence[str]
) -> dict[Source, npt.NDArray[np.float64]]:
    """Centralized TF-IDF (1-2 grams, 200k, sublinear) + logistic regression; probabilities."""
    index = {label: i for i, label in enumerate(labels)}
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, max_features=_REFERENCE_FEATURES, sublinear_tf=True
    )
    x = vectorizer.fit_transform([d.text for d in train])
    y = np.array([index[d.label] for d in train])
    clf = LogisticRegression(C=_REFERENCE_C, max_iter=1000).fit(x, y)
    out = {}
    for source, docs in tests.items():
        p = clf.predict_proba(vectorizer.transform([d.text for d in docs]))
        full = np.zeros((len(docs), len(labels)))
        full[:, clf.classes_] = p
        out[source] = full
    return out


def _summary(
    probs: dict[Source, npt.NDArray[np.float64]],
    tests: dict[Source, list[Doc]],
    labels: Sequence[str],
    taxonomy: Taxonomy,
) -> dict[str, Any]:
    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index[d.label] for d in tests[Source.REDDIT]])
    y_news = np.array([index[d.label] for d in tests[Source.NEWS20]])
    return {
        "reddit": interests.top_k_scores(probs[Source.REDDIT], y),
        "agnews": interests.agnews_transfer(
            probs[Source.AGNEWS], tests[Source.AGNEWS], labels, taxonomy
        ),
        "news20_accuracy": round(float((probs[Source.NEWS20].argmax(axis=1) == y_news).mean()), 4),
        "reddit_ece": round(interests.expected_calibration_error(probs[Source.REDDIT], y), 4),
    }


def _special_texts(
    probs: dict[Source, npt.NDArray[np.float64]],
    tests: dict[Source, list[Doc]],
    labels: Sequence[str],
    taxonomy: Taxonomy,
) -> dict[str, Any]:
    """How the raw model reads texts of the special groups, before any policy.

    The texts are the reddit-top2013 and 20 Newsgroups test posts of the politics, religion
    and medical-health groups (AG News World items are counted apart: news, not opinions).
    """
    special = np.array([taxonomy.is_special(taxonomy.label_to_node[lab]) for lab in labels])
    own: list[bool] = []
    any_special: list[bool] = []
    for source in (Source.REDDIT, Source.NEWS20):
        docs = tests[source]
        rows = [i for i, d in enumerate(docs) if d.label in SPECIAL_GROUPS]
        top = probs[source][rows].argmax(axis=1)
        own += [labels[t] == docs[i].label for t, i in zip(top, rows, strict=True)]
        any_special += special[top].tolist()
    world = [i for i, d in enumerate(tests[Source.AGNEWS]) if d.fine == "World"]
    return {
        "posts": len(own),
        "per_post_raw_top_label_is_its_special_class": round(float(np.mean(own)), 4),
        "per_post_raw_top_label_is_any_special_class": round(float(np.mean(any_special)), 4),
        "agnews_world_raw_top_label_special": round(
            float(special[probs[Source.AGNEWS][world].argmax(axis=1)].mean()), 4
        ),
    }


def _special_writers(news: Sequence[Doc], model: LiteModel, taxonomy: Taxonomy) -> dict[str, Any]:
    """Writers who write only about politics, religion or health, read as one profile each.

    All 20 Newsgroups test authors (never seen in training; the whole split, also in quick
    runs) with at least 4 posts, all in
    groups of those labels: the raw model's top label on everything they wrote is one of
    their own labels for this share of them.
    """
    by_author: dict[str, list[Doc]] = {}
    for doc in news:
        by_author.setdefault(doc.author, []).append(doc)
    labels = model.spec.labels
    writers = own = 0
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    for docs in by_author.values():
        mine = {d.label for d in docs}
        if len(docs) < 4 or not mine <= set(SPECIAL_GROUPS):
            continue
        profiler.reset()
        profiler.observe_many(d.text for d in docs)
        top = labels[int(model.predict([profiler.counts])[0].argmax())]
        writers += 1
        own += top in mine
    return {
        "writers": writers,
        "raw_top_label_is_their_special_class": round(own / max(writers, 1), 4),
    }


def _profiles(tests: dict[Source, list[Doc]], taxonomy: Taxonomy) -> dict[str, Any]:
    """Run the real profiler (default policy) and selector on every test text, one at a time."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])
    selector = Selector(
        profiler.engine,
        consent=profiler.consent,
        taxonomy=taxonomy,
        rng=np.random.default_rng(0),
    )
    catalog = load_sample_catalog()
    special_paths = {taxonomy.path(n) for n in taxonomy.nodes if taxonomy.is_special(n)}
    tally: dict[str, dict[str, int]] = {}
    leaks = reasons_leaking = special_texts = 0
    for source, docs in tests.items():
        counts = tally.setdefault(source.value, {"texts": 0, "no_clear": 0, "not_english": 0})
        for doc in docs:
            profiler.reset()
            profiler.observe(doc.text)
            profile = profiler.profile()
            counts["texts"] += 1
            counts["not_english"] += profile.language.value != "english"
            counts["no_clear"] += any(n.startswith("No clear interest") for n in profile.notes)
            leaks += sum(taxonomy.is_special(i.id) for i in profile.interests)
            if doc.label in SPECIAL_GROUPS or (source is Source.AGNEWS and doc.fine == "World"):
                special_texts += 1
                picks = selector.select(profile, catalog, k=3, record=False)
                reasons = " ".join(c.reason for c in picks.choices)
                reasons_leaking += any(path in reasons for path in special_paths)
                reasons_leaking += any(
                    taxonomy.is_special(c) for x in picks.choices for c in x.item.categories
                )
    return {
        "by_corpus": {
            name: {
                "texts": c["texts"],
                "no_clear_interest_share": round(c["no_clear"] / max(c["texts"], 1), 4),
                "not_english_share": round(c["not_english"] / max(c["texts"], 1), 4),
            }
            for name, c in tally.items()
        },
        "special_interests_in_profiles": leaks,
        "special_texts_selected_for": special_texts,
        "special_categories_in_selection_reasons_or_items": reasons_leaking,
    }


def bench_interests(corpus: InterestCorpus, budget: InterestBudget) -> dict[str, Any]:
    """All interest figures of one run (see the module docstring)."""
    taxonomy = load_taxonomy()
    labels = list(taxonomy.labels)
    index = {label: i for i, label in enumerate(labels)}
    tests = {s: _stride(docs, budget.test) for s, docs in corpus.test.items()}
    train = _stride(corpus.train, budget.train)
    validation = _stride(corpus.validation, None if budget.train is None else budget.train // 10)

    common.progress(f"interests: edge features of {sum(map(len, tests.values()))} test texts")
    test_counts = {s: [extract(d.text) for d in docs] for s, docs in tests.items()}
    model = load_model(ModelName.INTERESTS)
    shipped = {s: _probs(model, counts) for s, counts in test_counts.items()}

    common.progress(f"interests: refitting the recipe without AG News on {len(train)} texts")
    keep = [d for d in train if d.source is not Source.AGNEWS]
    keep_val = [d for d in validation if d.source is not Source.AGNEWS]
    no_news = interests.fit_model(
        [extract(d.text) for d in keep],
        keep,
        [extract(d.text) for d in keep_val],
        keep_val,
        labels,
    )
    x_news = interests.design_matrix(test_counts[Source.AGNEWS], no_news.idf)
    no_news_probs = interests.softmax(interests.forward(no_news, x_news))

    reddit_train = [d for d in train if d.source is Source.REDDIT]
    common.progress(f"interests: TF-IDF + LR on {len(reddit_train)} reddit training texts")
    reference_reddit = _reference(reddit_train, tests, labels)
    common.progress(f"interests: TF-IDF + LR on all {len(train)} training texts")
    reference_all = _reference(train, tests, labels)

    common.progress("interests: the real profiler and selector on every test text")
    profiles = _profiles(tests, taxonomy)
    pooled = np.concatenate([shipped[s] for s in Source])
    y_all = np.array([index[d.label] for s in Source for d in tests[s]])
    return {
        "train_documents": len(train),
        "test_documents": {s.value: len(d) for s, d in tests.items()},
        "edge_model": {
            **_summary(shipped, tests, labels, taxonomy),
            "ece_all_tests": round(interests.expected_calibration_error(pooled, y_all), 4),
            "temperature": model.spec.temperature,
            "special_texts": {
                **_special_texts(shipped, tests, labels, taxonomy),
                **_special_writers(corpus.test[Source.NEWS20], model, taxonomy),
            },
        },
        "edge_recipe_without_agnews": {
            "agnews": interests.agnews_transfer(
                no_news_probs, tests[Source.AGNEWS], labels, taxonomy
            ),
        },
        "tfidf_lr_reddit_only": _summary(reference_reddit, tests, labels, taxonomy),
        "tfidf_lr_same_training": _summary(reference_all, tests, labels, taxonomy),
        "profiles_default_policy": profiles,
        "reference_c": _REFERENCE_C,
        "reference_features": _REFERENCE_FEATURES,
    }


def load_corpus() -> InterestCorpus:
    """The three interest corpora, split as the shipped model was trained."""
    return data.interest_corpus()
