"""English: the language rules the rest of the code uses, in one place (words people contract,
number words, spelling variants, fillers, openers and closers of requests, clock times heard
and said, the messages). A second language would get a module like this one.
"""

from __future__ import annotations

import re
from datetime import time as dtime

# -- what people type and say, folded to one form (normalize.py) -------------------------------

CONTRACTIONS = {
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
NOT_SUFFIX = re.compile(r"^([a-z]+)n't$")
NOT_BARE = {
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not",
    "arent": "are not", "wasnt": "was not", "werent": "were not", "havent": "have not",
    "hasnt": "has not", "hadnt": "had not", "wouldnt": "would not", "shouldnt": "should not",
    "couldnt": "could not", "mustnt": "must not", "neednt": "need not",
}

# British spellings folded into American ones (both sides are normalised, so the direction
# does not matter; only the pairing does).
SPELLING = {
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
NEGATIONS = frozenset({"not", "never", "nothing", "nobody", "nowhere", "neither", "nor",
                       "without", "hardly", "barely"})
"""Words that turn a phrase round ("i am not safe"), counted after contractions are spelt out
("don't" -> "do not")."""


def negations(text: str) -> int:
    """How many negating words normalised ``text`` has."""
    return sum(word in NEGATIONS for word in text.split())

FILLERS = {"um", "umm", "uh", "uhh", "er", "erm", "hmm", "hm", "mm", "ah"}

UNITS = {
    "zero": 0, "oh": None, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
DIGIT_ORDINALS = {
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
}



def expanded(word: str) -> str | None:
    """The long form of a contracted word ("i'm" -> "i am", "don't" -> "do not"), or None."""
    if word in CONTRACTIONS:
        return CONTRACTIONS[word]
    if word in NOT_BARE:
        return NOT_BARE[word]
    match = NOT_SUFFIX.match(word)
    return f"{match.group(1)} not" if match else None


SPOKEN_CONTRACTED = (
    "i'm",
    "i've",
    "i'll",
    "i'd",
    "you're",
    "we're",
    "they're",
    "it's",
    "that's",
    "what's",
    "there's",
    "he's",
    "she's",
    "let's",
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "aren't",
    "wasn't",
    "can't",
    "won't",
    "wouldn't",
    "shouldn't",
    "couldn't",
    "haven't",
)
"""Contractions people use when they speak, which the recogniser's language model should
expect beside the long form (the matcher expands them again)."""
SPOKEN_CONTRACTIONS: dict[tuple[str, ...], str] = {
    tuple((expanded(word) or word).split()): word for word in SPOKEN_CONTRACTED
}
"""Word pairs -> their spoken contraction (("i", "am") -> "i'm"), from the table above."""

# -- numbers, said (stt/vocabulary.py) ---------------------------------------------------------

NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split()
)
TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
IRREGULAR_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}


def number_words(value: int) -> list[str]:
    """``value`` (0..9999) as English number words: 21 -> ["twenty", "one"]."""
    if value < 20:
        return [NUMBER_WORDS[value]]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [TENS_WORDS[tens - 2], *([NUMBER_WORDS[ones]] if ones else [])]
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return [NUMBER_WORDS[hundreds], "hundred", *(number_words(rest) if rest else [])]
    thousands, rest = divmod(value, 1000)
    return [*number_words(thousands), "thousand", *(number_words(rest) if rest else [])]


def ordinal_words(value: int) -> list[str]:
    """``value`` (0..9999) as an English ordinal: 21 -> ["twenty", "first"]."""
    words = number_words(value)
    last = words[-1]
    if last in IRREGULAR_ORDINALS:
        words[-1] = IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


# -- around a request (stt/vocabulary.py) ------------------------------------------------------

OPENERS = (
    "um", "uh", "er", "erm", "so", "well", "oh", "okay", "right", "hi", "hello", "hiya", "hey",
    "yeah", "sorry", "actually", "and", "oh and", "hi there", "excuse me",
)
"""Words people put before a request: without them in the language model a
recogniser turns "um could I have a latte" into "a little could I have a latte"."""
CLOSERS = ("please", "thanks", "thank you", "cheers", "then", "today", "if you can", "for me")
"""Words people put after a request."""
FILLER_EVERY = 4
"""Every this many sentences of an example, one gets a copy after an opener and another a copy
before a closer (cycling through :data:`OPENERS` and :data:`CLOSERS`)."""


# -- what the assistant says besides the pack's replies ----------------------------------------

MESSAGES: dict[str, str] = {
    # the dialog (dialog.py)
    "cannot_help": "Sorry, I can't help with that.",
    "cannot_help_topics": "Sorry, I can't help with that. I can talk about {topics}.",
    "say_help": "Say help to hear more.",
    "or": "or",
    "clarify": "Do you mean {first}, or {second}?",
    "no_prompts": "I have no reflective questions in this pack yet.",
    "prompt_lead": "Here is something to reflect on.",
    "another_prompt": "Here is another one.",
    "take_your_time": "Take your time. I'm listening.",
    "answer_thanks": "Thank you for sharing that.",
    "answer_kept": "I've kept your answer in your journal.",
    "answer_not_kept": "I couldn't save it to your journal this time.",
    "okay": "Okay.",
    "topic_end_offer": ("That's the heart of what I can say about {topic}. "
                        "Would you like a question to reflect on?"),
    "topic_end": "That's all I have on {topic}.",
    # the voice loop (listen.py, app.py)
    "wake_heard": "Yes?",
    "still_listening": "Take your time. I'm listening, whenever you're ready.",
    "answer_later": "That's all right. We can come back to it another time.",
    "not_heard": "Sorry, I didn't catch that. Could you say it again?",
    # the daily reflection (reminder.py, services.py)
    "reflection_now": "It's time for your reflection. Here is today's question.",
    "reflection_late": "Your reflection was due at {at}. Here is today's question, if you'd "
                       "like it.",
    "schedule_example": "every evening at nine",
    "schedule_set": "All right. I'll offer you a reflection {when}.",
    "schedule_what_time": ("What time would you like your reflection? You could say, for "
                           "example: {example}."),
    "schedule_move_to": "What time should I move your reflection to?",
    "schedule_none_yet": "You have no reflection reminder yet. You could say: {example}.",
    "schedule_set_instead": "You had no reflection reminder, so I've set one: {when}.",
    "schedule_moved": "All right. I've moved your reflection to {when}.",
    "schedule_none_to_cancel": "You have no reflection reminder to cancel.",
    "schedule_cancelled": ("All right. I've cancelled your reflection reminder. You can set a "
                           "new one any time."),
    "schedule_query_none": ("You have no reflection reminder yet. You could say: remind me to "
                            "reflect {example}."),
    "schedule_is": "Your reflection is set for {when}.",
    "schedule_no_time": ("Sorry, I didn't catch a time I can use. Could you say it like this: "
                         "{example}?"),
    "sorry_settings": ("Sorry, I couldn't read or save your settings. The command line shows "
                       "what is wrong."),
    # the journal (services.py)
    "sorry_journal": ("Sorry, I couldn't open your journal. The command line shows what is "
                      "wrong."),
    "journal_on": "Your journal is on.",
    "journal_already_on": "Your journal is already on.",
    "journal_on_how": ("I'll keep your answers as text in a private file on this device, and "
                       "nowhere else. You can turn it off, or delete it with the journal delete "
                       "command."),
    "journal_off": "Your journal is off. I won't keep your answers from now on.",
    "journal_already_off": "Your journal is already off.",
    "journal_kept_one": ("The {count} entry you saved stay on this device until you delete "
                         "them with the journal delete command."),
    "journal_kept": ("The {count} entries you saved stay on this device until you delete them "
                     "with the journal delete command."),
    "journal_empty_off": ("Your journal is off, so I haven't kept any answers. Say: turn on my "
                          "journal, if you'd like me to."),
    "journal_empty": ("Your journal is empty so far. Your next reflection answer will be the "
                      "first entry."),
    "journal_read": "{day}, I asked: {prompt} You said: {answer}",
    "journal_more": "... and a little more.",
    "today": "Today",
    "yesterday": "Yesterday",
    "on_day": "On {weekday} {day} {month}{year}",
}
"""Every sentence the assistant says that is not a reply of the pack: the dialog's own words,
the voice loop's, the reflection reminder's and the journal's. ``{name}`` fields are filled in
by :func:`message`. Translate these (with the pack) for another language."""


def message(key: str, **fields: object) -> str:
    """The sentence ``key`` of :data:`MESSAGES` with its fields filled in."""
    return MESSAGES[key].format(**fields)


# -- clock times: heard (slots.py) and said (schedule.py, tts/text.py) --------------------------

DAY_PART_PHRASES = ("am", "pm", "in the morning", "in the afternoon", "in the evening",
                    "at night", "tonight", "this evening", "this morning", "this afternoon")
"""How people say which part of the day a clock time is in (the phrase model's grammar)."""
PM_CUES = {"pm", "afternoon", "evening", "tonight", "night", "nights", "evenings"}
AM_CUES = {"am", "morning", "mornings"}
DAY_PART_SUFFIXES: list[tuple[tuple[str, ...], str]] = [
    (("in", "the", "morning"), "am"), (("in", "the", "afternoon"), "pm"),
    (("in", "the", "evening"), "pm"), (("at", "night"), "night"), (("tonight",), "pm"),
    (("this", "evening"), "pm"), (("this", "morning"), "am"), (("am",), "am"),
    (("pm",), "pm"), (("a", "m"), "am"), (("p", "m"), "pm"),
]
TIME_PREPOSITIONS = {
    "at", "for", "to", "until", "till", "by", "around", "about", "from", "before", "after",
    "til",
}
"""Words before a bare number that make it a clock time ("at 9")."""
NOT_TIME_AFTER = {
    "year", "years", "month", "months", "week", "weeks", "day", "days", "time", "times",
    "hour", "hours", "minute", "minutes", "people", "kids", "children", "things", "of",
    "percent", "shots", "shot", "sugars", "sugar", "more", "prompts", "questions", "entries",
}
"""Words after a bare number that make it a count, not a clock time ("for 3 weeks")."""
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def _num(token: str) -> int | None:
    return int(token) if token.isdigit() and len(token) <= 2 else None


def clock_times(tokens: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(start, end, ``HH:MM``) of each clock time in ``tokens`` (normalised words: number
    words are digits): "half past 8 in the morning", "9 30 pm", "21:00", "noon"."""
    found: list[tuple[int, int, str]] = []
    whole_cue = _sentence_cue(tokens)
    i = 0
    while i < len(tokens):
        parsed = _parse_clock(tokens, i)
        if parsed is None:
            i += 1
            continue
        hour, minute, end, explicit = parsed
        cue, end = _suffix_cue(tokens, end)
        if cue is None and not explicit:
            i += 1
            continue
        value = _apply_cue(hour, minute, cue or whole_cue)
        if value is not None:
            found.append((i, end, value))
            i = end
        else:
            i += 1
    return found


def _parse_clock(tokens: tuple[str, ...], i: int) -> tuple[int, int, int, bool] | None:
    """(hour, minute, end index, unambiguously a time) for a clock expression at ``i``."""
    word = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if word in ("noon", "midday"):
        return 12, 0, i + 1, True
    if word == "midnight":
        return 0, 0, i + 1, True
    if word == "12" and nxt in ("noon", "midday", "midnight"):
        return (0 if nxt == "midnight" else 12), 0, i + 2, True
    clock = _CLOCK.match(word)
    if clock:
        return int(clock.group(1)), int(clock.group(2)), i + 1, True
    # half past 8 / quarter to 10 / 20 past 7 / 10 minutes to 9
    minutes = {"half": 30, "quarter": 15}.get(word, _num(word))
    j = i + 1
    if minutes is not None and j < len(tokens) and tokens[j] in ("minutes", "minute"):
        j += 1
    if minutes is not None and j + 1 < len(tokens) and tokens[j] in (
        "past", "after", "to", "before", "till", "til"
    ):
        hour = _num(tokens[j + 1])
        if hour is not None and 0 < hour <= 12 and 0 < minutes < 60:
            if tokens[j] in ("past", "after"):
                return hour, minutes, j + 2, True
            return (hour - 1) % 12 or 12, 60 - minutes, j + 2, True
    hour = _num(word)
    if hour is None or hour > 23:
        return None
    # 9 30 / 7 oh 5 / 9 oclock
    if nxt == "oh" and i + 2 < len(tokens) and (_num(tokens[i + 2]) or 10) < 10:
        return hour, _num(tokens[i + 2]) or 0, i + 3, True
    minute = _num(nxt)
    if minute is not None and 10 <= minute < 60 and len(nxt) == 2:
        return hour, minute, i + 2, True
    if nxt in ("oclock", "hundred") and (nxt == "oclock" or hour > 12):
        return hour, 0, i + 2, True
    return hour, 0, i + 1, _bare_hour_ok(tokens, i, i + 1)


def _bare_hour_ok(tokens: tuple[str, ...], start: int, end: int) -> bool:
    before = tokens[start - 1] if start > 0 else ""
    after = tokens[end] if end < len(tokens) else ""
    return before in TIME_PREPOSITIONS and after not in NOT_TIME_AFTER


def _suffix_cue(tokens: tuple[str, ...], end: int) -> tuple[str | None, int]:
    if end < len(tokens) and tokens[end] == "oclock":
        end += 1
    for words, cue in DAY_PART_SUFFIXES:
        if tokens[end : end + len(words)] == words:
            return cue, end + len(words)
    return None, end


def says_part_of_day(tokens: tuple[str, ...]) -> bool:
    """Whether ``tokens`` say which half of the day a clock time is in ("pm", "tonight")."""
    return _sentence_cue(tokens) is not None


def _sentence_cue(tokens: tuple[str, ...]) -> str | None:
    words = set(tokens)
    if words & {"night", "nights", "tonight"}:
        return "night"
    if words & PM_CUES:
        return "pm"
    if words & AM_CUES:
        return "am"
    return None


def _apply_cue(hour: int, minute: int, cue: str | None) -> str | None:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if cue in ("pm", "night") and 1 <= hour <= 11:
        hour += 12
    elif (cue == "night" and hour == 12) or (cue == "am" and hour == 12):
        hour = 0
    return f"{hour:02d}:{minute:02d}"


def spoken_time(at: dtime) -> str:
    """A clock time as people say it: "9 pm", "8:30 am", "noon", "midnight"."""
    if at == dtime(0):
        return "midnight"
    if at == dtime(12):
        return "noon"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour} {suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d} {suffix}"


def day_part(at: dtime) -> str:
    """morning (5-11 h), afternoon (12-16 h), evening (17-21 h), else night."""
    if 5 <= at.hour < 12:
        return "morning"
    if 12 <= at.hour < 17:
        return "afternoon"
    if 17 <= at.hour < 22:
        return "evening"
    return "night"


# ------------------------------------------------------------ phrases the recognisers expect

ANSWER_PHRASES = (
    "yes", "no", "yes please", "no thanks", "okay", "the first one", "the second one",
    "the other one", "neither", "both", "cancel", "stop", "repeat that", "tell me more",
    "help", "goodbye",
)
"""Short answers the dialog asks for itself (confirmations, "Do you mean X or Y?")."""

_ONES = "|".join(NUMBER_WORDS[1:10])
_TEENS = "|".join(NUMBER_WORDS[10:20])
_TENS = "|".join(TENS_WORDS)
_DAY_PART = "|".join(DAY_PART_PHRASES)
SPOKEN_LISTS: dict[str, tuple[str, ...]] = {
    "number": (
        f"(zero|{_ONES}|{_TEENS})",
        f"({_TENS}) [{_ONES}]",
        f"[a|{_ONES}] hundred [[and] {{_below_hundred}}]",
    ),
    "time": (
        "{_hour} [o'clock] [{_day_part}]",
        "{_hour} {_minute} [{_day_part}]",
        "(half|quarter) (past|to) {_hour} [{_day_part}]",
        "{_minute_count} [minutes] (past|to|after) {_hour} [{_day_part}]",
        "[twelve] (noon|midnight|midday)",
        "{_hour24} hundred [hours]",
    ),
    "_hour": (f"({_ONES}|ten|eleven|twelve)",),
    "_hour24": ("(thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)",
                "twenty [one|two|three]"),
    "_minute": (f"oh ({_ONES})", f"({_TEENS})", f"(twenty|thirty|forty|fifty) [{_ONES}]"),
    "_minute_count": (f"({_ONES}|{_TEENS})", f"twenty [{_ONES}]"),
    "_below_hundred": (f"({_ONES}|{_TEENS})", f"({_TENS}) [{_ONES}]"),
    "_day_part": (f"({_DAY_PART})",),
}
"""How the built-in ``number`` and ``time`` lists are said, in template syntax, for the
recognisers' phrase models; ``_`` lists are helpers."""
SPOKEN_LIST_WEIGHTS: dict[str, tuple[float, ...]] = {
    "number": (4, 2, 0.5),
    "time": (6, 3, 2, 1, 1, 0.2),
}
"""How often each form of a built-in list is used for the language model: people say "at
nine" far more often than "at twenty one hundred hours"."""

ANSWER_DONE_PHRASES = ("i am done", "i am finished", "that is all", "that is it", "done",
                       "finished")
"""What ends a reflection answer when said at its end (normalised: "I'm done" -> "i am done")."""
