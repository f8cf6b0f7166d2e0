"""The false-hit guard: a cheap check that two questions a semantic match paired differ in a way
that changes the answer, even though their embeddings are close.

Sentence embeddings place "How do I enable X?" and "How do I disable X?", "flights on May 3"
and "flights on May 4", or "convert 5 km to miles" and "convert 5 miles to km" side by side.
The guard compares what such pairs differ in, word sets that are cheap to extract: negations,
numbers (with their units), capitalised names, quoted strings, dates (month and weekday names),
antonym pairs that flip an instruction, and (cache/edits.py) one word swapped for another or
words moved across "than"/"to"/"from". Any difference refuses the hit. Measured in
bench/cache_eval: what it costs (microseconds a pair) and what it saves (false hits avoided).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.previous_guard.edits import reordered, swapped, tokens

_NEGATIONS = frozenset(
    "not no never none nothing nobody neither nor cannot without isn't aren't wasn't weren't "
    "don't doesn't didn't won't wouldn't can't couldn't shouldn't mustn't hasn't haven't hadn't "
    "isnt arent wasnt dont doesnt didnt wont cant couldnt shouldnt".split()
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_DAYS = "monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday"
_TIME_WORDS = frozenset(_MONTHS.split()) | frozenset(_DAYS.split())
_OPPOSITES = (
    ("enable", "disable"), ("add", "remove"), ("increase", "decrease"), ("before", "after"),
    ("min", "max"), ("minimum", "maximum"), ("encrypt", "decrypt"), ("import", "export"),
    ("upload", "download"), ("start", "stop"), ("open", "close"), ("buy", "sell"),
    ("input", "output"), ("push", "pull"), ("lock", "unlock"), ("install", "uninstall"),
    ("compress", "decompress"), ("encode", "decode"), ("serialize", "deserialize"),
    ("ascending", "descending"), ("largest", "smallest"), ("first", "last"), ("more", "less"),
    ("higher", "lower"), ("faster", "slower"), ("north", "south"), ("east", "west"),
    ("left", "right"), ("true", "false"), ("allow", "deny"), ("accept", "reject"),
    ("celsius", "fahrenheit"), ("to", "from"), ("on", "off"), ("up", "down"), ("in", "out"),
    ("show", "hide"), ("visible", "hidden"), ("win", "lose"), ("rise", "fall"),
    # opposite verbs and adjectives the held-out sets found missing, and their kin
    ("enable", "block"), ("allow", "block"), ("block", "unblock"), ("maximize", "minimize"),
    ("gain", "lose"), ("gain", "loss"), ("profit", "loss"), ("cheap", "expensive"),
    ("cheaper", "pricier"), ("cheaper", "expensive"), ("cheapest", "priciest"),
    ("cheapest", "expensive"), ("better", "worse"), ("best", "worst"), ("good", "bad"),
    ("older", "younger"), ("oldest", "youngest"), ("old", "new"), ("big", "small"),
    ("bigger", "smaller"), ("biggest", "smallest"), ("large", "small"), ("larger", "smaller"),
    ("long", "short"), ("longer", "shorter"), ("longest", "shortest"), ("heavy", "light"),
    ("heavier", "lighter"), ("hot", "cold"), ("hotter", "colder"), ("warm", "cold"),
    ("warmer", "cooler"), ("strong", "weak"), ("stronger", "weaker"), ("safe", "dangerous"),
    ("safer", "riskier"), ("early", "late"), ("earlier", "later"), ("high", "low"),
    ("highest", "lowest"), ("most", "least"), ("fast", "slow"), ("fastest", "slowest"),
    ("easy", "hard"), ("easy", "difficult"), ("easier", "harder"), ("borrow", "lend"),
    ("lender", "borrower"), ("send", "receive"), ("sender", "receiver"), ("arrive", "depart"),
    ("arrival", "departure"), ("arrivals", "departures"), ("enter", "exit"),
    ("login", "logout"), ("include", "exclude"), ("inclusive", "exclusive"),
    ("internal", "external"), ("positive", "negative"), ("rich", "poor"), ("wet", "dry"),
    ("light", "dark"), ("full", "empty"), ("above", "below"), ("over", "under"),
    ("inside", "outside"), ("upper", "lower"), ("uppercase", "lowercase"), ("top", "bottom"),
    ("forward", "backward"), ("horizontal", "vertical"), ("odd", "even"), ("acidic", "alkaline"),
    ("male", "female"), ("men", "women"), ("man", "woman"), ("credit", "debit"),
    ("income", "expense"), ("asset", "liability"), ("bullish", "bearish"),
    ("deposit", "withdraw"), ("deposit", "withdrawal"), ("overweight", "underweight"),
    ("hypertension", "hypotension"), ("hyperthyroidism", "hypothyroidism"),
    ("plaintiff", "defendant"), ("landlord", "tenant"), ("employer", "employee"),
    ("buyer", "seller"), ("create", "delete"), ("insert", "delete"), ("read", "write"),
    ("merge", "split"), ("freeze", "thaw"), ("sunrise", "sunset"), ("summer", "winter"),
    ("spring", "autumn"), ("spring", "fall"), ("attach", "detach"), ("expand", "collapse"),
    ("inhale", "exhale"), ("wide", "narrow"), ("thick", "thin"), ("raise", "lower"),
)  # fmt: skip


def _both_ways(pairs: tuple[tuple[str, str], ...]) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for a, b in pairs:
        out[a] = out.get(a, frozenset()) | {b}
        out[b] = out.get(b, frozenset()) | {a}
    return out


_OPPOSITE = _both_ways(_OPPOSITES)
_OPPOSITE_WORDS = frozenset(_OPPOSITE) - {"to", "from"}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_UNITS = {
    "km": "kilometer", "kilometer": "kilometer", "kilometre": "kilometer", "mi": "mile",
    "mile": "mile", "m": "meter", "meter": "meter", "metre": "meter", "cm": "centimeter",
    "centimeter": "centimeter", "mm": "millimeter", "millimeter": "millimeter", "ft": "foot",
    "foot": "foot", "feet": "foot", "in": "inch", "inch": "inch", "inche": "inch", "yard": "yard",
    "g": "gram", "gram": "gram", "kg": "kilogram", "kilogram": "kilogram", "lb": "pound",
    "pound": "pound", "oz": "ounce", "ounce": "ounce", "ton": "ton", "tonne": "ton",
    "l": "liter", "liter": "liter", "litre": "liter", "ml": "milliliter",
    "milliliter": "milliliter",
    "gallon": "gallon", "quart": "quart", "pint": "pint", "cup": "cup", "tablespoon": "tablespoon",
    "tbsp": "tablespoon", "teaspoon": "teaspoon", "tsp": "teaspoon", "celsius": "celsius",
    "fahrenheit": "fahrenheit", "kelvin": "kelvin", "second": "second", "sec": "second",
    "minute": "minute", "min": "minute", "hour": "hour", "hr": "hour", "day": "day",
    "week": "week", "month": "month", "year": "year", "byte": "byte", "bit": "bit",
    "kb": "kilobyte", "kilobyte": "kilobyte", "mb": "megabyte", "megabyte": "megabyte",
    "gb": "gigabyte", "gigabyte": "gigabyte", "tb": "terabyte", "terabyte": "terabyte",
    "gib": "gibibyte", "mib": "mebibyte", "acre": "acre", "hectare": "hectare", "mph": "mph",
    "knot": "knot", "kmh": "kmh", "psi": "psi", "pascal": "pascal", "bar": "bar", "usd": "usd",
    "eur": "eur", "gbp": "gbp", "jpy": "jpy", "dollar": "usd", "euro": "eur", "cubic": "cubic",
    "square": "square", "watt": "watt", "kwh": "kwh", "volt": "volt", "calorie": "calorie",
}  # fmt: skip
_QUANTITY_CUES = ("how many", "how much", "convert", "how far", "how long", "how heavy")
_TOKENS = re.compile(r"\d+(?:\.\d+)?|[a-z]+")
_AMBIGUOUS_UNITS = frozenset("in m g l mi min sec hr bar square cubic".split())
_NEGATING_PREFIXES = ("un", "in", "il", "ir", "im", "dis", "non")
_QUOTED = re.compile(
    r"\"([^\"]{1,200})\"|(?<!\w)'([^']{2,200})'(?!\w)|`([^`]{1,200})`|“([^”]{1,200})”"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019]*")
_NAME = re.compile(
    r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z0-9]+|\b[A-Z]{2,}\b|\b\w*\d\w*\b"
    r"|\b[a-z]+[A-Z][a-zA-Z0-9]*"  # macOS, iPhone, eBay: capitals inside a word
)
_NUMBER_WORDS = frozenset(
    "zero two three four five six seven eight nine ten eleven twelve twenty thirty forty "
    "fifty hundred thousand million billion half double twice triple".split()
)


@dataclass(frozen=True, slots=True)
class Features:
    """What two questions must share for one's answer to serve the other."""

    negations: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]
    quoted: frozenset[str]
    times: frozenset[str]
    opposites: frozenset[str]
    units: tuple[str, ...]  # in sentence order: "5 km to miles" is not "5 miles to km"
    words: frozenset[str]


