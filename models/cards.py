"""Model cards: the Markdown file committed beside each ``.tflite``."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["write_card"]

_PURPOSE = {
    "style": (
        "Probability that a person's words sit at the analytical end of the "
        "analytical ↔ emotional decision-style axis.",
        "Forum users of the public MBTI corpus (`../shared/data/mbti/users.jsonl`, "
        "PersonalityCafe, ~50 posts per user). Label: third letter of the self-reported type, "
        "T (Thinking, analytical) vs F (Feeling, emotional). Type and cognitive-function codes "
        "were already replaced by placeholders in the data.",
        "By user: 1 in 5 users (SHA-256 of the user id) held out; no user is in both training "
        "and evaluation. Also 5-fold cross-validation by user of the same recipe "
        "(`cv5_*`), the steadier figure.",
        "Self-reported type is a noisy label and T/F is not a validated measure of decision "
        "making; the model is a ranking signal with a confidence, not a diagnosis. Posts are "
        "English forum text from one community; other registers will shift scores.",
    ),
    "interests": (
        "Distribution over 20 interest labels (the 20 Newsgroups groups), each mapped onto a "
        "node of the IAB Tech Lab Content Taxonomy 3.1 (CC BY 3.0) by "
        "`edge_client/assets/taxonomy.json`.",
        "20 Newsgroups by date (`../shared/data/20news`). Input: subject line plus body with "
        "quoted lines (`>`) removed, since quotes are other people's words.",
        "Evaluation on the whole standard test split. The shipped model is trained only on the "
        "training posts of authors who never appear in the test split (6,082 of 11,314 posts), "
        "so no evaluated author was seen in training: `accuracy_unseen_authors`. For comparison "
        "with the published reference (hashed linear model 0.776, trained on the whole training "
        "split, where 46% of training posts are by authors who also post in the test split), "
        "the same recipe trained that way scores `accuracy_reference_protocol`; that model is "
        "not shipped.",
        "1993 Usenet English. Several labels are GDPR Art. 9 special categories (politics, "
        "religion, health): the model can score them, and the policy engine keeps them out of "
        "profiles, stores and selections whatever the model outputs.",
    ),
}


def write_card(path: Path, metrics: dict[str, object]) -> Path:
    """Write ``<name>.md`` beside a built model from its sidecar and metrics.

    Parameters
    ----------
    path : pathlib.Path
        The ``.tflite`` file.
    metrics : dict
        Metrics measured in the TensorFlow Lite runtime on held-out data.

    Returns
    -------
    pathlib.Path
        The card's path.
    """
    side = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    name = side["name"]
    purpose, data, split, limits = _PURPOSE[name]
    rows = "\n".join(f"| {k} | {v} |" for k, v in metrics.items())
    grams = "unigrams and bigrams" if side["bigrams"] else "unigrams"
    card = f"""# Model card: `{name}` v{side["version"]}

**What it does.** {purpose}

**Architecture.** Sparse linear model: hashed {grams} (CRC-32, {side["hash_dim"]} buckets,
`log1p` counts × IDF, L2-normalised inside the model), {side["head"]} head over
{len(side["labels"])} output(s). Psycholinguistic features (category percentages, CDI)
explain profiles but are not model inputs: as inputs they lowered the style model's 5-fold
AUC (0.831 → 0.800). Weights were fitted by L2-regularised logistic regression
(scikit-learn, lbfgs, deterministic) and exported with TensorFlow to TensorFlow Lite builtin
ops with five signatures: `infer`, `train` (one SGD step, hand-written gradients),
`get_weights`, `set_weights`, `constants` (the IDF, for explanations). The same file infers
and trains under LiteRT and tflite-runtime.

**Data.** {data}

**Split.** {split}

**Metrics** (measured by loading this `.tflite` file in the TensorFlow Lite runtime):

| metric | value |
|---|---|
{rows}

**Size.** {path.stat().st_size:,} bytes. SHA-256 `{side["sha256"]}`.

**Limits.** {limits}

**Rebuild.** `pip install -e '.[build]' && python -m models.build --only {name}` (needs
`../shared/data`); the build re-measures and rewrites this card and the sidecar.
"""
    out = path.with_suffix(".md")
    out.write_text(card, encoding="utf-8")
    return out
