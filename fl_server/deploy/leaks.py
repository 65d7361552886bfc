"""What must never leave a device, as byte patterns, and a search for them in captured bytes.

:func:`device_secrets` turns a device's own texts into the patterns a privacy capture is
checked against. The definitions (also in ``docs/deployment.md``):

``RAW_TEXT``
    Every text in full and every sentence of at least 24 characters, UTF-8 and UTF-16-LE.
``CANARY``
    Each canary string planted in the texts: as written and lowercased, UTF-8, UTF-16-LE,
    base64 and hex of the UTF-8 bytes.
``TOKEN``
    The device's most frequent word tokens (the project's tokenizer, lowercased) of at
    least ``min_word_length`` letters, UTF-8 and UTF-16-LE. Shorter words ("the", "run")
    are not evidence: protocol field names contain them.
``TOKEN_KEY``
    The hashed-count entries a profile stores for the most frequent tokens (CRC-32 key
    and count of :class:`~edge_client.text.features.TextCounts`): the key in decimal,
    and the ``(key, count)`` pair packed as ``<uint32, float32>`` and
    ``<uint64, float64>`` little-endian. A 4-byte key alone is not searched: among a
    megabyte of float32 model updates it matches by chance too often to be evidence.
``PROFILE_VALUE``
    The profile computed on the device from the same texts: the analytical probability,
    its confidence, the CDI and every interest score, as float32 and float64
    little-endian and as 6-decimal text; plus the dense feature vector and the category
    counts as float32 arrays. Values whose float32 has 16 zero low bits (0, ±1, 0.5, small
    integers, ...) are skipped: such bytes occur in any model update.

:func:`find_leaks` reports where a pattern occurs; a :class:`Leak` names the pattern's
kind and label (never the secret itself).
"""

from __future__ import annotations

import base64
import enum
import re
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from edge_client.policy import Purpose
from edge_client.profiler import EdgeProfiler
from edge_client.text.features import dense_features, extract
from edge_client.text.tokenizer import TokenKind, kind_of, scan

__all__ = ["Leak", "Secret", "SecretKind", "device_secrets", "find_leaks"]

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


class SecretKind(enum.Enum):
    """Kinds of device data that must not be sent (see the module docstring)."""

    RAW_TEXT = "raw_text"
    CANARY = "canary"
    TOKEN = "token"
    TOKEN_KEY = "token_key"
    PROFILE_VALUE = "profile_value"


@dataclass(frozen=True)
class Secret:
    """One byte pattern that must not appear in what a device sends.

    Attributes
    ----------
    kind
        What it is.
    label
        A description that does not reveal it (e.g. ``"top word 3, utf-16-le"``).
    pattern
        The bytes.
    """

    kind: SecretKind
    label: str
    pattern: bytes


@dataclass(frozen=True)
class Leak:
    """An occurrence of a secret in captured bytes.

    Attributes
    ----------
    secret
        The secret found.
    stream
        Index of the captured stream.
    offset
        Byte offset in that stream.
    """

    secret: Secret
    stream: int
    offset: int

    def __str__(self) -> str:
        """Describe the leak without quoting the secret."""
        return f"{self.secret.kind.value} ({self.secret.label}) in stream {self.stream}"


def _encodings(text: str) -> dict[str, bytes]:
    return {"utf-8": text.encode("utf-8"), "utf-16-le": text.encode("utf-16-le")}


def _distinctive(value: float) -> bool:
    return int.from_bytes(struct.pack("<f", value), "little") & 0xFFFF != 0


def _floats(label: str, value: float) -> list[Secret]:
    if not _distinctive(value):
        return []
    kind = SecretKind.PROFILE_VALUE
    return [
        Secret(kind, f"{label}, float32", struct.pack("<f", value)),
        Secret(kind, f"{label}, float64", struct.pack("<d", value)),
        Secret(kind, f"{label}, decimal", f"{value:.6f}".encode("ascii")),
    ]


