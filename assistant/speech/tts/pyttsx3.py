"""The pyttsx3 engine: espeak-ng on Linux, SAPI5 on Windows, NSSpeech on macOS.

Imported and initialised lazily and only once per process (espeak can be initialised only
once). pyttsx3's own playback shells out to ``aplay`` and cannot be stopped, so speech is
synthesised to a temporary file and played by our :class:`~assistant.audio.devices.Player` instead.
A failure (no pyttsx3, no espeak-ng) raises :class:`EngineError` with a one-line message.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ...audio.devices import Audio
from ...base.config import TtsSettings
from ...base.errors import EngineError
from .base import SentenceSynthesizer, Synthesizer, Voice, find_voice, read_speech_file

log = logging.getLogger(__name__)

# -- the pyttsx3 engine, shared by the whole process -----------------------------------------

_engine_lock = threading.RLock()
_engines: dict[str | None, Any] = {}
# Let the engines go while the interpreter is whole: pyttsx3's driver, deleted during the
# final teardown, fails on modules already gone ("Exception ignored in DriverProxy.__del__").
atexit.register(_engines.clear)


def _engine(driver: str | None) -> Any:
    """The process's pyttsx3 engine for ``driver`` (None = the platform's default)."""
    with _engine_lock:
        if driver not in _engines:
            _engines[driver] = _init_engine(driver)
        return _engines[driver]


def _init_engine(driver: str | None) -> Any:
    try:
        import pyttsx3
    except ImportError:
        raise EngineError(
            "text-to-speech needs pyttsx3 (pip install pyttsx3); replies are printed instead"
        ) from None
    try:
        engine = pyttsx3.init(driver)
    except Exception as exc:
        hint = " (install espeak-ng: sudo apt install espeak-ng)" if sys.platform.startswith(
            "linux") else ""
        raise EngineError(f"text-to-speech is unavailable: {_one_line(exc)}{hint}") from None
    _quiet_driver(engine)
    if _is_espeak(engine):
        # The driver proxy starts out "busy", so the first runAndWait() would end before the
        # first utterance is written; an empty run clears that state.
        engine.runAndWait()
    return engine


def _is_espeak(engine: Any) -> bool:
    return getattr(engine, "driver_name", None) == "espeak"


def _wait_idle(engine: Any, timeout_s: float = 5.0) -> None:
    """Wait until espeak-ng's own thread is idle (at most ``timeout_s`` seconds).

    pyttsx3 drives espeak-ng asynchronously and cancels whatever espeak is still busy with when
    its loop starts: a rate, volume or voice change queued in espeak a moment before would be
    dropped, and the next utterance could be cut. Waiting for idle before each step avoids it.
    """
    if not _is_espeak(engine):
        return
    from pyttsx3.drivers import _espeak

    deadline = time.monotonic() + timeout_s
    while _espeak.IsPlaying() and time.monotonic() < deadline:
        time.sleep(0.002)


def _quiet_driver(engine: Any) -> None:
    """pyttsx3's espeak driver prints "Audio saved to ..." on stdout; send that to the log."""
    module = sys.modules.get(f"pyttsx3.drivers.{getattr(engine, 'driver_name', '')}")
    if module is not None:
        module.print = _driver_print  # type: ignore[attr-defined]


def _driver_print(*args: object, **_: object) -> None:
    log.debug("pyttsx3: %s", " ".join(map(str, args)))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class Pyttsx3Synthesizer(SentenceSynthesizer):
    """The pyttsx3 engine (espeak-ng / SAPI5 / NSSpeech) as a :class:`Synthesizer`.

    ``rate`` is in words per minute, ``volume`` 0..1, ``voice`` an id, name or language as
    :meth:`voices` lists them (None = the engine's default). Each synthesizer applies its own
    settings to the shared engine before every utterance.
    """

    name = "pyttsx3"

    def __init__(self, voice: str | None = None, rate: int = 165, volume: float = 1.0,
                 driver: str | None = None) -> None:
        self._engine = _engine(driver)
        self._voice: str | None = None
        self._rate = 0
        self._volume = 1.0
        self.set_voice(voice)
        self.set_rate(rate)
        self.set_volume(volume)

    @property
    def voice(self) -> str | None:
        return self._voice

    def set_voice(self, voice: str | None) -> str | None:
        self._voice = None if voice is None else find_voice(voice, self.voices()).id
        return self._voice

    def voices(self) -> list[Voice]:
        with _engine_lock:
            raw = self._engine.getProperty("voices") or []
        return [_voice_of(v) for v in raw]

    def speak_sentence(self, text: str) -> Audio:
        """``text`` as speech (16-bit mono, the engine's rate: 22050 Hz for espeak-ng)."""
        suffix = ".aiff" if sys.platform == "darwin" else ".wav"
        workdir = Path(tempfile.mkdtemp(prefix="trust-assistant-tts-"))
        try:
            path = workdir / f"speech{suffix}"
            self._synthesize_to(text, path)
            audio = read_speech_file(path)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if not audio.pcm:
            raise EngineError("text-to-speech produced no audio; replies are printed instead")
        return audio

    def _synthesize_to(self, text: str, path: Path) -> None:
        with _engine_lock:
            try:
                _wait_idle(self._engine)
                self._apply()
                _wait_idle(self._engine)
                self._engine.save_to_file(text, str(path))
                self._engine.runAndWait()
            except EngineError:
                raise
            except Exception as exc:
                raise EngineError(f"text-to-speech failed: {_one_line(exc)}") from None
        if not path.exists() or path.stat().st_size == 0:
            raise EngineError("text-to-speech produced no audio; replies are printed instead")

    def _apply(self) -> None:
        if self._voice is not None:
            self._engine.setProperty("voice", self._voice)
        self._engine.setProperty("rate", self._rate)
        self._engine.setProperty("volume", self._volume)


def _voice_of(raw: Any) -> Voice:
    languages = tuple(
        lang.decode(errors="replace") if isinstance(lang, bytes) else str(lang)
        for lang in (getattr(raw, "languages", None) or ())
    )
    return Voice(id=str(raw.id), name=str(raw.name or raw.id), languages=languages,
                 gender=getattr(raw, "gender", None))


# ----------------------------------------------------------------- the registry's interface

MISSING_NOTE = "pyttsx3 (espeak-ng) is not installed: pip install pyttsx3, apt install espeak-ng"


def available() -> bool:
    """Whether pyttsx3 can be imported (espeak-ng itself is checked when it loads)."""
    import importlib.util

    return importlib.util.find_spec("pyttsx3") is not None


def make(settings: TtsSettings) -> Synthesizer:
    return Pyttsx3Synthesizer(settings.voice, settings.rate, settings.volume)


def preload(settings: TtsSettings) -> None:
    """Nothing: espeak-ng starts in a moment, and its driver belongs to the thread using it."""


def list_voices() -> list[Voice]:
    return Pyttsx3Synthesizer().voices()


def has_voice(spec: str) -> bool:
    return True  # the system voice takes any name it can find, and says when it cannot
