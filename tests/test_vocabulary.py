"""Biasing material from intent packs: spoken forms, JSGF prefix tree, n-gram model, phrases,
and the missing-word report."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from assistant.pack import templates
from assistant.pack.intents import IntentPack, shipped_dir
from assistant.speech import stt
from assistant.speech.stt.pocketsphinx import dictionary_path, read_dictionary_words
from assistant.speech.stt.vocabulary import (
    FILLER_EVERY,
    PREFIX_ALONE_SHARE,
    PREFIX_EVERY,
    Vocabulary,
    build_arpa,
    number_words,
    ordinal_words,
    spoken_words,
)

PACK = """
language: en
lists:
  day_part:
    values: [morning, evening, {in: "(tonight|at night)", out: evening}]
  drink:
    values: [{in: "flat white", out: flat_white}, macchiato, cortado]
intents:
  - name: where_to_start
    topic: where to start
    examples:
      - "how do i start rebuilding trust [with my partner]"
      - "how do i (begin|start) again"
      - "where do i begin"
    replies: ["Start by listening."]
  - name: reflection_schedule
    examples:
      - "remind me to reflect every {day_part} at {time}"
      - "move it to {new_time:time}"
    replies: ["Done."]
  - name: order
    examples: ["a {drink} please", "{count:number} {drink}"]
    replies: ["Coming."]
