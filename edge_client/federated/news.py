"""20 Newsgroups authors as simulated devices of the interest model (one author = one device).

Same rules as ``models.data`` (the build scripts' reader, not shipped with the client):
an author's text is the subject line plus the body without quoted lines (other people's
words), the label is the interest-model label the post's group maps to
(:data:`NEWSGROUP_LABELS`), and only authors of the *train* split who never post in the
*test* split are devices, exactly the authors the shipped interest model was trained on. The
test split is for evaluation. Posts become feature counts as they are read
(:func:`interest_examples`); no text is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from edge_client.federated.errors import FederatedError

__all__ = [
    "NEWSGROUP_LABELS",
    "NewsPost",
    "news_author_posts",
    "news_test_posts",
    "news_text",
    "strip_quotes",
]

NewsPost = tuple[str, str]
"""``(text, label)``: what the author wrote and the interest label of the post's newsgroup."""

NEWSGROUP_LABELS: dict[str, str] = {
    "alt.atheism": "religion",
    "comp.graphics": "technology",
    "comp.os.ms-windows.misc": "technology",
    "comp.sys.ibm.pc.hardware": "technology",
    "comp.sys.mac.hardware": "technology",
    "comp.windows.x": "technology",
    "misc.forsale": "shopping",
    "rec.autos": "automotive",
    "rec.motorcycles": "automotive",
    "rec.sport.baseball": "sports",
    "rec.sport.hockey": "sports",
    "sci.crypt": "technology",
    "sci.electronics": "technology",
    "sci.med": "medical_health",
    "sci.space": "science",
    "soc.religion.christian": "religion",
    "talk.politics.guns": "politics",
    "talk.politics.mideast": "politics",
    "talk.politics.misc": "politics",
    "talk.religion.misc": "religion",
}
"""The interest-model label each of the 20 newsgroups maps to (its topic, in the taxonomy).

Gun-policy debate (``talk.politics.guns``) is politics, not the firearms hobby; electronics
design and cryptography are technology; ``misc.forsale`` is the only source of ``shopping``.
"""


def strip_quotes(text: str) -> str:
    """Drop quoted lines (first non-blank character ``>``): they are other people's words."""
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))


def news_text(subject: str, body: str) -> str:
    """Return what the author wrote: the subject line and the body without quoted lines."""
    return subject + "\n" + strip_quotes(body)


def _rows(root: str, split: str) -> Iterator[tuple[str, NewsPost]]:
    path = Path(root) / "20news" / f"{split}.jsonl"
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise FederatedError(f"{path}: cannot read ({type(exc).__name__})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                author, group = str(row["author"]), str(row["group"])
                text = news_text(str(row["subject"]), str(row["text"]))
                label = NEWSGROUP_LABELS[group]
            except (ValueError, KeyError, TypeError):
                raise FederatedError(f"{path}:{number}: malformed post record") from None
            yield author, (text, label)


@lru_cache(maxsize=2)
def news_author_posts(root: str) -> tuple[tuple[NewsPost, ...], ...]:
    """Return the posts of each training author, one tuple per device.

    Parameters
    ----------
    root
        The shared data folder holding ``20news/train.jsonl`` and ``20news/test.jsonl``.

    Returns
    -------
    tuple[tuple[NewsPost, ...], ...]
        Authors of the train split absent from the test split, sorted by author id (so
        ``partition-id`` ``i`` is always the same author); each author's posts in file order.

    Raises
    ------
    FederatedError
        When a file cannot be read or a record is malformed (file and line named).
    """
    test_authors = {author for author, _ in _rows(root, "test")}
    posts: dict[str, list[NewsPost]] = {}
    for author, post in _rows(root, "train"):
        if author not in test_authors:
            posts.setdefault(author, []).append(post)
    return tuple(tuple(posts[a]) for a in sorted(posts))


@lru_cache(maxsize=2)
def news_test_posts(root: str) -> tuple[NewsPost, ...]:
    """Return every post of the test split (for evaluation by simulations and benchmarks).

    Parameters
    ----------
    root
        The shared data folder.

    Returns
    -------
    tuple[NewsPost, ...]
        ``(text, label)`` in file order.
    """
    return tuple(post for _, post in _rows(root, "test"))
