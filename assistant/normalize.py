"""Text normalisation shared by intent examples and by what people say or type.

Both sides go through :func:`normalize`, so "I'm", "im" and "I am" match alike, and so do
"apologise" / "apologize", "two" / "2", upper and lower case, and punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTRACTIONS = {
    "can't": "can not", "cant": "can not", "cannot": "can not", "won't": "will not",
    "wont": "will not", "shan't": "shall not", "ain't": "is not", "let's": "let us",
    "i'm": "i am", "im": "i am", "i've": "i have", "ive": "i have", "i'll": "i will",
    "i'd": "i would", "you're": "you are", "youre": "you are", "you've": "you have",
    "youve": "you have", "you'll": "you will", "youll": "you will", "you'd": "you would",
    "we're": "we are", "we've": "we have", "weve": "we have", "we'll": "we will",
    "we'd": "we would", "they're": "they are", "theyre": "they are", "they've": "they have",
    "theyve": "they have", "they'll": "they will", "they'd": "they would",
    "he's": "he is", "she's": "she is", "it's": "it is", "that's": "that is",
    "thats": "that is", "what's": "what is", "whats": "what is", "there's": "there is",
    "theres": "there is", "here's": "here is", "who's": "who is", "where's": "where is",
    "how's": "how is", "when's": "when is", "whens": "when is", "why's": "why is",
    "wheres": "where is", "hows": "how is", "he'll": "he will", "she'll": "she will",
    "he'd": "he would",
    "she'd": "she would", "it'll": "it will", "that'll": "that will",
    "its": "it is", "hes": "he is", "shes": "she is", "id": "i would", "lets": "let us",
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "dunno": "do not know",
    "kinda": "kind of", "sorta": "sort of", "lemme": "let me", "gimme": "give me",
    "o'clock": "oclock", "y'all": "you all", "ok": "okay", "alright": "all right",
}
_NOT_SUFFIX = re.compile(r"^([a-z]+)n't$")
_NOT_BARE = {
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not",
    "arent": "are not", "wasnt": "was not", "werent": "were not", "havent": "have not",
    "hasnt": "has not", "hadnt": "had not", "wouldnt": "would not", "shouldnt": "should not",
    "couldnt": "could not", "mustnt": "must not", "neednt": "need not",
}

# British spellings folded into American ones (both sides are normalised, so the direction
# does not matter; only the pairing does).
_SPELLING = {
    "apologise": "apologize", "apologised": "apologized", "apologising": "apologizing",
    "apologises": "apologizes", "behaviour": "behavior", "behaviours": "behaviors",
    "judgement": "judgment", "judgemental": "judgmental", "realise": "realize",
    "realised": "realized", "realising": "realizing", "recognise": "recognize",
    "recognised": "recognized", "recognising": "recognizing", "prioritise": "prioritize",
    "emphasise": "emphasize", "criticise": "criticize", "criticised": "criticized",
    "criticising": "criticizing", "sympathise": "sympathize", "organise": "organize",
    "colour": "color", "honour": "honor", "favour": "favor", "favourite": "favorite",
    "neighbour": "neighbor", "counsellor": "counselor", "counsellors": "counselors",
    "counselling": "counseling", "centre": "center", "offence": "offense",
    "offences": "offenses", "defence": "defense", "practise": "practice",
    "cancelled": "canceled", "cancelling": "canceling", "travelled": "traveled",
    "endeavour": "endeavor", "rumour": "rumor", "rumours": "rumors", "harbour": "harbor",
    "destabilise": "destabilize", "jewellery": "jewelry", "mum": "mom",
    "programme": "program", "grey": "gray", "whilst": "while", "towards": "toward",
    "learnt": "learned", "spelt": "spelled",
}
_FILLERS = {"um", "umm", "uh", "uhh", "er", "erm", "hmm", "hm", "mm", "ah"}

_UNITS = {
    "zero": 0, "oh": None, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_ORDINALS = {
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_NON_WORD = re.compile(r"[^a-z0-9:@'_ ]+")
_COLON_NOT_TIME = re.compile(r"(?<!\d):|:(?!\d)")


def normalize(text: str) -> str:
    """Lower-case, fold punctuation, spellings, contractions and number words; one space apart."""
    return " ".join(normalize_tokens(text))


@lru_cache(maxsize=4096)
def _normalize_cached(text: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _NON_WORD.sub(" ", text.replace("-", " "))
    text = _COLON_NOT_TIME.sub(" ", text)
    words: list[str] = []
    for raw in text.split():
        word = raw.strip("'")
        if not word or word in _FILLERS:
            continue
        words.extend(_expand_word(word))
    return tuple(_numbers_to_digits(words))


def normalize_tokens(text: str) -> tuple[str, ...]:
    """The normalised words of ``text``."""
    return _normalize_cached(text)


def _expand_word(word: str) -> list[str]:
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word].split()
    if word in _NOT_BARE:
        return _NOT_BARE[word].split()
    match = _NOT_SUFFIX.match(word)
    if match:
        return [match.group(1), "not"]
    if word.endswith("'s"):
        word = word[:-2] + "s"
    word = word.replace("'", "")
    return [_SPELLING.get(word, word)] if word else []


def _numbers_to_digits(words: list[str]) -> list[str]:
    """``twenty five`` -> ``25``, ``nine thirty`` -> ``9 30``, ``a hundred`` -> ``100``."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _TENS:
            value = _TENS[word]
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt in _UNITS and _UNITS[nxt] is not None and 0 < (_UNITS[nxt] or 0) < 10:
                value += _UNITS[nxt] or 0
                i += 1
            out.append(str(value))
        elif word in _UNITS and _UNITS[word] is not None:
            out.append(str(_UNITS[word]))
        elif word == "hundred" and out and out[-1].isdigit() and int(out[-1]) < 10:
            out[-1] = str(int(out[-1]) * 100)
        elif word == "hundred" and out and out[-1] == "a":
            out[-1] = "100"
        elif word in _ORDINALS:
            out.append(_ORDINALS[word])
        else:
            out.append(word)
        i += 1
    return out
