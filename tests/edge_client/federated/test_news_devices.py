"""20 Newsgroups authors as interest-model devices (needs ../shared/data)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from edge_client.federated.device import device_from_config
from edge_client.federated.errors import FederatedError
from edge_client.federated.news import (
    NEWSGROUP_LABELS,
    news_author_posts,
    news_test_posts,
    news_text,
)
from edge_client.models import ModelName
from edge_client.taxonomy import load_taxonomy
from fl_server.publish import ensure_signing_key

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not (DATA / "20news" / "train.jsonl").is_file(), reason="../shared/data/20news not present"
)


def test_devices_are_exactly_the_train_authors_absent_from_the_test_split() -> None:
    """Same authors and posts as models.data.split_news (the shipped model's training pool)."""
    from models.data import load_news, split_news
    from models.data import news_text as reference_text

    train, test = split_news(load_news("train", DATA), load_news("test", DATA))
    authors = news_author_posts(str(DATA))
    assert len(authors) == len({p.author for p in train})
    assert Counter(p for posts in authors for p in posts) == Counter(
        (reference_text(p), NEWSGROUP_LABELS[p.group]) for p in train
    )
    assert len(news_test_posts(str(DATA))) == len(test)


def test_interest_device_holds_one_hot_examples_of_its_posts(tmp_path: Path) -> None:
    """A device's interest examples are its own posts, labelled by their group's interest."""
    ensure_signing_key(tmp_path / "model-signing.key")
    config = {
        "data": str(DATA),
        "model": "interests",
        "model-trust": str(tmp_path / "model-signing.pub"),
    }
    device = device_from_config({"partition-id": 5}, config)
    posts = news_author_posts(str(DATA))[5]
    labels = load_taxonomy().labels
    examples = device.examples[ModelName.INTERESTS]
    assert set(device.examples) == {ModelName.INTERESTS} and device.ranking is None
    assert examples.targets.shape == (len(posts), len(labels))
    np.testing.assert_array_equal(examples.targets.sum(axis=1), 1.0)
    assert [labels[i] for i in examples.targets.argmax(axis=1)] == [g for _, g in posts]
    with pytest.raises(FederatedError, match="partition-id"):
        device_from_config({"partition-id": 10**6}, config)
    # Without data the device is one of the built-in population's training devices.
    builtin = device_from_config({"partition-id": 5}, {**config, "data": ""})
    assert len(builtin.examples[ModelName.INTERESTS]) >= 2
    with pytest.raises(FederatedError, match="training devices of the built-in population"):
        device_from_config({"partition-id": 10**6}, {**config, "data": ""})


def test_news_text_drops_quoted_lines() -> None:
    """Quoted lines (other people's words) are not the author's text."""
    assert news_text("Re: x", "mine\n> theirs\n  >> older\nmine too") == "Re: x\nmine\nmine too"


def test_every_newsgroup_maps_to_a_model_label() -> None:
    """Each of the 20 groups maps onto one of the interest model's labels."""
    labels = set(load_taxonomy().labels)
    assert len(NEWSGROUP_LABELS) == 20
    assert set(NEWSGROUP_LABELS.values()) <= labels
    assert NEWSGROUP_LABELS["sci.med"] == "medical_health"
    assert NEWSGROUP_LABELS["misc.forsale"] == "shopping"
