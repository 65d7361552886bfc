import pytest

from edge_client import EdgeProfiler
from edge_client.behaviour import BehaviourCounts, CountKind, Purchase, View, fuse_interests
from edge_client.policy import Policy, Purpose
from edge_client.taxonomy import load_taxonomy

HOCKEY = (
    "The goalie stopped forty shots and the power play scored twice in the third period. "
    "Our defence finally held against their top line; the coach changed the lines after "
    "the second intermission and the league standings look better for the playoffs now."
)


def test_without_behaviour_text_scores_are_unchanged() -> None:
    """Fusion with no view or purchase returns the text scores as they are."""
    fused = fuse_interests(
        {"545": 0.7, "1": 0.3}, BehaviourCounts(), words=120, taxonomy=load_taxonomy()
    )
    assert fused.scores == {"545": 0.7, "1": 0.3}
    assert all(s.text_share == 1.0 for s in fused.sources.values())


def test_behaviour_alone_is_shrunk_by_the_prior() -> None:
    """One view is weak evidence, twenty views are strong."""
    taxonomy = load_taxonomy()
    counts = BehaviourCounts()
    counts.add(CountKind.VIEW, "545")  # Baseball counts for the model's Sports node
    one = fuse_interests({}, counts, words=0, taxonomy=taxonomy).scores["483"]
    for _ in range(19):
        counts.add(CountKind.VIEW, "545")
    twenty = fuse_interests({}, counts, words=0, taxonomy=taxonomy).scores["483"]
    assert one < 0.2
    assert 0.75 < twenty < 1.0


def test_a_finer_node_counts_for_its_ancestor_in_the_model() -> None:
    """A view of Automotive > Auto Body Styles supports the model's Automotive node."""
    counts = BehaviourCounts()
    counts.add(CountKind.VIEW, "2", weight=5.0)
    fused = fuse_interests({"1": 0.2, "545": 0.8}, counts, words=100, taxonomy=load_taxonomy())
    assert "2" not in fused.scores
    assert fused.scores["1"] > 0.2 and fused.scores["545"] < 0.8


def test_views_and_words_together_and_explain_names_both(open_policy: Policy) -> None:
    """Views move a text profile; explain() says which words and which behaviour."""
    profiler = EdgeProfiler(policy=open_policy, consent=[Purpose.PROFILING])
    profiler.observe(HOCKEY)
    text_only = {i.id: i.score for i in profiler.profile().interests}
    for _ in range(4):  # few enough that the words' Sports interest stays listed too
        profiler.record(View("1", dwell_seconds=60))
    profiler.record(Purchase("1", amount=80))
    fused = {i.id: i.score for i in profiler.profile().interests}
    assert fused["1"] > text_only.get("1", 0.0) + 0.2
    text = profiler.explain().text()
    assert "Interest 'Automotive'" in text and "4 view(s)" in text and "1 purchase(s)" in text
    hockey = next(line for line in text.splitlines() if "Interest 'Sports'" in line)
    assert "goalie" in hockey or "playoffs" in hockey


def test_behaviour_never_creates_a_forbidden_interest(open_policy: Policy) -> None:
    """A device that views only special-category content shows no special interest."""
    profiler = EdgeProfiler(policy=open_policy, consent=[Purpose.PROFILING])
    for node in ("286", "386", "459") * 10:
        profiler.record(View(node, dwell_seconds=120))
    profile = profiler.profile()
    assert profile.interests == ()
    assert not profiler.behaviour


@pytest.mark.parametrize("words", [0, 300])
def test_scores_stay_probabilities(words: int) -> None:
    """Fused scores lie in [0, 1] and sum to at most 1."""
    counts = BehaviourCounts()
    counts.add(CountKind.VIEW, "545", weight=3.0)
    counts.add(CountKind.PURCHASE, "473", weight=2.0)
    text = {"545": 0.5, "1": 0.5} if words else {}
    scores = fuse_interests(text, counts, words=words, taxonomy=load_taxonomy()).scores
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    assert sum(scores.values()) <= 1.0 + 1e-9
