"""Accuracy of the shipped models, side by side with the transparent and centralized baselines.

What it measures, with the targets of the issues:

- **Decision style** (MBTI T vs F): ROC AUC of the shipped ``style.tflite`` on users never
  seen in training (the held-out users of ``models.data.split_mbti``), on whole histories
  (target >= 0.80, and within 0.001 of the 0.8653 before the interest work) and on the first
  300 words (target >= 0.70; before: 0.7695). Side by side on the same users: the
  Categorical-Dynamic Index formula as a score (no training), and a centralized TF-IDF
  (1-2 grams, 50k features, sublinear) + logistic regression trained on the same users.
- **Interests** (``scripts/_bench_interests.py``): the shipped ``interests.tflite`` on
  reddit-top2013 (35 groups: top-1 >= 0.82, top-3 >= 0.93, macro-F1 >= 0.80), AG News
  (Sports -> Sports >= 0.95, Business -> Business and Finance or Personal Finance >= 0.85,
  Sci/Tech -> Technology & Computing or Science >= 0.85, World never shown as a special
  category), 20 Newsgroups authors unseen in training (>= 0.75), texts about politics,
  religion or health (the raw model names the special class for >= 90%; under the default
  policy none reaches a profile or a selection reason), calibration (ECE <= 0.05) and the
  share answered "no clear interest". Side by side: the recipe refitted without AG News,
  and centralized TF-IDF (1-2 grams) + logistic regression trained on reddit-top2013 alone
  (the published 0.789 reference) and on the shipped model's own training documents.
- **Size** of each shipped ``.tflite`` file against the 2 MB budget (10^6 bytes).

The style baseline's ``C`` is chosen by cross-validation on the training users only; the
interest references use C = 10 (no tuning on test data). Nothing is tuned on test texts.

Run from the repository root::

    python scripts/bench_accuracy.py [--quick] [--out PATH]

``--quick`` subsamples (200 users, 4,000 training and 600 test texts per corpus) for a
smoke run whose figures are noisy. The JSON report (default ``reports/bench_accuracy.json``)
holds every figure, the targets and a pass flag per target. Without the shared corpora it
prints ``skipped: <reason>``, writes a JSON saying so and exits 0. Needs scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _bench_common as common
import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold

if TYPE_CHECKING:
    from edge_client.models import LiteModel
    from edge_client.text.features import TextCounts
    from models.data import MbtiUser

DEFAULT_OUT = common.REPO_ROOT / "reports" / "bench_accuracy.json"
SHORT_WORDS = 300
STYLE_BATCH = 64
MB = 1_000_000
SEED = 0

AT_LEAST, AT_MOST = common.Direction.AT_LEAST, common.Direction.AT_MOST
TARGET_FULL = common.Target("style_auc_full_history", 0.80, AT_LEAST, "AUC")
TARGET_SHORT = common.Target("style_auc_first_300_words", 0.70, AT_LEAST, "AUC")
# Decision style must stay as it was before the interest work (0.8653 / 0.7695 held out),
# within 0.001: the rebuild counts CJK and Thai characters of 15 of 1,695 users as words.
TARGET_FULL_KEPT = common.Target("style_auc_full_history_unchanged", 0.8643, AT_LEAST, "AUC")
TARGET_SHORT_KEPT = common.Target("style_auc_first_300_words_unchanged", 0.7685, AT_LEAST, "AUC")
INTEREST_TARGETS: tuple[tuple[common.Target, tuple[str, ...]], ...] = (
    (
        common.Target("reddit_top1_accuracy", 0.82, AT_LEAST, ""),
        ("edge_model", "reddit", "top1_accuracy"),
    ),
    (
        common.Target("reddit_top3_accuracy", 0.93, AT_LEAST, ""),
        ("edge_model", "reddit", "top3_accuracy"),
    ),
    (
        common.Target("reddit_macro_f1", 0.80, AT_LEAST, ""),
        ("edge_model", "reddit", "macro_f1"),
    ),
    (
        common.Target("agnews_sports_to_sports", 0.95, AT_LEAST, ""),
        ("edge_model", "agnews", "agnews_sports"),
    ),
    (
        common.Target("agnews_business_to_finance", 0.85, AT_LEAST, ""),
        ("edge_model", "agnews", "agnews_business"),
    ),
    (
        common.Target("agnews_scitech_to_tech_or_science", 0.85, AT_LEAST, ""),
        ("edge_model", "agnews", "agnews_scitech"),
    ),
    (
        common.Target("news20_unseen_authors_accuracy", 0.75, AT_LEAST, ""),
        ("edge_model", "news20_accuracy"),
    ),
    (
        common.Target("special_writers_raw_special_class", 0.90, AT_LEAST, ""),
        ("edge_model", "special_texts", "raw_top_label_is_their_special_class"),
    ),
    (
        common.Target("special_interests_in_profiles", 0, AT_MOST, "profiles"),
        ("profiles_default_policy", "special_interests_in_profiles"),
    ),
    (
        common.Target("special_in_selection", 0, AT_MOST, "selections"),
        ("profiles_default_policy", "special_categories_in_selection_reasons_or_items"),
    ),
    (
        common.Target("expected_calibration_error", 0.05, AT_MOST, ""),
        ("edge_model", "ece_all_tests"),
    ),
)
"""The interest targets of the issue and where each value sits in the report."""
SIZE_BUDGET_MB = 2.0


@dataclass(frozen=True)
class Budget:
    """How much data a run uses (the full corpora, or a quick subsample).

    Attributes
    ----------
    users : int or None
        MBTI users read (the first ones in the file), ``None`` for all.
    interest_train, interest_test : int or None
        Interest training texts (for refits) and test texts per corpus (an even stride),
        ``None`` for all.
    cs : tuple of float
        Candidate ``C`` of the baselines' logistic regressions.
    folds : int
        Cross-validation folds for choosing ``C`` on training data.
    """

    users: int | None
    interest_train: int | None
    interest_test: int | None
    cs: tuple[float, ...]
    folds: int


FULL = Budget(None, None, None, cs=(0.1, 1.0, 10.0, 100.0), folds=5)
QUICK = Budget(200, 4000, 600, cs=(10.0,), folds=3)


def predict(model: LiteModel, counts: Sequence[TextCounts], batch: int) -> npt.NDArray[Any]:
    """Return the model's probabilities for all ``counts``, run in batches."""
    parts = [model.predict(counts[s : s + batch]) for s in range(0, len(counts), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, len(model.spec.labels)), np.float32)