def features(text: str) -> Features:
    words = [w.lower().replace("\u2019", "'") for w in _WORD.findall(text)]
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    numbers |= {w for w in words if w in _NUMBER_WORDS}
    quoted = {next(g for g in m if g).strip().lower() for m in _QUOTED.findall(text)}
    names = {n.lower() for n in _NAME.findall(text)} - _TIME_WORDS - _NEGATIONS
    return Features(
        negations=frozenset(w for w in words if w in _NEGATIONS),
        numbers=frozenset(numbers),
        names=frozenset(names),
        quoted=frozenset(quoted),
        times=frozenset(w for w in words if w in _TIME_WORDS),
        opposites=frozenset(w for w in words if w in _OPPOSITE_WORDS),
        units=_units(text, bool(numbers)),
        words=frozenset(words),
    )


def _units(text: str, has_number: bool) -> tuple[str, ...]:
    """Units of measure, in order, in a question about quantities (a number, "how many",
    "convert"); elsewhere words like "in", "cup" or "second" are just words."""
    lower = text.lower()
    if not (has_number or any(cue in lower for cue in _QUANTITY_CUES)):
        return ()
    tokens = _TOKENS.findall(lower)
    found = []
    for i, word in enumerate(tokens):
        unit = _unit(word)
        if unit is None or (word in _AMBIGUOUS_UNITS and not (i and tokens[i - 1][0].isdigit())):
            continue  # "in", "m", "min": units only right after a number ("5 m", "10 min")
        found.append(unit)
    return tuple(found)


