"""Fuzzing (hypothesis): the template parser, the YAML and intent loader, the normaliser, the
matcher, the time parsers, the WAV reader and the config loader raise nothing but their
documented errors, and answer in bounded time, whatever they are given.

Deterministic (``derandomize``) so the suite gives the same verdict each run; set
``FUZZ_EXAMPLES`` (e.g. 20000) to search longer with fresh random inputs.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import time
from datetime import time as dtime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.audio.wavio import decode_wav
from assistant.base import limits
from assistant.base.config import Settings, settings_from_dict
from assistant.base.errors import AudioError, ConfigError, IntentFileError, TemplateError
from assistant.base.normalize import normalize, normalize_tokens
from assistant.base.schedule import DAYS, Schedule, parse_hhmm
from assistant.base.yamlsource import YamlError, load
from assistant.pack import templates
from assistant.pack.intents import IntentPack, parse_file_text, shipped_dir
from assistant.pack.slots import number_spans, time_spans
from assistant.understanding.matcher import Matcher

_SEARCH = int(os.environ.get("FUZZ_EXAMPLES", "0"))


def fuzz(examples: int, deadline_ms: int = 2000) -> Any:
    """Hypothesis settings: ``examples`` inputs (more with FUZZ_EXAMPLES), each answered
    within ``deadline_ms``; no example database in the working directory."""
    return settings(
        max_examples=_SEARCH or examples, deadline=deadline_ms, database=None,
        derandomize=not _SEARCH,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# -- templates ---------------------------------------------------------------------------------

TEMPLATE_CHARS = st.sampled_from(list("()[]{}|: ab_x1'\u00e9\t"))
templates_text = st.one_of(
    st.text(TEMPLATE_CHARS, max_size=80),
    st.text(max_size=80),
    st.lists(st.sampled_from(["(a|b|c|d)", "[x]", "{l}", "{s:l}", "(", ")", "word", "|", " "]),
             max_size=60).map(" ".join),
)


@fuzz(600)
@given(templates_text)
def test_template_parser(text: str) -> None:
    try:
        tree = templates.parse(text)
    except TemplateError as exc:
        assert "\n" not in exc.format_message()
        return
    total = templates.count(tree)
    assert total >= 1
    try:
        sentences = templates.expand(tree, limit=2000)
    except ValueError:
        assert total > 2000
        return
    assert len(sentences) == total
    for sentence in sentences:
        assert all(isinstance(t, str | templates.SlotRef) for t in sentence)


# -- YAML and intent files ---------------------------------------------------------------------

YAML_PIECES = st.sampled_from([
    "- ", ": ", "&a ", "*a ", "[", "]", "{", "}", "\n", "  ", "a", "b", "'", '"', "!!binary ",
    "!!python/object:os.system ", "1", "#", "? ", "|\n", ">\n", "---\n", "...\n", "<<: ", ",",
    "%YAML 1.1\n", "!!timestamp ", "2001-13-45", ".nan", "~", "\t", "\x00", "\ud800", "\u2028",
    "language: en\n", "intents:\n", "lists:\n", "  - name: x\n", "    examples: [hi]\n",
    "    replies: [ok]\n", "name", "examples", "replies", "values", "in", "out", "(a|b)", "{l}",
])
yaml_text = st.one_of(st.lists(YAML_PIECES, max_size=60).map("".join), st.text(max_size=200))


@fuzz(600)
@given(yaml_text)
def test_yaml_loader(text: str) -> None:
    try:
        load(text)
    except YamlError as exc:
        assert exc.line is None or exc.line >= 1
        assert "\n" not in exc.message.strip()


@fuzz(600)
@given(yaml_text)
def test_intent_file_from_any_text(text: str) -> None:
    try:
        parse_file_text(text, "f.yaml")
    except IntentFileError as exc:
        assert exc.format_message().startswith("f.yaml")


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.text(TEMPLATE_CHARS, max_size=20), st.text(max_size=10))
values = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["name", "examples", "replies", "values", "in", "out",
                                     "safety", "context", "question", "topic", "x"]),
                    inner, max_size=4)), max_leaves=20)
intent = st.fixed_dictionaries({"name": st.one_of(st.just("x"), SCALARS)}, optional={
    "examples": st.one_of(st.lists(st.one_of(templates_text, SCALARS), max_size=4), values),
    "replies": st.one_of(st.lists(st.text(max_size=20), max_size=3), values),
    "safety": st.one_of(st.booleans(), values), "not_safety": values,
    "context": values, "question": values, "keywords": values, "danger_words": values,
    "topic": values, "out_of_scope": values, "prompts": values,
})
intent_file = st.fixed_dictionaries({}, optional={
    "language": st.one_of(st.just("en"), SCALARS),
    "intents": st.one_of(st.lists(intent, max_size=3), values),
    "lists": st.one_of(st.dictionaries(st.sampled_from(["l", "time", "Bad"]), st.one_of(
        st.fixed_dictionaries({"values": st.lists(st.one_of(
            templates_text, SCALARS, st.fixed_dictionaries({"in": templates_text,
                                                            "out": SCALARS})), max_size=3)}),
        values), max_size=2), values),
    "extra": values,
})


@fuzz(500)
@given(intent_file)
def test_intent_file_from_any_structure(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        parsed = parse_file_text(text, "f.yaml")
    except IntentFileError as exc:
        assert exc.format_message().startswith("f.yaml")
        return
    with contextlib.suppress(IntentFileError):
        IntentPack.merge([parsed])


# -- normaliser, matcher, time -----------------------------------------------------------------

UTTERANCE_WORDS = st.sampled_from([
    "i", "hurt", "my", "partner", "how", "do", "start", "rebuilding", "trust", "kill", "myself",
    "at", "nine", "thirty", "pm", "twenty", "five", "a", "hundred", "o'clock", "21:00", "7",
    "can't", "it's", "tell", "me", "more", "stop", "um", "--", "!!", "I'M", "ﬁne", "\u0130",
    "ß", "2:", ":30", "@time", "{time}", "  ",
])
utterances = st.one_of(st.lists(UTTERANCE_WORDS, max_size=40).map(" ".join),
                       st.text(max_size=300))


@fuzz(800, deadline_ms=1000)
@given(utterances)
def test_normaliser(text: str) -> None:
    result = normalize(text)
    assert isinstance(result, str)
    assert result == " ".join(normalize_tokens(text))
    assert "  " not in result and result == result.strip()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(IntentPack.from_dirs([shipped_dir()], "en"))


@fuzz(300)
@given(text=utterances, context=st.sampled_from([None, "reflection", "nonsense"]))
def test_matcher(matcher: Matcher, text: str, context: str | None) -> None:
    match = matcher.match(text, context=context)
    assert match.intent is None or match.intent in matcher.pack.intents
    assert 0.0 <= match.confidence <= 1.0 and not math.isnan(match.confidence)
    safety = matcher.safety(text)
    assert safety is None or matcher.pack.intents[str(safety.intent)].safety


def test_matcher_time_on_the_longest_utterance(matcher: Matcher) -> None:
    text = " ".join(["how do i start rebuilding trust at nine thirty"] * 22)[:1000]
    start = time.perf_counter()
    matcher.match(text)
    matcher.safety(text)
    assert time.perf_counter() - start < 2.0


@fuzz(800, deadline_ms=500)
@given(st.one_of(st.text(st.sampled_from(list("0123456789:²٣ ０ -+.")), max_size=12),
                 st.text(max_size=12)))
def test_clock_time_parser(text: str) -> None:
    try:
        at = parse_hhmm(text)
    except ValueError as exc:  # documented: a plain message quoting the text
        assert str(exc).startswith(f'"{text}" is not a time')
        return
    assert isinstance(at, dtime)
    assert Schedule(text, "daily").time == f"{at.hour:02d}:{at.minute:02d}"


@fuzz(300, deadline_ms=500)
@given(st.text(max_size=12), st.text(max_size=12))
def test_schedule(at: str, days: str) -> None:
    try:
        Schedule(at, days)
    except ValueError:
        return
    assert days in DAYS


@fuzz(800, deadline_ms=1000)
@given(utterances)
def test_spoken_time_and_number_finders(text: str) -> None:
    tokens = normalize_tokens(text)
    for span in [*time_spans(tokens), *number_spans(tokens)]:
        assert 0 <= span.start < span.end <= len(tokens)
    for span in time_spans(tokens):
        hours, minutes = span.value.split(":")
        assert 0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59


# -- WAV reader --------------------------------------------------------------------------------


def riff(chunks: list[tuple[bytes, bytes]], kind: bytes = b"RIFF") -> bytes:
    body = b"WAVE" + b"".join(cid + struct.pack("<I", len(data)) + data
                              for cid, data in chunks)
    return kind + struct.pack("<I", len(body)) + body


fmt_chunk = st.builds(
    lambda tag, channels, rate, bits, extra: struct.pack(
        "<HHIIHH", tag, channels, rate, rate * max(channels, 1) * max(bits, 8) // 8 % 2**32,
        max(channels, 1) * max(bits, 8) // 8 % 2**16, bits) + extra,
    st.sampled_from([1, 3, 6, 7, 0xFFFE, 0, 2]),
    st.one_of(st.integers(0, 8), st.integers(0, 2**16 - 1)),
    st.one_of(st.sampled_from([8000, 16000, 44100, 48000]), st.integers(0, 2**32 - 1)),
    st.sampled_from([0, 4, 8, 12, 16, 24, 32, 64]),
    st.one_of(st.just(b""), st.binary(max_size=12),
              st.sampled_from([struct.pack("<HHIH", 22, 16, 0, 1), struct.pack("<HHIH", 22, 32,
                                                                               0, 3)]) .map(
                  lambda b: b + bytes(14))),
)
wav_blobs = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda fmt, data, order, kind: riff(
        [(b"fmt ", fmt), (b"data", data)][::order], kind),
        fmt_chunk, st.binary(max_size=4000), st.sampled_from([1, -1]),
        st.sampled_from([b"RIFF", b"RIFF", b"RIFX"])),
    st.builds(lambda fmt, data, cut: riff([(b"fmt ", fmt), (b"data", data)])[:cut],
              fmt_chunk, st.binary(max_size=400), st.integers(0, 500)),
)


@fuzz(600)
@given(wav_blobs)
def test_wav_reader(blob: bytes) -> None:
    try:
        pcm = decode_wav(Path("x.wav"), blob)
    except AudioError as exc:
        assert exc.format_message().startswith("x.wav: ")
        return
    assert len(pcm) % 2 == 0 and len(pcm) > 0


# -- config ------------------------------------------------------------------------------------

SECTIONS = {"matcher": ["threshold", "margin", "keyword_boost", "safety_threshold"],
            "stt": ["engine", "model", "bias", "sample_rate", "user_dict"],
            "tts": ["enabled", "voice", "rate", "volume", "rate_step"],
            "audio": ["input_device", "output_device", "block_ms"],
            "listen": ["wake_phrase", "follow_up_s", "end_silence_s", "max_utterance_s"],
            "safety": ["region", "helpline_name", "helpline_number"]}
config_values = st.one_of(SCALARS, st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**30, 10**30), values)
config_data = st.one_of(
    st.fixed_dictionaries({}, optional={
        **{name: st.one_of(st.dictionaries(st.sampled_from([*keys, "nope"]), config_values,
                                           max_size=4), config_values)
           for name, keys in SECTIONS.items()},
        "language": config_values, "intents_dirs": config_values, "engine": config_values,
        "model": config_values, "unknown": config_values}),
    st.dictionaries(st.text(max_size=8), config_values, max_size=3),
)


@fuzz(600, deadline_ms=1000)
@given(config_data)
def test_config_loader(data: dict[str, Any]) -> None:
    try:
        loaded = settings_from_dict(data, Path("c.yaml"))
    except ConfigError as exc:
        assert exc.format_message().startswith("c.yaml: ")
        return
    assert isinstance(loaded, Settings)
    assert 0 <= loaded.matcher.threshold <= 1 and 80 <= loaded.tts.rate <= 450


@fuzz(300, deadline_ms=1000)
@given(yaml_text)
def test_config_file_from_any_text(text: str) -> None:
    from assistant.base.config import load_settings

    path = Path(os.environ["TRUST_ASSISTANT_CONFIG_DIR"]) / "fuzz.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_settings(path)
    except ConfigError as exc:
        assert "\n" not in exc.format_message()


def test_limits_are_what_the_readme_says() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in ("MAX_FILE_BYTES", "MAX_EXAMPLE_CHARS", "MAX_EXAMPLE_WORDS", "MAX_EXPANSIONS",
                 "MAX_PACK_SENTENCES", "MAX_ITEMS"):
        assert f"{getattr(limits, name):,}" in readme, name
