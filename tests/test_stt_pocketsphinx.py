"""PocketSphinx for real: espeak-ng speech and real recordings, biased and open."""

from __future__ import annotations

from pathlib import Path

import pytest
from speech import ESPEAK, GOFORWARD_RAW, corpus_wer, librivox, speak, wer

from assistant.audio.wavio import read_wav
from assistant.base.config import SttSettings
from assistant.base.errors import EngineError, ModelError
from assistant.loop.wake import split_wake
from assistant.pack.intents import IntentPack
from assistant.speech.stt import make_recognizer
from assistant.speech.stt.pocketsphinx import PocketSphinxRecognizer
from assistant.speech.stt.twopass import TwoPassRecognizer
from assistant.speech.stt.vocabulary import Vocabulary

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(ESPEAK is None, reason="needs espeak-ng"),
]
needs_testdata = pytest.mark.skipif(
    not GOFORWARD_RAW.exists(), reason="needs Debian's pocketsphinx-testdata"
)

PACK = """
language: en
lists:
  day_part:
    values: [morning, afternoon, evening, {in: "(tonight|at night)", out: evening}]
  drink:
    values: [latte, {in: "flat white", out: flat_white}, macchiato, cortado]
intents:
  - name: where_to_start
    examples:
      - "how do i start rebuilding trust [with my partner]"
      - "where do i (begin|start)"
      - "what is the first step"
    replies: ["Start by listening."]
  - name: sincere_apology
    examples:
      - "how do i (apologise|apologize) [properly]"
      - "what makes an apology (sincere|genuine)"
    replies: ["Name what you did."]
  - name: reflection_schedule
    examples:
      - "remind me to reflect every {day_part} at {time}"
      - "(move|change) my reminder to {time}"
    replies: ["Done."]
  - name: repeat
    examples: ["(say|repeat) that again", "what did you say"]
    replies: ["I have not said anything yet."]
  - name: stop
    examples: ["stop", "be quiet", "that is enough"]
    replies: ["Okay."]
  - name: order
    examples: ["can i (get|have) a {drink} [please]"]
    replies: ["Coming up."]
"""

VOICES = [("en-us", 150), ("en", 175), ("en-us+f3", 150)]
REQUESTS = [
    "how do i start rebuilding trust with my partner",
    "what makes an apology sincere",
    "remind me to reflect every evening at nine",
    "where do i begin",
    "change my reminder to half past eight",
    "can i get a cortado please",
]
OFF_SCRIPT = [
    "my brother has a new job in the city",
    "i think we never really talk about money",
    "the weather was lovely so we went for a long walk",
]
FREE_SPEECH = [
    "i felt close to her when we cooked dinner together last night",
    "i am learning to listen more and to talk less",
]


@pytest.fixture(scope="module")
def pack() -> IntentPack:
    return IntentPack.from_yaml(PACK)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stt-cache")


@pytest.fixture(scope="module")
def recognizer(pack: IntentPack, cache: Path) -> PocketSphinxRecognizer:
    return PocketSphinxRecognizer(Vocabulary.from_pack(pack, ["hey coach"]), cache_dir=cache)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


def test_loads_once_quickly_and_reports_missing_words(recognizer: PocketSphinxRecognizer) -> None:
    assert recognizer.load_seconds < 10
    assert recognizer.name == "pocketsphinx" and recognizer.sample_rate == 16000
    assert set(recognizer.guessed) >= {"cortado", "macchiato"}
    assert any(line.strip().startswith("cortado ") for line in recognizer.report)


def test_biased_recognition_beats_the_generic_model(
    recognizer: PocketSphinxRecognizer, audio_dir: Path
) -> None:
    biased, unbiased = [], []
    for voice, rate in VOICES:
        for text in REQUESTS:
            pcm = speak(text, audio_dir, voice, rate)
            biased.append((text, recognizer.transcribe(pcm, "command").text))
            unbiased.append((text, recognizer.transcribe(pcm, "open").text))
    exact = sum(ref == hyp for ref, hyp in biased)
    assert corpus_wer(biased) <= 0.25, biased
    assert corpus_wer(unbiased) >= 2 * corpus_wer(biased), (biased, unbiased)
    assert exact >= len(biased) * 0.6, biased


