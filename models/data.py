"""Readers and user-level splits for the shared corpora (``../shared/data``), read in place.

Used by the model build script and the benchmarks. Nothing here is shipped to devices and
no corpus text is ever written into the repository.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from edge_client.federated.news import NEWSGROUP_LABELS

__all__ = [
    "AGNEWS_LABELS",
    "Doc",
    "InterestCorpus",
    "MbtiUser",
    "NewsPost",
    "Source",
    "data_dir",
    "first_words",
    "interest_corpus",
    "load_agnews",
    "load_mbti",
    "load_news",
    "load_reddit",
    "news_docs",
    "news_text",
    "reddit_groups",
    "split_mbti",
    "split_news",
    "strip_quotes",
]

AGNEWS_LABELS: dict[str, str] = {
    "World": "politics",
    "Sports": "sports",
    "Business": "business",
    "Sci/Tech": "technology",
}
"""Interest label of each AG News topic. World news (elections, diplomacy, wars) is
political news, so it trains the special-category class the policy suppresses."""


def data_dir() -> Path:
    """Location of the shared corpora: ``$EDGEPROF_DATA`` or ``../shared/data`` from the repo."""
    env = os.environ.get("EDGEPROF_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@dataclass(frozen=True)
class MbtiUser:
    """One forum user: their posts and the T/F letter of their self-reported type."""

    user_id: str
    analytical: bool
    posts: tuple[str, ...]


@dataclass(frozen=True)
class NewsPost:
    """One Usenet post of 20 Newsgroups."""

    id: str
    group: str
    author: str
    subject: str
    text: str


def _lines(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_mbti(root: Path | None = None) -> list[MbtiUser]:
    """Read ``mbti/users.jsonl``; the label is the third letter of the type (T = analytical)."""
    path = (root or data_dir()) / "mbti" / "users.jsonl"
    users = []
    for row in _lines(path):
        kind = str(row["type"])
        posts = row["posts"]
        if not isinstance(posts, list):
            raise ValueError(f"{path}: user {row['user_id']}: posts must be a list")
        users.append(MbtiUser(str(row["user_id"]), kind[2] == "T", tuple(str(p) for p in posts)))
    return users


def load_news(split: str, root: Path | None = None) -> list[NewsPost]:
    """Read ``20news/{split}.jsonl`` (``train`` or ``test``)."""
    path = (root or data_dir()) / "20news" / f"{split}.jsonl"
    return [
        NewsPost(str(r["id"]), str(r["group"]), str(r["author"]), str(r["subject"]), str(r["text"]))
        for r in _lines(path)
    ]


def strip_quotes(text: str) -> str:
    """Drop quoted lines (first non-blank character ``>``): they are other people's words."""
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))


def news_text(post: NewsPost) -> str:
    """What the author wrote: the subject line and the body without quoted lines."""
    return post.subject + "\n" + strip_quotes(post.text)


def first_words(posts: tuple[str, ...], n: int = 300) -> str:
    """The first ``n`` whitespace-separated words of a user's posts, in order."""
    return " ".join(" ".join(posts).split()[:n])