def fit_logistic(x: Any, y: npt.NDArray[Any], budget: Budget, groups: Sequence[str] | None) -> Any:
    """Logistic regression with ``C`` chosen by cross-validation on the training data only.

    With a single candidate ``C`` (quick runs) it is fitted directly, without cross-validation.
    """
    if len(budget.cs) == 1:
        return LogisticRegression(C=budget.cs[0], max_iter=3000).fit(x, y)
    binary = len(set(y.tolist())) == 2
    cv: Any = (
        GroupKFold(budget.folds)
        if groups is not None
        else StratifiedKFold(budget.folds, shuffle=True, random_state=SEED)
    )
    search = GridSearchCV(
        LogisticRegression(max_iter=3000),
        {"C": list(budget.cs)},
        cv=cv,
        scoring="roc_auc" if binary else "accuracy",
        refit=True,
    )
    search.fit(x, y, groups=groups)
    return search.best_estimator_


def bench_style(users: Sequence[MbtiUser], budget: Budget) -> dict[str, Any]:
    """ROC AUC of the edge model, the CDI and TF-IDF + LR on held-out users."""
    from edge_client.models import ModelName, load_model
    from edge_client.text.features import cdi, extract
    from models import data

    train_idx, held_idx = data.split_mbti(list(users))
    y = np.array([u.analytical for u in users], dtype=np.int64)
    y_held = y[held_idx]
    full_text = ["\n".join(u.posts) for u in users]
    short_text = [data.first_words(u.posts, SHORT_WORDS) for u in users]

    common.progress(f"style: edge features of {len(held_idx)} held-out users")
    full_counts = [extract(full_text[i]) for i in held_idx]
    short_counts = [extract(short_text[i]) for i in held_idx]
    model = load_model(ModelName.STYLE)
    edge_full = predict(model, full_counts, STYLE_BATCH)[:, 0]
    edge_short = predict(model, short_counts, STYLE_BATCH)[:, 0]

    common.progress(f"style: TF-IDF + logistic regression on {len(train_idx)} training users")
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), max_features=50_000, sublinear_tf=True)
    x_train = vectorizer.fit_transform([full_text[i] for i in train_idx])
    clf = fit_logistic(x_train, y[train_idx], budget, None)
    tfidf_full = clf.decision_function(vectorizer.transform([full_text[i] for i in held_idx]))
    tfidf_short = clf.decision_function(vectorizer.transform([short_text[i] for i in held_idx]))

    def auc(scores: Sequence[float] | npt.NDArray[Any]) -> float:
        return round(float(roc_auc_score(y_held, scores)), 4)

    return {
        "train_users": len(train_idx),
        "heldout_users": len(held_idx),
        "heldout_analytical_share": round(float(y_held.mean()), 4),
        "edge_model": {"auc_full_history": auc(edge_full), "auc_first_300_words": auc(edge_short)},
        "cdi_formula": {
            "auc_full_history": auc([cdi(c) for c in full_counts]),
            "auc_first_300_words": auc([cdi(c) for c in short_counts]),
        },
        "tfidf_logistic_regression": {
            "auc_full_history": auc(tfidf_full),
            "auc_first_300_words": auc(tfidf_short),
            "features": int(x_train.shape[1]),
            "chosen_c": float(clf.C),
        },
    }


