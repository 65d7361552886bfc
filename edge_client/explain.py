"""Plain-language explanations of a profile: which signals pushed which way.

Both models' logits are linear in the hashed words, so a score decomposes exactly into
per-word contributions: ``weight × TF-IDF value`` for the decision-style model, and for the
interest model each word's embedding row through the head (the model's own ``explain``
signature computes them, :meth:`~edge_client.models.LiteModel.terms`). Hashed words are named by the
words this process has seen (never stored); unnamed buckets are left out. The
psycholinguistic categories (articles, pronouns, emotion words, ...) and the CDI are shown
beside them as descriptive context (compared with the mean shares of the style model's
training users, stored in its sidecar): they are not model inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_client.models import LiteModel
from edge_client.profile import Interest, Profile
from edge_client.taxonomy import Taxonomy
from edge_client.text.features import DENSE_FEATURE_NAMES, TextCounts, dense_features, token_names
from edge_client.text.language import TextLanguage
from edge_client.text.lexicon import CATEGORY_NAMES, load_lexicon

__all__ = ["Explanation", "Signal", "explain_profile"]

_DESCRIPTIONS = {
    "pct_article": "articles (a, the)",
    "pct_prep": "prepositions",
    "pct_ppron": "personal pronouns (I, you, we)",
    "pct_ipron": "impersonal pronouns (it, that)",
    "pct_auxverb": "auxiliary verbs",
    "pct_conj": "conjunctions",
    "pct_adverb": "adverbs",
    "pct_negate": "negations",
    "pct_posemo": "positive emotion words",
    "pct_negemo": "negative emotion words",
    "pct_cause": "causal words (because, effect)",
    "pct_insight": "insight words (think, know)",
    "pct_certain": "certainty words",
    "pct_tentat": "tentative words (maybe, perhaps)",
    "pct_discrep": "discrepancy words (should, would)",
    "pct_number": "numbers",
    "pct_quant": "quantifiers",
    "word_length": "word length",
    "words_per_sentence": "sentence length",
    "type_token_ratio": "vocabulary variety",
    "exclamations": "exclamation marks",
    "questions": "question marks",
    "emoji": "emoji",
    "cdi": "Categorical-Dynamic Index",
}


@dataclass(frozen=True)
class Signal:
    """One signal and its pull on a score.

    Attributes
    ----------
    name : str
        Feature name (see :data:`edge_client.text.features.DENSE_FEATURE_NAMES`) or ``word:...``.
    description : str
        Plain-language name.
    value : float
        The signal's value in this profile (percent of words, ratio, or TF-IDF weight).
    contribution : float
        For a word: its contribution to the style logit (positive pushes toward the
        analytical end). For a category: how far its share is above (positive) or below
        the typical share, in percentage points.
    """

    name: str
    description: str
    value: float
    contribution: float


@dataclass(frozen=True)
class Explanation:
    """Why the profile looks the way it does.

    Attributes
    ----------
    profile : Profile
        The explained profile.
    style_signals : tuple of Signal
        Words that moved the decision-style score most.
    categories : tuple of Signal
        Word-category shares of the text that stand out most from typical text.
    interest_words : tuple of (Interest, tuple of str)
        For each listed interest, the words that pushed it up most.
    behaviour : tuple of (str, str)
        For interests that behaviour moved, the node id and the views and purchases behind
        it in plain words (see :mod:`edge_client.behaviour`).
    """

    profile: Profile
    style_signals: tuple[Signal, ...]
    categories: tuple[Signal, ...]
    interest_words: tuple[tuple[Interest, tuple[str, ...]], ...]
    behaviour: tuple[tuple[str, str], ...] = ()

    def text(self) -> str:
        """The explanation as readable lines."""
        style = self.profile.decision_style
        if style.analytical is None:
            lines = ["Decision style: not inferred, so nothing drove it."]
        else:
            lines = [
                f"Decision style {style.leaning} ({style.analytical:.2f}); "
                "words that moved it most:"
            ]
            for s in self.style_signals:
                way = "analytical" if s.contribution > 0 else "emotional"
                lines.append(f"  {s.description}: toward {way} ({s.contribution:+.2f})")
            if self.categories:
                lines.append("Word categories that stand out (context, not model inputs):")
                for s in self.categories:
                    more = "more" if s.contribution > 0 else "fewer"
                    lines.append(f"  {more} {s.description} than typical: {s.value:.1f}% of words")
        behaviour = dict(self.behaviour)
        for interest, words in self.interest_words:
            shown = ", ".join(words) if words else "no single word stands out"
            if interest.id in behaviour:
                shown = f"words: {shown}; behaviour: {behaviour[interest.id]}"
            lines.append(f"Interest '{interest.label}' ({interest.score:.2f}): {shown}")
        return "\n".join(lines)


def _sparse_terms(
    model: LiteModel, counts: TextCounts
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    idx, val = model.spec.row(counts)
    v = val.astype(np.float64) * model.idf().astype(np.float64)[idx]
    return idx, v / (np.sqrt((v * v).sum()) + 1e-12)


_FUNCTION_CATEGORIES = frozenset(
    CATEGORY_NAMES.index(c) for c in ("article", "prep", "ppron", "ipron", "auxverb", "conj")
)


def _bucket_words(counts: TextCounts, dim: int, *, content_only: bool = False) -> dict[int, str]:
    """Name hash buckets by words seen in this process (optionally content words only)."""
    names = token_names(counts.unigrams.keys())
    lookup = load_lexicon().lookup
    out: dict[int, str] = {}
    for key, word in names.items():
        if content_only and _FUNCTION_CATEGORIES.intersection(lookup(word)):
            continue
        out.setdefault(key & (dim - 1), word)
    return out


def _style_signals(model: LiteModel, counts: TextCounts, top: int) -> list[Signal]:
    idx, v = _sparse_terms(model, counts)
    contrib = model.terms(counts)[1][:, 0]  # same buckets, same order as ``idx``
    words = _bucket_words(counts, model.spec.hash_dim)
    signals: list[Signal] = []
    for j in np.argsort(-np.abs(contrib)):
        if len(signals) >= top:
            break
        word = words.get(int(idx[j]))
        if word is not None:
            signals.append(Signal(f"word:{word}", f"'{word}'", float(v[j]), float(contrib[j])))
    return signals


def _categories(counts: TextCounts, reference: Mapping[str, float], top: int) -> list[Signal]:
    """Category shares furthest (relatively) from the reference shares."""
    values = dict(zip(DENSE_FEATURE_NAMES, dense_features(counts).tolist(), strict=True))
    signals = [
        Signal(name, _DESCRIPTIONS[name], values[name], values[name] - typical)
        for name, typical in reference.items()
        if name in values and name.startswith("pct_")
    ]
    signals.sort(key=lambda s: -abs(s.contribution) / max(reference[s.name], 0.5))
    return signals[: max(1, top // 2)]


def _interest_words(
    model: LiteModel, counts: TextCounts, interest: Interest, taxonomy: Taxonomy, top: int
) -> tuple[str, ...]:
    columns = [i for i, node in enumerate(taxonomy.label_nodes()) if node == interest.id]
    if not columns:
        return ()
    idx, terms = model.terms(counts)
    if len(idx) == 0:
        return ()
    contrib = terms[:, columns].max(axis=1)
    words = _bucket_words(counts, model.spec.hash_dim, content_only=True)
    found: list[str] = []
    for j in np.argsort(-contrib):
        if contrib[j] <= 0 or len(found) >= top:
            break
        word = words.get(int(idx[j]))
        if word is not None and word not in found:
            found.append(word)
    return tuple(found)


def explain_profile(
    profile: Profile,
    counts: TextCounts,
    style: LiteModel,
    interests: LiteModel,
    taxonomy: Taxonomy,
    *,
    top: int = 8,
    behaviour: tuple[tuple[str, str], ...] = (),
) -> Explanation:
    """Explain a profile computed from ``counts`` by the two models.

    Parameters
    ----------
    profile : Profile
        The profile to explain.
    counts : TextCounts
        The counts it was computed from.
    style, interests : LiteModel
        The decision-style and interest models.
    taxonomy : Taxonomy
        Interest taxonomy.
    top : int, default 8
        Signals and words per part.
    behaviour : tuple of (str, str), optional
        Node id and plain-words behaviour behind interests that behaviour moved.

    Returns
    -------
    Explanation
        Signals ranked by the size of their contribution.
    """
    if counts.words <= 0 or profile.language is not TextLanguage.ENGLISH:
        # Behaviour alone (or words the models do not read): no words to name.
        return Explanation(profile, (), (), tuple((i, ()) for i in profile.interests), behaviour)
    per_interest = tuple(
        (i, _interest_words(interests, counts, i, taxonomy, top)) for i in profile.interests
    )
    if profile.decision_style.analytical is None:
        return Explanation(profile, (), (), per_interest, behaviour)
    signals = tuple(_style_signals(style, counts, top))
    categories = tuple(_categories(counts, style.spec.category_reference, top))
    return Explanation(profile, signals, categories, per_interest, behaviour)
