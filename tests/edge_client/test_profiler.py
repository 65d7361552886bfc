"""Tests of EdgeProfiler: incremental profiles, evidence, policy enforcement, consent."""

from __future__ import annotations

import dataclasses

import pytest

from edge_client import EdgeProfiler, Evidence, InputError
from edge_client.policy import ConsentError, PolicyError, Purpose, Signal, load_preset
from edge_client.policy.presets import Preset

ANALYTICAL = (
    "The benchmark compares three processors on cost per operation. The second one is 12 "
    "percent faster, although it draws more power, so the total cost depends on utilisation."
)
BASEBALL = "The pitcher threw a no-hitter and the Yankees won the series in the ninth inning."
CHURCH = "We prayed together at church on Sunday and read the Bible; Jesus and God bless us."


def make(**kwargs: object) -> EdgeProfiler:
    """A profiler with profiling consent granted."""
    return EdgeProfiler(consent=[Purpose.PROFILING], **kwargs)  # type: ignore[arg-type]  # test helper forwards keywords


def test_empty_profile_says_not_enough_evidence() -> None:
    """With no words nothing is inferred and the profile says so."""
    profile = make().profile()
    assert profile.evidence is Evidence.NONE
    assert profile.decision_style.analytical is None
    assert profile.interests == () and profile.cdi is None
    assert "not enough evidence" in profile.notes[0]


def test_thin_evidence_is_stated_plainly() -> None:
    """Under 300 words the profile says the evidence is thin and nothing is usable."""
    p = make()
    p.observe(ANALYTICAL)
    profile = p.profile()
    assert profile.evidence is Evidence.THIN
    assert "thin" in profile.notes[0]
    assert "decision_style" not in profile.usable
    assert 0.0 <= profile.decision_style.analytical <= 1.0  # type: ignore[operator]  # set when words > 0


def test_incremental_equals_whole() -> None:
    """Observing texts one by one equals observing them joined by line breaks."""
    texts = [ANALYTICAL, BASEBALL, "Honestly I loved it!! \U0001f60d"]
    one, many = make(), make()
    one.observe("\n".join(texts))
    for text in texts:
        many.observe(text)
    assert one.profile() == many.profile()


def test_profile_json_shape() -> None:
    """to_dict has words, decision_style.analytical/confidence, cdi and ranked interests."""
    p = make()
    p.observe(BASEBALL * 3)
    data = p.profile().to_dict()
    assert data["words"] == 48  # "no-hitter" counts as two words
    assert set(data["decision_style"]) >= {"analytical", "confidence"}
    assert isinstance(data["cdi"], float)
    scores = [i["score"] for i in data["interests"]]
    assert scores == sorted(scores, reverse=True)
    assert {"id", "label", "score"} <= set(data["interests"][0])
    assert data["interests"][0]["label"] == "Sports"
    assert data["language"] == "english"
    assert data["interest_confidence"] == data["interests"][0]["score"]


def test_special_categories_never_appear_whatever_the_model_says() -> None:
    """Religious text yields no religion interest under the default policy."""
    p = make()
    p.observe(CHURCH * 5)
    raw = p.interest_model.predict([p.counts])[0]
    labels = p.interest_model.spec.labels
    assert labels[int(raw.argmax())] == "religion"
    profile = p.profile()
    for interest in profile.interests:
        assert not p.taxonomy.is_special(interest.id)
    assert profile.interest_confidence < raw.max()  # the best *allowed* score, not religion's


def test_policy_can_forbid_decision_style() -> None:
    """A policy that does not allow decision style yields no analytical score."""
    base = load_preset(Preset.DEFAULT)
    rule = dataclasses.replace(base.inference.decision_style, allowed=False)
    policy = dataclasses.replace(
        base, inference=dataclasses.replace(base.inference, decision_style=rule)
    )
    p = make(policy=policy)
    p.observe(ANALYTICAL)
    profile = p.profile()
    assert profile.decision_style.analytical is None
    assert any("decision style" in n for n in profile.notes)


def test_no_consent_refuses_and_records_nothing() -> None:
    """Without the profiling opt-in observe raises and the profile stays empty."""
    p = EdgeProfiler()
    with pytest.raises(ConsentError, match="opt-in"):
        p.observe(ANALYTICAL)
    assert p.profile().words == 0


def test_revoked_consent_stops_profiling_at_once() -> None:
    """Revoking profiling consent empties the profile immediately and refuses new text."""
    p = make()
    p.observe(ANALYTICAL)
    assert p.profile().words > 0
    p.consent.revoke(Purpose.PROFILING)
    profile = p.profile()
    assert profile.words == 0 and profile.decision_style.analytical is None
    assert "withdrawn" in profile.notes[0]
    with pytest.raises(ConsentError):
        p.observe(ANALYTICAL)
    p.consent.grant(Purpose.PROFILING)
    assert p.profile().words == 0  # nothing observed before the revocation came back