def test_off_script_speech_is_not_forced_onto_a_known_phrase(
    recognizer: PocketSphinxRecognizer, pack: IntentPack, audio_dir: Path
) -> None:
    vocabulary = Vocabulary.from_pack(pack)
    known_sentences = {" ".join(s) for s in vocabulary.sentences(per_example=50)}
    pack_words = vocabulary.words()
    heard_new_words = 0
    for text in OFF_SCRIPT:
        for voice, rate in VOICES[:2]:
            result = recognizer.transcribe(speak(text, audio_dir, voice, rate), "command")
            assert result.text not in known_sentences
            said = set(text.split()) - pack_words
            heard_new_words += len(said & set(result.text.split())) >= 2
    assert heard_new_words >= len(OFF_SCRIPT)  # at least half of them come out as words


def test_open_mode_transcribes_free_speech(
    recognizer: PocketSphinxRecognizer, audio_dir: Path
) -> None:
    pairs = [
        (text, recognizer.transcribe(speak(text, audio_dir, "en-us", 150), "open").text)
        for text in FREE_SPEECH
    ]
    assert corpus_wer(pairs) <= 0.5, pairs


@needs_testdata
def test_real_recording_go_forward(recognizer: PocketSphinxRecognizer) -> None:
    pcm = GOFORWARD_RAW.read_bytes()
    assert recognizer.transcribe(pcm, "open").text == "go forward ten meters"
    # off-script for the pack: the open path takes over in command mode too
    result = recognizer.transcribe(pcm, "command")
    assert result.text == "go forward ten meters"
    assert 0 < result.confidence <= 1


@needs_testdata
def test_real_read_speech_word_error_rate(recognizer: PocketSphinxRecognizer) -> None:
    pairs = [(text, recognizer.transcribe(read_wav(path), "open").text)
             for path, text in librivox()]
    assert len(pairs) == 5
    assert corpus_wer(pairs) <= 0.35, pairs


@needs_testdata
def test_results_do_not_depend_on_file_order(
    recognizer: PocketSphinxRecognizer, audio_dir: Path
) -> None:
    first = speak(REQUESTS[2], audio_dir, "en", 175)
    second = read_wav(librivox()[1][0])
    for mode in ("command", "open"):
        forward = [recognizer.transcribe(pcm, mode) for pcm in (first, second)]
        backward = [recognizer.transcribe(pcm, mode) for pcm in (second, first)]
        assert forward == backward[::-1]


def test_leading_and_trailing_silence_are_fine(
    recognizer: PocketSphinxRecognizer, audio_dir: Path
) -> None:
    text = REQUESTS[0]
    pcm = speak(text, audio_dir, "en-us", 150)
    silence = b"\0\0" * 16000 * 5
    assert recognizer.transcribe(silence + pcm + silence, "command").text == text
    assert recognizer.transcribe(silence, "command").text == ""