def _bucket(key: str, buckets: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") % buckets


def split_mbti(users: list[MbtiUser], *, eval_share: int = 5) -> tuple[list[int], list[int]]:
    """Deterministic split by user: 1 in ``eval_share`` users (by hash of id) held out.

    Returns
    -------
    train, evaluation : list of int
        Indices into ``users``; no user is in both.
    """
    train: list[int] = []
    held: list[int] = []
    for i, user in enumerate(users):
        (held if _bucket(user.user_id, eval_share) == 0 else train).append(i)
    return train, held


def split_news(
    train: list[NewsPost], test: list[NewsPost]
) -> tuple[list[NewsPost], list[NewsPost]]:
    """Training posts by authors who never appear in the test split, and the whole test split.

    Evaluating on the standard test split while training only on other authors keeps every
    evaluated author unseen in training (signatures and habits cannot leak).
    """
    test_authors = {p.author for p in test}
    return [p for p in train if p.author not in test_authors], test


class Source(Enum):
    """The corpus a document comes from."""

    REDDIT = "reddit"
    AGNEWS = "agnews"
    NEWS20 = "20news"


@dataclass(frozen=True)
class Doc:
    """One labelled document of the interest corpora.

    Attributes
    ----------
    id : str
        The corpus id (20 Newsgroups: the post id).
    source : Source
        Which corpus.
    label : str
        The interest model's label (a key of ``models.taxonomy.LABELS``).
    fine : str
        The corpus's own label: subreddit, AG News topic or newsgroup.
    text : str
        What the model reads (20 Newsgroups: subject and body without quoted lines).
    author : str
        The author pseudonym (20 Newsgroups only; empty elsewhere).
    """

    id: str
    source: Source
    label: str
    fine: str
    text: str
    author: str = ""


def reddit_groups(root: Path | None = None) -> dict[str, str]:
    """Subreddit → interest group, from ``reddit-top2013/labels.tsv``."""
    path = (root or data_dir()) / "reddit-top2013" / "labels.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["label"]: row["group"] for row in csv.DictReader(handle, delimiter="\t")}


def load_reddit(split: str, root: Path | None = None) -> list[Doc]:
    """Read ``reddit-top2013/{split}.jsonl``; the label is the post's interest group."""
    base = root or data_dir()
    groups = reddit_groups(base)
    return [
        Doc(str(r["id"]), Source.REDDIT, groups[str(r["label"])], str(r["label"]), str(r["text"]))
        for r in _lines(base / "reddit-top2013" / f"{split}.jsonl")
    ]


def load_agnews(split: str, root: Path | None = None) -> list[Doc]:
    """Read ``agnews-test/{split}.jsonl``; the label is :data:`AGNEWS_LABELS` of its topic."""
    path = (root or data_dir()) / "agnews-test" / f"{split}.jsonl"
    return [
        Doc(
            str(r["id"]),
            Source.AGNEWS,
            AGNEWS_LABELS[str(r["label"])],
            str(r["label"]),
            str(r["text"]),
        )
        for r in _lines(path)
    ]


def news_docs(posts: list[NewsPost]) -> list[Doc]:
    """20 Newsgroups posts as documents labelled by ``NEWSGROUP_LABELS``."""
    return [
        Doc(p.id, Source.NEWS20, NEWSGROUP_LABELS[p.group], p.group, news_text(p), p.author)
        for p in posts
    ]


def _held_out(doc: Doc, share: int) -> bool:
    """Whether a training document belongs to the validation part (1 in ``share``).

    20 Newsgroups is split by author (no author on both sides), the others by document id.
    """
    key = doc.author if doc.source is Source.NEWS20 else doc.id
    return _bucket(f"{doc.source.value}:{key}", share) == 0


@dataclass(frozen=True)
class InterestCorpus:
    """The interest model's training, validation and test documents.

    Attributes
    ----------
    train, validation : list of Doc
        Training documents of the three corpora, split 19:1 (validation picks the
        temperature and nothing else; 20 Newsgroups split by author).
    test : dict of Source to list of Doc
        Each corpus's own test split: reddit and AG News test files, and the 20 Newsgroups
        test split, whose authors never appear in training.
    """

    train: list[Doc]
    validation: list[Doc]
    test: dict[Source, list[Doc]]

    def without(self, source: Source) -> InterestCorpus:
        """The same corpus with one source left out of training and validation."""
        return InterestCorpus(
            [d for d in self.train if d.source is not source],
            [d for d in self.validation if d.source is not source],
            self.test,
        )


def interest_corpus(root: Path | None = None, *, validation_share: int = 20) -> InterestCorpus:
    """Read the three interest corpora and split them (deterministic).

    20 Newsgroups training posts are those of authors who never post in its test split
    (:func:`split_news`), so every evaluated author is unseen.
    """
    base = root or data_dir()
    news_train, news_test = split_news(load_news("train", base), load_news("test", base))
    pool = load_reddit("train", base) + load_agnews("train", base) + news_docs(news_train)
    train = [d for d in pool if not _held_out(d, validation_share)]
    validation = [d for d in pool if _held_out(d, validation_share)]
    test = {
        Source.REDDIT: load_reddit("test", base),
        Source.AGNEWS: load_agnews("test", base),
        Source.NEWS20: news_docs(news_test),
    }
    return InterestCorpus(train, validation, test)