def test_forbidden_signal_is_refused() -> None:
    """Private messages are not profiled under the default policy."""
    p = make()
    with pytest.raises(PolicyError, match="message_text"):
        p.observe("hello", signal=Signal.MESSAGE_TEXT)
    assert p.profile().words == 0


def test_bad_input_types_are_clear_errors() -> None:
    """Bytes and None give InputError naming the type, never a traceback from deep inside."""
    p = make()
    with pytest.raises(InputError, match="bytes"):
        p.observe(b"raw bytes")  # type: ignore[arg-type]  # the point of the test
    with pytest.raises(InputError, match="NoneType"):
        p.observe(None)  # type: ignore[arg-type]  # the point of the test


def test_large_and_binary_looking_text_does_not_crash() -> None:
    """A 10 MB text and control characters profile without error."""
    p = make()
    p.observe(("word " * 2_000_000)[:10_000_000])
    p.observe("\x00\x01\x02 \ufffd\ufffd odd bytes")
    assert p.profile().words >= 1_999_999


def test_explanation_names_words_and_categories() -> None:
    """explain() lists words behind the score and the interests, in plain text."""
    p = make()
    p.observe(BASEBALL * 4 + " " + ANALYTICAL * 4)
    exp = p.explain()
    assert exp.style_signals and exp.categories
    words = dict(exp.interest_words)
    baseball = [i for i in words if i.label == "Sports"]
    assert baseball and {"pitcher", "inning", "yankees"} & set(words[baseball[0]])
    assert "Decision style" in exp.text()


BAD_INPUT = {
    "non-English": "Ich habe den Akkuschrauber letzte Woche gekauft und bin wirklich zufrieden, "
    "denn der Akku hält lange und das Gewicht ist angenehm.",
    "Chinese": "我昨天和朋友一起去看了篮球比赛，主队在最后一分钟赢得了比赛，大家都非常兴奋。",
    "code": "def area(r):\n    return {'area': 3.14 * r ** 2}\n\n"
    "print([area(x) for x in range(9)])",
    "numbers only": "12 345 6789 10.5 3,000 42 7 8 9 1000 2024",
    "emoji only": "\U0001f600\U0001f389\U0001f44d\U0001f525",
    "empty": "",
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUT))
def test_bad_input_gets_a_note_and_no_traits(kind: str) -> None:
    """Empty, non-English, emoji-only, code and numbers: an explicit note, nothing inferred."""
    p = make()
    p.observe(BAD_INPUT[kind] * 3)
    profile = p.profile()
    assert profile.interests == () and profile.usable == frozenset()
    assert profile.decision_style.analytical is None and profile.cdi is None
    assert len(profile.notes) == 1 and "infer" in profile.notes[0]
    assert profile.to_dict()["notes"] == list(profile.notes)
    assert profile.language.value != "english"
    assert p.explain().interest_words == ()


def test_chinese_words_are_counted_per_character() -> None:
    """A Chinese sentence counts one word per character, not two words."""
    p = make()
    p.observe("我昨天和朋友一起去看了篮球比赛。")
    assert p.profile().words == 15


def test_unclear_short_text_says_no_clear_interest() -> None:
    """A short text without a topic lists no interest and says so, with the best score."""
    p = make()
    p.observe("I bought it. Love it!")
    profile = p.profile()
    assert profile.interests == ()
    assert any(n.startswith("No clear interest") for n in profile.notes)
    assert 0.0 < profile.interest_confidence < 0.3


def test_listed_interests_meet_the_policy_minimum() -> None:
    """Every listed interest reaches the policy's min_confidence: no noise is listed."""
    p = make()
    p.observe(BASEBALL * 3 + " " + ANALYTICAL * 3)
    minimum = p.policy.inference.interests.min_confidence
    assert p.profile().interests
    assert all(i.score >= minimum for i in p.profile().interests)


def test_readme_samples_personalize_with_reasons() -> None:
    """The README's selection example personalizes, and every pick says why."""
    from importlib import resources

    from edge_client.selection import FallbackCause, load_sample_catalog

    samples = resources.files("edge_client") / "assets" / "samples"
    for name in ("analytical_review.txt", "emotional_story.txt"):
        # A fresh profiler's first window is drawn into the audit's random control group
        # (generic content, said in the reason) with probability control_share = 5%: draw
        # again then; five control draws in a row (3e-7) would mean something is wrong.
        for _ in range(5):
            p = EdgeProfiler(consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])
            p.observe(samples.joinpath(name).read_text(encoding="utf-8") * 2)
            assert "interests" in p.profile().usable, name
            picks = p.select(load_sample_catalog(), k=3)
            if picks.fallback is not FallbackCause.CONTROL_GROUP:
                break
            # every pick says so, except an exploration pick (which says it explores)
            assert all("small random group" in c.reason or c.explored for c in picks.choices)
        assert picks.personalized and picks.fallback is None
        assert any("your interest in" in c.reason for c in picks.choices)
