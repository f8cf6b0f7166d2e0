"""What the guard learns from how one question was edited into the other, word by word.

Two kinds of edit change the answer whatever the words are, so they need no lexicon:

- **A swap**: the questions are the same but for one or two words replaced in one place
  ("how do I cook rice" / "how do I cook quinoa", "when was it built" / "where was it built").
  A rephrasing changes the frame or several words; swapping one content word for another is
  how a different question is written. A swap is let through when the words are one word's
  forms or a typo ("recipe"/"recipes", "recieve"/"receive"), only function words ("a"/"the"),
  or the question's opening frame rephrased ("what is" / "explain", "who" / "which artist").
- **A reorder across a direction word**: "is Oslo colder than Bergen" / "is Bergen colder than
  Oslo", "flights from Lyon to Nice" / "from Nice to Lyon": words that moved from one side of
  "than", "to", "from" ... to the other, both ways.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CONTRACTIONS = {
    "what's": ("what", "is"), "it's": ("it", "is"), "that's": ("that", "is"),
    "there's": ("there", "is"), "how's": ("how", "is"), "who's": ("who", "is"),
    "where's": ("where", "is"), "i'm": ("i", "am"), "you're": ("you", "are"),
    "what're": ("what", "are"),
}  # fmt: skip
# Words whose swap for one another does not change what is asked. Question words other than
# "what"/"which" are not here: "when" / "where" asks something else.
FUNCTION_WORDS = frozenset(
    "a an the my your our their his her its this that these those some any is are was were be "
    "am do does did can could should would will may might must i we you me us one what which "
    "there it please just".split()
)
_DIRECTIONS = frozenset("than to from into onto vs versus against".split())
_STOP = (
    FUNCTION_WORDS | _DIRECTIONS | frozenset("how why when where who of in on for and or".split())
)
_SUFFIXES = ("ies", "es", "s", "ed", "ing", "'s")
MAX_SPAN = 2  # words replaced on each side; longer edits are rephrasings


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        out.extend(_CONTRACTIONS.get(word, (word,)))
    return out


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _one_edit(a: str, b: str) -> bool:
    """At most one letter inserted, deleted, replaced or two swapped (a typo)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) <= 1 or (swapped and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def same_word(a: str, b: str) -> bool:
    """One word's forms ("plan"/"plans") or a typo of a word of five letters or more."""
    return _stem(a) == _stem(b) or (min(len(a), len(b)) >= 5 and _one_edit(a, b))


def swapped(a: list[str], b: list[str]) -> tuple[str, str] | None:
    """The words swapped when `b` is `a` with one short run of words replaced, else None."""
    edits = [
        op for op in SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"
    ]
    if len(edits) != 1 or edits[0][0] != "replace":
        return None
    _, i1, i2, j1, j2 = edits[0]
    wa, wb = a[i1:i2], b[j1:j2]
    if len(wa) > MAX_SPAN or len(wb) > MAX_SPAN or len(a) - len(wa) < 2:
        return None
    if i1 == 0 and j1 == 0 and max(len(wa), len(wb)) > 1:
        return None  # the opening frame rephrased: "what is" / "explain"
    if all(w in FUNCTION_WORDS for w in (*wa, *wb)):
        return None
    if len(wa) == len(wb) and all(same_word(x, y) for x, y in zip(wa, wb, strict=True)):
        return None
    return " ".join(wa), " ".join(wb)


def reordered(a: list[str], b: list[str]) -> str | None:
    """A direction word both questions use, across which words moved both ways, else None."""
    for word in _DIRECTIONS & set(a) & set(b):
        ia, ib = len(a) - 1 - a[::-1].index(word), len(b) - 1 - b[::-1].index(word)
        a_left, a_right = set(a[:ia]) - _STOP, set(a[ia + 1 :]) - _STOP
        b_left, b_right = set(b[:ib]) - _STOP, set(b[ib + 1 :]) - _STOP
        if a_left & b_right and a_right & b_left:
            return word
    return None