"""


@pytest.fixture(scope="module")
def pack() -> IntentPack:
    return IntentPack.from_yaml(PACK)


@pytest.fixture(scope="module")
def vocab(pack: IntentPack) -> Vocabulary:
    return Vocabulary.from_pack(pack, ["hey coach"])


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("Hello,", ["hello"]), ("21", ["twenty", "one"]), ("7", ["seven"]),
        ("100", ["one", "hundred"]), ("21:30", ["twenty", "one", "thirty"]),
        ("9:00", ["nine", "o'clock"]), ("21:00", ["twenty", "one", "hundred"]),
        ("1st", ["first"]), ("22nd", ["twenty", "second"]), ("12th", ["twelfth"]),
        ("slip-ups", ["slip", "ups"]), ("o'clock", ["o'clock"]), ("안녕하세요", ["안녕하세요"]),
        ("!!", []),
    ],
)
def test_spoken_words(token: str, words: list[str]) -> None:
    assert spoken_words(token) == words


def test_number_and_ordinal_words() -> None:
    assert number_words(0) == ["zero"]
    assert number_words(45) == ["forty", "five"]
    assert number_words(2024) == ["two", "thousand", "twenty", "four"]
    assert ordinal_words(30) == ["thirtieth"]
    assert ordinal_words(3) == ["third"]


def test_builtin_lists_have_spoken_forms(vocab: Vocabulary) -> None:
    times = set(vocab.list_phrases("time", limit=10**6))
    for said in ("nine", "nine pm", "half past eight", "nine thirty pm", "quarter to ten",
                 "seven oh five", "twenty past seven in the morning", "noon", "twelve midnight",
                 "ten o'clock at night"):
        assert said in times
    numbers = set(vocab.list_phrases("number"))
    assert {"twenty one", "nine", "ninety nine", "a hundred"} <= numbers


def test_vocabulary_has_examples_topics_system_and_extra_phrases(vocab: Vocabulary) -> None:
    words = vocab.words()
    assert {"rebuilding", "macchiato", "evening", "tonight", "thirty", "hey", "coach"} <= words
    flat = {" ".join(w.text for w in e.items if hasattr(w, "text")) for e in vocab.examples}
    assert {"where to start", "reflection schedule", "yes", "the first one", "hey coach"} <= flat


def test_jsgf_is_a_prefix_tree_with_list_rules(vocab: Vocabulary) -> None:
    grammar = vocab.jsgf()
    utterance = next(line for line in grammar.splitlines() if line.startswith("public"))
    # shared prefixes are written once
    assert utterance.count("how do i") == 1
    assert "how do i ( start rebuilding trust [ with my partner ] | ( begin | start ) again )" \
        in utterance
    # slots refer to one rule per list, defined once, never copied
    assert "<list_time>" in utterance and "<list_day_part>" in utterance
    assert grammar.count("<list_time> =") == 1
    assert re.search(r"^<list_day_part> = morning \| evening \| \( tonight \| at night \);$",
                     grammar, re.M)
    assert "<list__hour> =" in grammar  # helper rules of the built-in time list


def test_shipped_pack_grammar_is_compact() -> None:
    pack = IntentPack.from_dirs([shipped_dir()], "en")
    grammar = Vocabulary.from_pack(pack).jsgf()
    expanded = sum(1 for _ in Vocabulary.from_pack(pack).sentences(per_example=1))
    # one rule per expanded sentence would be megabytes
    assert len(grammar) < 200_000
    assert expanded > 500


def test_jsgf_compiles_in_pocketsphinx(vocab: Vocabulary) -> None:
    from pocketsphinx import Decoder

    decoder = Decoder(lm=None, loglevel="FATAL")
    for index, word in enumerate(sorted(vocab.words())):
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, "AH", index == len(vocab.words()) - 1)
    decoder.add_jsgf_string("command", vocab.jsgf())


def test_sentences_are_deterministic_and_cover_slots(vocab: Vocabulary) -> None:
    first = vocab.sentences()
    assert first == vocab.sentences()
    texts = {" ".join(s) for s in first}
    assert "how do i start rebuilding trust with my partner" in texts
    assert "a flat white please" in texts
    assert any(t.startswith("remind me to reflect every evening at ") for t in texts)


def test_prefixes_go_before_a_share_of_the_sentences(pack: IntentPack) -> None:
    plain = Vocabulary.from_pack(pack)
    vocab = Vocabulary.from_pack(pack, prefixes=["Hey coach,"])
    assert vocab.prefix_texts() == ["hey coach"]
    assert {"hey", "coach"} <= vocab.words()
    texts = [" ".join(s) for s in vocab.sentences()]
    alone = texts.count("hey coach")
    prefixed = [t.removeprefix("hey coach ") for t in texts if t.startswith("hey coach ")]
    others = [t for t in texts if not t.startswith("hey coach")]
    base = [" ".join(s) for s in plain.sentences()]
    assert others == base  # the rest of the model is what it was without the prefix
    assert set(prefixed) <= set(base)
    # the first sentence of every example, and every PREFIX_EVERY-th after it
    assert {"how do i start rebuilding trust", "where do i begin", "a flat white please",
            "where to start"} <= set(prefixed)
    # base has copies of a quarter of the sentences with an opener and a quarter with a closer
    own = len(base) / (1 + 2 / FILLER_EVERY)
    assert len(prefixed) == pytest.approx(own / PREFIX_EVERY, rel=0.1)
    assert alone == round(len(prefixed) * PREFIX_ALONE_SHARE) > 1
    assert texts == [" ".join(s) for s in vocab.sentences()]  # deterministic


def test_prefix_in_the_grammar(pack: IntentPack) -> None:
    from pocketsphinx import Decoder

    vocab = Vocabulary.from_pack(pack, prefixes=["hey coach"])
    grammar = vocab.jsgf()
    assert "public <utterance> = [ <prefix> ] ( how do i" in grammar
    assert re.search(r"^<prefix> = hey coach;$", grammar, re.M)
    decoder = Decoder(lm=None, loglevel="FATAL")
    for index, word in enumerate(sorted(vocab.words())):
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, "AH", index == len(vocab.words()) - 1)
    decoder.add_jsgf_string("command", grammar)
    assert "<prefix>" not in Vocabulary.from_pack(pack, ["hey coach"]).jsgf()


def test_prefix_in_vosk_phrases(pack: IntentPack) -> None:
    vocab = Vocabulary.from_pack(pack, prefixes=["hey coach"])
    phrases = vocab.phrases()
    assert phrases[0] == "hey coach"
    assert {"where do i begin", "hey coach where do i begin", "a macchiato please"} <= set(phrases)
    prefixed = [p for p in phrases if p.startswith("hey coach ")]
    assert 0.2 < len(prefixed) / len(phrases) < 0.5
    assert len(vocab.phrases(limit=10)) == 10 and vocab.phrases(limit=10)[0] == "hey coach"
    cut = vocab.phrases(known=lambda w: w != "hey")
    assert "coach where do i begin" in cut and not any("hey" in p for p in cut)


def _parse_arpa(text: str) -> dict[int, dict[tuple[str, ...], tuple[float, float]]]:
    grams: dict[int, dict[tuple[str, ...], tuple[float, float]]] = {}
    order = 0
    for line in text.splitlines():
        header = re.match(r"^\\(\d)-grams:$", line)
        if header:
            order = int(header.group(1))
            grams[order] = {}
        elif order and line.strip() and not line.startswith("\\"):
            parts = line.split()
            words = tuple(parts[1 : 1 + order])
            bow = float(parts[1 + order]) if len(parts) > 1 + order else 0.0
            grams[order][words] = (float(parts[0]), bow)
    return grams


def _prob(grams: dict[int, dict[tuple[str, ...], tuple[float, float]]],
          context: tuple[str, ...], word: str) -> float:
    gram = (*context, word)
    if gram in grams.get(len(gram), {}):
        return 10 ** grams[len(gram)][gram][0]
    if not context:
        return 0.0
    bow = grams[len(context)].get(context, (0.0, 0.0))[1]
    return 10 ** bow * _prob(grams, context[1:], word)


def test_arpa_model_is_a_proper_distribution() -> None:
    sentences = [["how", "do", "i", "start"], ["how", "do", "i", "begin"],
                 ["where", "do", "i", "begin"], ["stop"]]
    arpa = build_arpa(sentences, {"the": 0.6, "weather": 0.4}, general_weight=0.2)
    grams = _parse_arpa(arpa)
    vocab = [w[0] for w in grams[1] if w[0] != "<s>"]
    for context in [(), ("<s>",), ("do",), ("do", "i"), ("how", "do"), ("weather",)]:
        total = sum(_prob(grams, context, w) for w in vocab)
        assert math.isclose(total, 1.0, rel_tol=1e-3), context
    assert _prob(grams, (), "weather") == pytest.approx(0.2 * 0.4, rel=1e-3)


def test_vosk_phrases_expand_small_examples_and_split_big_ones(vocab: Vocabulary) -> None:
    phrases = vocab.phrases()
    assert "how do i start rebuilding trust with my partner" in phrases
    assert "a macchiato please" in phrases
    # "remind me ... {time}" expands to too many sentences: words between slots, and values
    assert "remind me to reflect every" in phrases
    assert "half past eight" in phrases or "half past" in phrases
    known = {"how", "do", "i", "start", "again"}
    cut = vocab.phrases(known=lambda w: w in known)
    assert "how do i start again" in cut and "how do i start" in cut
    assert all(set(p.split()) <= known for p in cut)


def test_missing_words_for_pocketsphinx(pack: IntentPack) -> None:
    missing = stt.missing_words(pack, "pocketsphinx")
    assert "cortado" in missing and "macchiato" in missing
    assert "trust" not in missing
    lines = stt.coverage_report(pack, "pocketsphinx")
    assert lines[0].startswith("pocketsphinx: ")
    assert "not in the pronunciation dictionary" in lines[0]
    cortado = next(line for line in lines if line.strip().startswith("cortado"))
    assert re.fullmatch(r"\s+cortado\s+K AO R T AA D OW", cortado)


def test_user_dictionary_words_are_not_missing(pack: IntentPack, tmp_path: Path) -> None:
    user = tmp_path / "user.dict"
    user.write_text("cortado K AO R T AA D OW\nmacchiato M AA K IY AA T OW\n")
    assert stt.missing_words(pack, "pocketsphinx", user_dict=user) == []
    assert "all" in stt.coverage_report(pack, "pocketsphinx", user_dict=user)[0]


def test_dictionary_reader_folds_variants() -> None:
    words = read_dictionary_words(dictionary_path())
    assert {"today's", "o'clock", "hundred"} <= words
    assert not any("(" in w for w in words)


def test_vosk_report_without_word_list(pack: IntentPack, tmp_path: Path) -> None:
    assert stt.missing_words(pack, "vosk", tmp_path) == []
    lines = stt.coverage_report(pack, "vosk", tmp_path)
    assert "has no word list" in lines[0]


def test_vosk_words_txt(pack: IntentPack, tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    known = Vocabulary.from_pack(pack).words() - {"cortado"}
    (tmp_path / "graph" / "words.txt").write_text(
        "".join(f"{w} {i}\n" for i, w in enumerate(sorted(known)))
    )
    assert stt.missing_words(pack, "vosk", tmp_path) == ["cortado"]
    assert "cortado" in stt.coverage_report(pack, "vosk", tmp_path)[0]


def test_some_sentences_come_with_openers_and_closers() -> None:
    example = templates.parse("(can|could|may|might) i have a (latte|mocha)")
    vocabulary = Vocabulary(examples=(example,), lists={})
    sentences = [" ".join(s) for s in vocabulary.sentences()]
    assert "can i have a latte" in sentences
    assert any(s.endswith("can i have a latte") and s != "can i have a latte" for s in sentences)
    assert any(s.startswith("could i have a latte ") for s in sentences)
    korean = Vocabulary(examples=(templates.parse("(a|b) c"),), lists={}, language="ko")
    assert sorted(" ".join(s) for s in korean.sentences()) == ["a c", "b c"]
