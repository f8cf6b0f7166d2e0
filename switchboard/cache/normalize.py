"""The question as the semantic layer embeds it: the words that carry no meaning taken out.

Two people asking the same thing differ in wrapping more than in content: a greeting, "please",
"can you tell me", "what's the best way to" against "how do I", "explain X" against "what is X",
a full stop against a question mark. MiniLM scores that wrapping as difference, so true
paraphrases fall below the threshold. Only the text embedded is rewritten; the guard and the
stored entry see the question as it was asked, so nothing here can make two different
questions match that the guard would refuse.
"""

from __future__ import annotations

import re

_CONTRACTIONS = {
    "what's": "what is", "how's": "how is", "where's": "where is", "who's": "who is",
    "it's": "it is", "i'm": "i am", "i'd": "i would", "i've": "i have", "that's": "that is",
    "there's": "there is", "you're": "you are",
}  # fmt: skip
_CONTRACTION = re.compile(r"\b(" + "|".join(re.escape(k) for k in _CONTRACTIONS) + r")(?!\w)")
# Wrapping at the start or the end: removed again and again ("hi, can you please tell me ...").
_FILLER = re.compile(
    r"^(?:(?:hi|hello|hey)(?: there)?[,!.]?\s+|please\s+|quick question[:,]?\s+"
    r"|(?:can|could|would|will) you(?: please)?(?: tell me| help me understand| let me know)?\s+"
    r"|(?:tell me(?! about)|let me know|i want to know|i would like to know|i wonder"
    r"|do you know)\s+)"
    r"|[,\s]+(?:please|thanks|thank you)$"
)
_FRAMES = (
    (re.compile(r"^(?:explain|describe) what (.+) (?:is|are)$"), r"what is \1"),
    (re.compile(r"^(?:what is|what are) (?:the )?(?:best|proper|right|correct|easiest) way to "),
     "how do i "),
    (re.compile(r"^what is the way to "), "how do i "),
    (re.compile(r"^how (?:can|should|would|could|do) (?:i|you|we|one) "), "how do i "),
    (re.compile(r"^(?:explain|describe) (how|why|what|when|where|who) "), r"\1 "),
    (re.compile(r"^(?:explain|describe|define|tell me about) "), "what is "),
    (re.compile(r"^what (?!is |are )(.+) (is|are)$"), r"what \2 \1"),  # "... what X is"
)  # fmt: skip
_END = re.compile(r"\s*[?.!]*$")


def for_embedding(text: str) -> str:
    t = _CONTRACTION.sub(lambda m: _CONTRACTIONS[m[1]], text.strip().lower().replace("\u2019", "'"))
    t = _END.sub("", t)
    while True:
        shorter = _FILLER.sub("", t).strip()
        if shorter == t or not shorter:
            break
        t = shorter
    for pattern, replacement in _FRAMES:
        t = pattern.sub(replacement, t)
    return t + "?"
