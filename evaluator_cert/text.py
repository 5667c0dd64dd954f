"""Text helpers shared by the content loader and the graders.

One tokenizer serves span items (gold spans are resolved to token indices at load
time, trainees select tokens in the widget) and transcription scoring (word error
rate over normalised words), so both always agree on what a "token" is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words (with inner apostrophes/hyphens/dots such as "don't", "e-mail", "3.5") or single
# punctuation marks, so "Paris," yields "Paris" and ",".
_TOKEN_RE = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Token:
    index: int
    start: int  # character offset, inclusive
    end: int  # character offset, exclusive
    text: str


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into word and punctuation tokens with character offsets."""
    return [Token(i, m.start(), m.end(), m.group()) for i, m in enumerate(_TOKEN_RE.finditer(text))]


def find_token_span(text: str, phrase: str, occurrence: int = 1) -> tuple[int, int] | None:
    """Token indices ``(start, end)`` (end exclusive) of the n-th occurrence of ``phrase``.

    The phrase must start and end on token boundaries; ``None`` when it does not occur.
    """
    tokens = tokenize(text)
    wanted = [t.text for t in tokenize(phrase)]
    if not wanted:
        return None
    seen = 0
    words = [t.text for t in tokens]
    for i in range(len(words) - len(wanted) + 1):
        if words[i : i + len(wanted)] == wanted:
            seen += 1
            if seen == occurrence:
                return i, i + len(wanted)
    return None


def normalise_words(text: str) -> list[str]:
    """Lower-cased words without punctuation, for word error rate."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return [t.text for t in tokenize(folded) if any(ch.isalnum() for ch in t.text)]
