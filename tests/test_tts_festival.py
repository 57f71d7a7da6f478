"""The Festival engine, for real: Debian's ``text2wave`` with the HTS voice of
``festvox-us-slt-hts`` (installed by ``make test``), read back by Whisper."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.base.config import TtsSettings, settings_from_dict
from assistant.base.errors import EngineError
from assistant.base.normalize import normalize
from assistant.cli import main
from assistant.speech import tts
from assistant.speech.tts import festival
from assistant.speech.tts.festival import FestivalSynthesizer

pytestmark = pytest.mark.skipif(not festival.available(),
                                reason="needs festival and festvox-us-slt-hts")

REPLY = "Trust comes back slowly. Keep the small promises you make, every single day."


def test_festival_is_chosen_by_name_and_speaks_at_the_asked_rate() -> None:
    settings = settings_from_dict({"tts": {"engine": "festival", "rate": 165}}).tts
    synth = tts.make_synthesizer(settings)
    assert isinstance(synth, FestivalSynthesizer)
    assert synth.voice == "cmu_us_slt_arctic_hts"
    normal = synth.synthesize(REPLY)
    assert normal.sample_rate == 22050 and normal.duration_s > 3.0
    synth.set_rate(250)
    faster = synth.synthesize(REPLY)
    assert 0.55 < faster.duration_s / normal.duration_s < 0.8, (faster.duration_s,
                                                               normal.duration_s)
    assert tts.choose_engine(TtsSettings()).engine != "festival"  # auto never picks it


def test_what_festival_says_is_understood_when_read_back() -> None:
    from assistant.speech.stt.whisper import WhisperRecognizer, available

    if not available():
        pytest.skip("needs the bundled Whisper model")
    audio = FestivalSynthesizer().synthesize(REPLY)
    heard = WhisperRecognizer().transcribe(audio.resampled(16000).pcm, "open").text
    said, got = normalize(REPLY).split(), normalize(heard).split()
    assert len(set(said) - set(got)) <= 1, heard


def test_voices_are_listed_and_an_unknown_one_is_a_one_line_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["say", "--list-voices"]) == 0
    assert "cmu_us_slt_arctic_hts    slt" in capsys.readouterr().out
    with pytest.raises(EngineError, match=r"unknown voice 'klingon' \(e\.g\. cmu_us_slt"):
        FestivalSynthesizer("klingon")
    assert FestivalSynthesizer("slt").voice == "cmu_us_slt_arctic_hts"


def test_a_failing_text2wave_is_a_one_line_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    synth = FestivalSynthesizer()
    monkeypatch.setattr(synth, "_program", "false")
    with pytest.raises(EngineError, match=r"^Festival failed: exit 1$"):
        synth.speak_sentence("Hello.")
    monkeypatch.setattr(festival, "_text2wave", lambda: None)
    with pytest.raises(EngineError, match=r"Festival is not installed \(apt install festival"):
        FestivalSynthesizer()