def _unit(word: str) -> str | None:
    found = _UNITS.get(word)
    if found is None and len(word) > 3 and word.endswith("s"):
        found = _UNITS.get(word[:-1])
    return found


def _negated_word(a: frozenset[str], b: frozenset[str]) -> bool:
    """A word on one side whose negating form ("safe"/"unsafe", "legal"/"illegal") is on the
    other side only."""
    for x, y in ((a - b, b - a), (b - a, a - b)):
        for word in x:
            if len(word) < 4:
                continue
            stem = word[:6]
            for other in y:
                for p in _NEGATING_PREFIXES:
                    if other.startswith(p) and other[len(p) : len(p) + 6] == stem:
                        return True
    return False


def differs(a: str, b: str) -> str | None:
    """Why an answer to `a` may be wrong for `b` (a reason label), or None when none is seen."""
    fa, fb = features(a), features(b)
    if fa.negations != fb.negations or _negated_word(fa.words, fb.words):
        return "negation"
    if fa.numbers != fb.numbers:
        return "number"
    if fa.quoted != fb.quoted:
        return "quoted"
    if fa.times != fb.times:
        return "date"
    if any(_OPPOSITE[w] & fb.opposites for w in fa.opposites - fb.opposites):
        return "opposite"
    if fa.units != fb.units:
        return "unit"
    if fa.names - fb.names and fb.names - fa.names:  # one naming what the other leaves out is
        return "entity"  # often a paraphrase ("the highest mountain on Earth"); a swap is not
    ta, tb = tokens(a), tokens(b)
    if reordered(ta, tb) is not None:
        return "order"
    if swapped(ta, tb) is not None:
        return "swap"
    return None
