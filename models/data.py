"""Readers and user-level splits for the shared corpora (``../shared/data``), read in place.

Used by the model build script and the benchmarks. Nothing here is shipped to devices and
no corpus text is ever written into the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MbtiUser",
    "NewsPost",
    "data_dir",
    "first_words",
    "load_mbti",
    "load_news",
    "news_text",
    "split_mbti",
    "split_news",
    "strip_quotes",
]


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