def model_sizes() -> dict[str, Any]:
    """Size of each shipped ``.tflite`` and the metrics recorded in its sidecar."""
    from edge_client.models import ModelName, default_model_dir

    out: dict[str, Any] = {}
    for name in ModelName:
        path = default_model_dir() / f"{name.value}.tflite"
        sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        out[name.value] = {
            "bytes": path.stat().st_size,
            "mb": round(path.stat().st_size / MB, 3),
            "sidecar_metrics": sidecar.get("metrics"),
        }
    return out


def render(report: dict[str, Any]) -> str:
    """Format the human-readable tables of a report."""
    style = report["style"]
    parts = [
        f"Decision style (T vs F): ROC AUC on {style['heldout_users']} held-out users "
        f"(trained on {style['train_users']})",
        common.format_table(
            ["method", "whole history", f"first {SHORT_WORDS} words"],
            [
                [label, style[key]["auc_full_history"], style[key]["auc_first_300_words"]]
                for key, label in (
                    ("edge_model", "edge model (style.tflite)"),
                    ("cdi_formula", "CDI formula (no training)"),
                    (
                        "tfidf_logistic_regression",
                        "TF-IDF 1-2g 50k + LR (centralized, "
                        f"C={style['tfidf_logistic_regression']['chosen_c']:g})",
                    ),
                )
            ],
        ),
        "",
        *render_interests(report["interests"]),
        "",
        "Targets",
        common.format_table(
            ["target", "value", "limit", "pass"],
            [
                [k, v["value"], f"{v['direction']} {v['threshold']} {v['unit']}", v["passed"]]
                for k, v in report["targets"].items()
            ],
        ),
    ]
    return "\n".join(parts)


