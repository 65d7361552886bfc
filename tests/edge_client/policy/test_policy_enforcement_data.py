"""Policy boundaries proven on real text with the real models (needs ../shared/data)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from edge_client import EdgeProfiler
from edge_client.federated.news import NEWSGROUP_LABELS
from edge_client.policy import Purpose
from models import data

pytestmark = pytest.mark.skipif(
    not (data.data_dir() / "20news" / "test.jsonl").is_file(),
    reason=f"20 Newsgroups not found at {data.data_dir()} (the shared data folder is absent)",
)

SPECIAL = ("talk.politics", "talk.religion", "soc.religion", "alt.atheism", "sci.med")


def _writers() -> dict[str, list[data.NewsPost]]:
    by_author: dict[str, list[data.NewsPost]] = defaultdict(list)
    for post in data.load_news("test"):
        by_author[post.author].append(post)
    return by_author


@pytest.fixture(scope="module")
def writers() -> dict[str, list[data.NewsPost]]:
    """Test-split posts grouped by author (one author = one device)."""
    return _writers()


@pytest.fixture(scope="module")
def profiler() -> EdgeProfiler:
    """One profiler with profiling consent, reset per writer."""
    return EdgeProfiler(consent=[Purpose.PROFILING])


def test_politics_and_religion_writers_get_no_special_interest(
    writers: dict[str, list[data.NewsPost]], profiler: EdgeProfiler
) -> None:
    """Writers only in politics/religion/med groups: the model sees it, the profile never does."""
    checked = model_saw_it = 0
    for posts in writers.values():
        if len(posts) < 4 or not all(p.group.startswith(SPECIAL) for p in posts):
            continue
        profiler.reset()
        profiler.observe_many(data.news_text(p) for p in posts)
        raw = profiler.interest_model.predict([profiler.counts])[0]
        top_label = profiler.interest_model.spec.labels[int(raw.argmax())]
        model_saw_it += profiler.taxonomy.is_special(profiler.taxonomy.label_to_node[top_label])
        for interest in profiler.profile().interests:
            assert not profiler.taxonomy.is_special(interest.id), interest
        checked += 1
    assert checked >= 100
    assert model_saw_it >= 0.8 * checked  # the boundary does real work: the model does see it


def test_other_interests_still_come_through(
    writers: dict[str, list[data.NewsPost]], profiler: EdgeProfiler
) -> None:
    """Writers who also post elsewhere: their best allowed interest is one of those topics.

    The profile lists an interest only once its calibrated score reaches the policy's
    ``min_confidence`` (the special mass is removed, not handed to the rest), so the check is
    on the best interest the policy allows (what ``Profile.interest_confidence`` scores).
    """
    checked = kept = 0
    nodes = profiler.taxonomy.label_to_node
    labels = profiler.interest_model.spec.labels
    for posts in writers.values():
        groups = {p.group for p in posts}
        other = {g for g in groups if not g.startswith(SPECIAL)}
        if len(posts) < 4 or not other or other == groups:
            continue
        profiler.reset()
        profiler.observe_many(data.news_text(p) for p in posts)
        by_node: dict[str, float] = {}
        probs = profiler.interest_model.predict([profiler.counts])[0]
        for label, p in zip(labels, probs.tolist(), strict=True):
            by_node[nodes[label]] = by_node.get(nodes[label], 0.0) + p
        best = next(iter(profiler.engine.filter_interests(by_node)))
        profile = profiler.profile()
        assert profile.interest_confidence == pytest.approx(by_node[best], abs=1e-5)
        kept += best in {nodes[NEWSGROUP_LABELS[g]] for g in other}
        checked += 1
    assert checked >= 30
    assert kept >= 0.6 * checked  # 29 of 41 when measured


def test_thin_evidence_gives_no_style_personalization(
    writers: dict[str, list[data.NewsPost]], profiler: EdgeProfiler
) -> None:
    """Under the policy's minimum words decision style is never usable for personalization."""
    minimum = profiler.policy.inference.decision_style.min_words
    checked = 0
    for posts in list(writers.values())[:300]:
        profiler.reset()
        profiler.observe(data.news_text(posts[0]))
        profile = profiler.profile()
        if profile.words < minimum:
            assert "decision_style" not in profile.usable
            assert not profiler.engine.may_choose_variant(
                words=profile.words, confidence=profile.decision_style.confidence
            )
            checked += 1
    assert checked >= 100


def test_revoked_consent_stops_profiling_at_once(
    writers: dict[str, list[data.NewsPost]],
) -> None:
    """Revoking consent mid-stream: the profile empties and the next post is refused."""
    from edge_client.policy import ConsentError

    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    posts = max(writers.values(), key=len)
    profiler.observe(data.news_text(posts[0]))
    assert profiler.profile().words > 0
    profiler.consent.revoke(Purpose.PROFILING)
    assert profiler.profile().words == 0
    with pytest.raises(ConsentError):
        profiler.observe(data.news_text(posts[1]))