def test_streaming_gives_partials_then_a_final_transcript(
    recognizer: PocketSphinxRecognizer, audio_dir: Path
) -> None:
    text = REQUESTS[1]
    pcm = b"\0\0" * 8000 + speak(text, audio_dir, "en-us", 150) + b"\0\0" * 8000
    for _ in range(2):  # a second utterance on the same live decoder works as well
        recognizer.start("command")
        partials = [recognizer.feed(pcm[i : i + 3200]) for i in range(0, len(pcm), 3200)]
        final = recognizer.finish()
        assert any(partials[: len(partials) // 2 + 2])
        assert final.text == text
        assert 0 < final.confidence <= 1
    assert recognizer.finish().text == ""  # nothing started


def test_user_dictionary(pack: IntentPack, tmp_path: Path) -> None:
    user = tmp_path / "words.dict"
    user.write_text(";;; my words\ncortado K AO R T AA D OW\nmacchiato M AA K IY AA T OW\n")
    recognizer = PocketSphinxRecognizer(Vocabulary.from_pack(pack), user_dict=user,
                                        general_words=0)
    assert recognizer.guessed == {}
    assert "2 from the user dictionary" in recognizer.report[0]
    pcm = speak("can i get a macchiato please", tmp_path, "en-us", 150)
    assert recognizer.transcribe(pcm).text == "can i get a macchiato please"


def test_bad_user_dictionary(tmp_path: Path) -> None:
    user = tmp_path / "bad.dict"
    user.write_text("hello HH AH L OW\nzorb Z QQ R B\n")
    with pytest.raises(ModelError) as caught:
        PocketSphinxRecognizer(None, user_dict=user)
    assert caught.value.format_message() == (
        f"{user}:2: bad pronunciation for 'zorb' (unknown phones: QQ); write CMU phones, "
        "e.g. 'hello HH AH L OW'"
    )


def test_missing_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"en-us is missing; pass a complete model directory"):
        PocketSphinxRecognizer(None, model_dir=tmp_path)


def test_nothing_is_printed(pack: IntentPack, tmp_path: Path,
                            capfd: pytest.CaptureFixture[str]) -> None:
    recognizer = PocketSphinxRecognizer(Vocabulary.from_pack(pack), cache_dir=tmp_path)
    recognizer.transcribe(b"\0\0" * 16000, "command")
    recognizer.transcribe(b"\0\0" * 16000, "open")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_cache_spares_building_the_phrase_model_again(
    pack: IntentPack, tmp_path: Path, audio_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vocabulary = Vocabulary.from_pack(pack, ["hey coach"])
    cold = PocketSphinxRecognizer(vocabulary, cache_dir=tmp_path)
    assert sorted(p.name.split(".", 1)[1] for p in tmp_path.iterdir()) == ["dict", "json", "lm.bin"]

    def not_again(*args: object) -> None:
        raise AssertionError("built again despite the cache")

    monkeypatch.setattr("assistant.speech.stt.pocketsphinx.build_arpa", not_again)
    monkeypatch.setattr("assistant.speech.stt.pocketsphinx.guess_pronunciations", not_again)
    warm = PocketSphinxRecognizer(vocabulary, cache_dir=tmp_path)
    assert warm.guessed == cold.guessed
    for text in (REQUESTS[3], OFF_SCRIPT[0]):
        pcm = speak(text, audio_dir, "en-us", 150)
        assert cold.transcribe(pcm) == warm.transcribe(pcm)
        assert cold.transcribe(pcm, "open") == warm.transcribe(pcm, "open")
    # a prefix makes another model; a damaged cached model is built again
    monkeypatch.undo()
    PocketSphinxRecognizer(Vocabulary.from_pack(pack, prefixes=["hey coach"]),
                           cache_dir=tmp_path)
    models = sorted(tmp_path.glob("*.lm.bin"))
    assert len(models) == 2
    for model in models:
        model.write_bytes(b"not a model")
    again = PocketSphinxRecognizer(vocabulary, cache_dir=tmp_path)
    assert again.transcribe(pcm) == cold.transcribe(pcm)


def test_generic_model_is_loaded_when_first_needed(
    pack: IntentPack, cache: Path, audio_dir: Path
) -> None:
    recognizer = PocketSphinxRecognizer(Vocabulary.from_pack(pack, ["hey coach"]),
                                        cache_dir=cache)
    assert not recognizer.open_model_loaded
    result = recognizer.transcribe(speak(REQUESTS[0], audio_dir, "en-us", 150))
    assert result.text == REQUESTS[0] and result.confidence >= recognizer.reopen_below
    assert not recognizer.open_model_loaded  # a confident command result needs no re-decode
    recognizer.transcribe(speak(OFF_SCRIPT[1], audio_dir, "en-us", 150), "open")
    assert recognizer.open_model_loaded


WAKE_VOICES = [("en-us", 150), ("en-us+m3", 175), ("en+m3", 150), ("en-us+f2", 175)]


def test_wake_phrase_as_a_prefix(
    pack: IntentPack, cache: Path, audio_dir: Path, recognizer: PocketSphinxRecognizer
) -> None:
    """Said before a request, the wake phrase is heard; requests said without it do not
    gain it. As a mere extra phrase it is lost more often."""
    prefixed = PocketSphinxRecognizer(Vocabulary.from_pack(pack, prefixes=["hey coach"]),
                                      cache_dir=cache)
    woke: dict[str, int] = {"prefix": 0, "extra": 0}
    understood = false_wakes = 0
    for voice, rate in WAKE_VOICES:
        for text in REQUESTS:
            pcm = speak(f"hey coach, {text}", audio_dir, voice, rate)
            for name, engine in (("prefix", prefixed), ("extra", recognizer)):
                heard, rest = split_wake(engine.transcribe(pcm).text, "hey coach")
                woke[name] += heard
                understood += name == "prefix" and rest == text
            plain = prefixed.transcribe(speak(text, audio_dir, voice, rate)).text
            false_wakes += split_wake(plain, "hey coach")[0]
    total = len(WAKE_VOICES) * len(REQUESTS)
    assert woke["prefix"] >= 0.9 * total, woke
    assert woke["prefix"] > woke["extra"], woke
    assert understood >= 0.6 * total
    assert false_wakes == 0
    assert prefixed.transcribe(speak("hey coach", audio_dir, "en-us", 150)).text == "hey coach"


def test_make_recognizer(pack: IntentPack, monkeypatch: pytest.MonkeyPatch,
                         tmp_path: Path) -> None:
    monkeypatch.setenv("TRUST_ASSISTANT_CACHE_DIR", str(tmp_path))
    recognizer = make_recognizer(SttSettings(engine="auto"), pack, extra_phrases=["hey coach"])
    # no Vosk model is installed; Whisper (bundled) reads each request again
    assert recognizer.name == "pocketsphinx+whisper"
    assert isinstance(recognizer, TwoPassRecognizer)
    assert isinstance(recognizer.phrases, PocketSphinxRecognizer)
    alone = make_recognizer(SttSettings(engine="auto", second_pass=False), pack)
    assert isinstance(alone, PocketSphinxRecognizer)
    pcm = speak("hey coach", tmp_path, "en-us", 150)
    assert recognizer.transcribe(pcm).text == "hey coach"
    woken = make_recognizer(SttSettings(engine="pocketsphinx"), pack, prefixes=["hey coach"])
    assert isinstance(woken, PocketSphinxRecognizer) and woken.vocabulary is not None
    assert woken.vocabulary.prefix_texts() == ["hey coach"]
    assert woken.transcribe(pcm).text == "hey coach"
    plain = make_recognizer(SttSettings(engine="pocketsphinx", bias=False), pack)
    assert isinstance(plain, PocketSphinxRecognizer) and plain.vocabulary is None


def test_unknown_engine() -> None:
    with pytest.raises(EngineError) as caught:
        make_recognizer(SttSettings(engine="deepspeech"))
    assert str(caught.value) == (
        "unknown speech engine 'deepspeech' (choose one of: auto, pocketsphinx, vosk, whisper)"
    )


def test_wer_helper() -> None:
    assert wer("go forward ten meters", "go forward ten meters") == 0
    assert wer("go forward ten meters", "go forward two meters please") == 0.5


def test_listening_for_a_few_phrases(recognizer: PocketSphinxRecognizer,
                                     audio_dir: Path) -> None:
    """Short commands, lost among the shipped pack's thousands of phrases, are heard among a
    few (the commands of a reflection answer)."""
    from assistant.app.assistant import recognizer_for
    from assistant.app.runtime import make_dialog
    from assistant.base.config import Settings

    recognizer.listen_for("none", [])  # this test pack has no such commands: nothing to add
    assert recognizer.transcribe_phrases(bytes(3200), "none").text == ""
    dialog = make_dialog(Settings())
    shipped = recognizer_for(Settings(), dialog.pack)
    assert isinstance(shipped, TwoPassRecognizer)  # the phrase model listens for commands
    shipped = shipped.phrases
    assert isinstance(shipped, PocketSphinxRecognizer)
    phrases = dialog.answer_command_phrases
    recognizer = shipped
    recognizer.listen_for("few", phrases)
    pad = bytes(9600)
    heard = {text: recognizer.transcribe_phrases(
                 pad + speak(text, audio_dir, voice, 175) + pad, "few").text
             for text, voice in [("skip it", "en-us+m3"), ("another one", "en-us+f2")]}
    assert heard == {"skip it": "skip it", "another one": "another one"}, heard
    # other speech is not forced onto one of the phrases
    other = recognizer.transcribe_phrases(
        pad + speak("we talked on sunday", audio_dir) + pad, "few").text
    assert other not in phrases, other
    # the usual search is back for everything else
    assert recognizer.transcribe(pad + speak("another one", audio_dir) + pad, "command").text
    # an unknown search name falls back to the phrase model
    assert recognizer.transcribe_phrases(bytes(3200), "unknown").text == ""
