"""Start-up: the engines' weights load on a background thread while the pack and the dialog
load, and the engines then reuse them (their load time is measured by ``bench/voice.py``)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.app.assistant import Assistant
from assistant.base.config import Settings, settings_from_dict
from assistant.loop.events import NoEvents
from assistant.speech.stt import whisper
from assistant.speech.stt.twopass import TwoPassRecognizer
from assistant.speech.tts import piper

pytestmark = [
    pytest.mark.skipif(not whisper.available(), reason="needs the bundled Whisper model"),
    pytest.mark.skipif(not piper.available(), reason="Piper is not installed"),
]


class Notices(NoEvents):
    """Keeps the notices a front end would show."""

    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, text: str) -> None:
        self.notices.append(text)


def _wait_for_warm_up() -> None:
    for thread in threading.enumerate():
        if thread.name == "warm-up":
            thread.join(timeout=60)
            assert not thread.is_alive()


@pytest.fixture
def nothing_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-process caches of loaded weights, empty (other tests may have filled them)."""
    monkeypatch.setattr(whisper._MODELS, "loaded", {})
    monkeypatch.setattr(piper._models, "loaded", {})


@pytest.mark.usefixtures("nothing_loaded")
def test_warm_up_loads_the_weights_the_recogniser_and_the_voice_then_use(
        tmp_path: Path) -> None:
    app = Assistant(Settings())
    app.warm_up().load()
    _wait_for_warm_up()
    assert len(whisper._MODELS.loaded) == 1, "Whisper's weights were not loaded by the warm-up"
    assert len(piper._models.loaded) == 1, "the voice was not loaded by the warm-up"
    (whisper_model,) = whisper._MODELS.loaded.values()
    (voice_model,) = piper._models.loaded.values()

    recognizer = app.recognizer(wake_first=True)
    assert isinstance(recognizer, TwoPassRecognizer)
    assert recognizer.whisper._model is whisper_model  # type: ignore[attr-defined]
    speaker = app.speaker
    assert speaker is not None
    assert speaker.synthesizer._model is voice_model  # type: ignore[attr-defined]
    assert speaker.synthesizer.synthesize("Hello there.").pcm, "the preloaded voice is silent"
    assert len(whisper._MODELS.loaded) == 1, "something loaded twice"
    assert len(piper._models.loaded) == 1, "something loaded twice"


@pytest.mark.usefixtures("nothing_loaded")
def test_only_what_is_asked_for_is_warmed_up() -> None:
    Assistant(Settings()).warm_up(hearing=False, speaking=True)
    _wait_for_warm_up()
    assert not whisper._MODELS.loaded and len(piper._models.loaded) == 1


@pytest.mark.usefixtures("nothing_loaded")
def test_a_voice_that_cannot_load_is_reported_by_the_real_load_not_by_the_warm_up() -> None:
    settings = settings_from_dict({"tts": {"engine": "piper", "voice": "klingon"}})
    events = Notices()
    app = Assistant(settings, events).warm_up(hearing=False)
    _wait_for_warm_up()
    assert events.notices == [], "the warm-up reported something itself"
    assert app.speaker is None
    assert len(events.notices) == 1 and "klingon" in events.notices[0], events.notices