def _profile_secrets(texts: Sequence[str]) -> list[Secret]:
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    profiler.observe_many(texts)
    profile = profiler.profile()
    found: list[Secret] = []
    style = profile.decision_style
    if style.analytical is not None:
        found += _floats("analytical probability", style.analytical)
    found += _floats("decision-style confidence", style.confidence)
    if profile.cdi is not None:
        found += _floats("CDI", profile.cdi)
    for rank, interest in enumerate(profile.interests):
        found += _floats(f"interest score {rank}", interest.score)
    counts = profiler.counts
    kind = SecretKind.PROFILE_VALUE
    found.append(
        Secret(kind, "dense features, float32", dense_features(counts).astype("<f4").tobytes())
    )
    found.append(
        Secret(kind, "category counts, float32", counts.categories.astype("<f4").tobytes())
    )
    return found


def device_secrets(
    texts: Sequence[str],
    *,
    canaries: Sequence[str] = (),
    top_words: int = 10,
    min_word_length: int = 5,
) -> tuple[Secret, ...]:
    """Return the patterns that must not leave a device holding ``texts``.

    Parameters
    ----------
    texts
        The device's own texts (as its person wrote them).
    canaries
        Unique strings planted in ``texts``.
    top_words
        How many of the most frequent tokens and token keys to include.
    min_word_length
        Shortest word searched as a token.

    Returns
    -------
    tuple[Secret, ...]
        Raw text, canary, token, token-key and profile-value patterns.
    """
    found: list[Secret] = []
    for number, text in enumerate(texts):
        for encoding, data in _encodings(text).items():
            found.append(Secret(SecretKind.RAW_TEXT, f"text {number}, {encoding}", data))
        for index, sentence in enumerate(_SENTENCE.findall(text)):
            if len(sentence.strip()) >= 24:
                for encoding, data in _encodings(sentence.strip()).items():
                    label = f"text {number} sentence {index}, {encoding}"
                    found.append(Secret(SecretKind.RAW_TEXT, label, data))
    for number, canary in enumerate(canaries):
        raw = canary.encode("utf-8")
        forms = {**_encodings(canary), "lower": canary.lower().encode("utf-8")}
        forms |= {"base64": base64.b64encode(raw), "hex": raw.hex().encode("ascii")}
        for form, data in forms.items():
            found.append(Secret(SecretKind.CANARY, f"canary {number}, {form}", data))
    words = Counter(
        token
        for text in texts
        for token in scan(text)
        if kind_of(token) is TokenKind.WORD and len(token) >= min_word_length
    )
    for rank, (word, _) in enumerate(words.most_common(top_words)):
        for encoding, data in _encodings(word).items():
            found.append(Secret(SecretKind.TOKEN, f"top word {rank}, {encoding}", data))
    counts = extract(" ".join(texts))
    ranked = sorted(counts.unigrams.items(), key=lambda item: (-item[1], item[0]))
    for rank, (key, count) in enumerate(ranked[:top_words]):
        kind = SecretKind.TOKEN_KEY
        if key >= 100_000:
            found.append(Secret(kind, f"top key {rank}, decimal", str(key).encode("ascii")))
        found.append(Secret(kind, f"top key {rank}, <u4 f4>", struct.pack("<If", key, count)))
        found.append(Secret(kind, f"top key {rank}, <u8 f8>", struct.pack("<Qd", key, count)))
    found += _profile_secrets(texts)
    return tuple(s for s in found if s.pattern)


def find_leaks(streams: Iterable[bytes], secrets: Iterable[Secret]) -> list[Leak]:
    """Return every secret found in any stream (first occurrence per stream).

    Parameters
    ----------
    streams
        Captured byte streams (one per connection or message).
    secrets
        Patterns from :func:`device_secrets`.

    Returns
    -------
    list[Leak]
        Empty when nothing leaked.
    """
    patterns = list(secrets)
    leaks = []
    for number, stream in enumerate(streams):
        data = bytes(stream)
        for secret in patterns:
            offset = data.find(secret.pattern)
            if offset >= 0:
                leaks.append(Leak(secret, number, offset))
    return leaks