def _get(tree: dict[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def render_interests(news: dict[str, Any]) -> list[str]:
    """The interest tables of a report, side by side with the centralized references."""
    methods = (
        ("edge_model", "edge model (interests.tflite, shipped)"),
        ("tfidf_lr_reddit_only", "TF-IDF 1-2g 200k + LR, reddit only (centralized)"),
        ("tfidf_lr_same_training", "TF-IDF 1-2g 200k + LR, same training texts (centralized)"),
    )
    n = news["test_documents"]
    transfer = [
        *methods,
        ("edge_recipe_without_agnews", "edge recipe refitted without AG News (not shipped)"),
    ]
    special = news["edge_model"]["special_texts"]
    profiles = news["profiles_default_policy"]
    return [
        f"Interests: reddit-top2013 test, 35 groups ({n['reddit']} posts); 20 Newsgroups test "
        f"({n['20news']} posts, authors unseen in training)",
        common.format_table(
            ["method", "top-1", "top-3", "macro-F1", "ECE", "20news acc."],
            [
                [
                    label,
                    news[key]["reddit"]["top1_accuracy"],
                    news[key]["reddit"]["top3_accuracy"],
                    news[key]["reddit"]["macro_f1"],
                    news[key]["reddit_ece"],
                    news[key]["news20_accuracy"],
                ]
                for key, label in methods
            ],
        ),
        "",
        f"AG News test ({n['agnews']} items): share read as the expected tier-1 category",
        common.format_table(
            ["method", "Sports", "Business", "Sci/Tech", "World: raw top label special"],
            [
                [
                    label,
                    news[key]["agnews"]["agnews_sports"],
                    news[key]["agnews"]["agnews_business"],
                    news[key]["agnews"]["agnews_scitech"],
                    news[key]["agnews"]["agnews_world_top_label_special"],
                ]
                for key, label in transfer
            ],
        ),
        "",
        "Special categories: writers who write only about politics, religion or health "
        f"({special['writers']} unseen 20 Newsgroups authors, >= 4 posts): the raw model names "
        f"their special class for {special['raw_top_label_is_their_special_class']:.1%}; per "
        f"post ({special['posts']} reddit and 20 Newsgroups test posts of those groups) for "
        f"{special['per_post_raw_top_label_is_its_special_class']:.1%} (any special class "
        f"{special['per_post_raw_top_label_is_any_special_class']:.1%}); under the default policy "
        f"{profiles['special_interests_in_profiles']} special interests reached a profile and "
        f"{profiles['special_categories_in_selection_reasons_or_items']} a selection "
        f"({profiles['special_texts_selected_for']} selections checked, AG News World included).",
        "",
        "The real profiler under the default policy, one text at a time",
        common.format_table(
            ["corpus", "texts", "no clear interest", "refused as not English"],
            [
                [name, c["texts"], c["no_clear_interest_share"], c["not_english_share"]]
                for name, c in profiles["by_corpus"].items()
            ],
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="subsample (smoke run)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON report path")
    args = parser.parse_args(argv)
    # The repository's own modules are imported in functions, once its root is on sys.path.
    common.use_repo_imports()
    from models import data

    reason = common.data_missing_reason(data.data_dir())
    if reason is not None:
        return common.write_skipped(args.out, "bench_accuracy", reason)
    import _bench_interests

    from edge_client.errors import EdgeProfilerError

    budget = QUICK if args.quick else FULL
    common.progress("reading the corpora")
    users = data.load_mbti()
    users = users if budget.users is None else users[: budget.users]
    corpus = _bench_interests.load_corpus()
    try:
        sizes = model_sizes()
        style = bench_style(users, budget)
        interests = _bench_interests.bench_interests(
            corpus, _bench_interests.InterestBudget(budget.interest_train, budget.interest_test)
        )
    except (EdgeProfilerError, common.BenchError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    targets = {
        t.name: t.report(style["edge_model"][key])
        for t, key in (
            (TARGET_FULL, "auc_full_history"),
            (TARGET_SHORT, "auc_first_300_words"),
            (TARGET_FULL_KEPT, "auc_full_history"),
            (TARGET_SHORT_KEPT, "auc_first_300_words"),
        )
    }
    for target, path in INTEREST_TARGETS:
        targets[target.name] = target.report(_get(interests, path))
    for name, entry in sizes.items():
        target = common.Target(f"{name}_model_mb", SIZE_BUDGET_MB, common.Direction.AT_MOST, "MB")
        targets[target.name] = target.report(entry["mb"])
    report: dict[str, Any] = {
        "script": "bench_accuracy",
        "skipped": False,
        "quick": args.quick,
        "environment": common.environment(),
        "budget": {
            "users": budget.users,
            "interest_train_texts": budget.interest_train,
            "interest_test_texts_per_corpus": budget.interest_test,
            "candidate_c": list(budget.cs),
            "cv_folds": budget.folds,
        },
        "style": style,
        "interests": interests,
        "model_sizes": sizes,
        "targets": targets,
        "notes": [
            "Style: held-out users of models.data.split_mbti (never seen in training); edge "
            "scores from extract('\\n'.join(posts)) and the first 300 words.",
            "Style baseline's C chosen by cross-validation on training users only (TF-IDF/IDF "
            "fitted once on all training users, so folds share it).",
            "Interests: the shipped model trained on reddit-top2013, AG News and 20 Newsgroups "
            "training texts (20 Newsgroups authors absent from its test split); its temperature "
            "was fitted on a validation split, never on test texts. AG News transfer "
            "counts the top label's tier-1 node; World items have no expected node.",
            "The 2 MB budget is checked per model file; MB = 10^6 bytes.",
            "Quick runs subsample and are for smoke tests only; their figures are noisy.",
        ],
    }
    print(render(report))
    common.write_json(args.out, report)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
