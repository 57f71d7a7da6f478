"""Vosk (Kaldi) with a model directory: the higher-accuracy engine.

The model is loaded once (a small model takes one to two seconds) and shared by every
recogniser made from the same directory. ``command`` mode passes the intent pack's phrases as
a Vosk grammar, plus ``[unk]`` when the model has it so off-script words are not forced onto
the phrases; ``open`` mode uses the model's own language model. Words the model does not
know are cut out of the phrases here (Vosk would drop them with a warning) and listed by
:func:`missing_report`.
"""

from __future__ import annotations

import json
import mmap
import struct
import time
from pathlib import Path
from typing import Any

from ...audio.wavio import NOISE_FLOOR, NoiseFloor
from ...base.errors import EngineError, ModelError
from ...base.once import LoadOnce
from .base import Build, EngineChoice, Mode, Recognizer, Transcript
from .vocabulary import Vocabulary

INSTALL_HINT = "trust-assistant models install vosk-model-small-en-us-0.15"
"""How to get a working English model (in error messages)."""
UNKNOWN = "[unk]"

_MODELS: LoadOnce[Path, Any] = LoadOnce()
"""Loaded ``vosk.Model`` objects by resolved directory."""


class VoskRecognizer:
    """Streaming Vosk recogniser, biased towards a :class:`Vocabulary` in ``command`` mode."""

    name = "vosk"

    def __init__(
        self,
        model_dir: Path,
        vocabulary: Vocabulary | None = None,
        *,
        sample_rate: int = 16000,
        noise_floor: float = NOISE_FLOOR,
    ) -> None:
        """Load the model in ``model_dir`` (or reuse it) and prepare both modes.

        ``sample_rate`` is the rate of the 16-bit mono PCM that will be fed (hertz);
        ``noise_floor`` is the noise added to it (16-bit steps, :class:`NoiseFloor`): with it
        results on synthesised speech are better and the same from run to run.
        Raises :class:`ModelError` for a missing or corrupt model directory.
        """
        started = time.perf_counter()
        self.model_dir = Path(model_dir)
        self.sample_rate = sample_rate
        self.vocabulary = vocabulary
        self._noise = NoiseFloor(noise_floor)
        self._vosk = _import_vosk()
        self._model = load_model(self.model_dir)
        self.missing: list[str] = []
        """Vocabulary words the model does not know (cut out of the grammar)."""
        self.grammar: list[str] = []
        """Phrases of the ``command`` grammar ([] when there is no vocabulary)."""
        self._phrases: dict[Mode, list[str] | None] = {"open": None, "command": None}
        if vocabulary is not None:
            self.grammar = self._grammar_phrases(vocabulary)
            self._phrases["command"] = self.grammar
        self._live: dict[Mode, Any] = {
            mode: self._new_recognizer(phrases) for mode, phrases in self._phrases.items()
        }
        self.report = missing_report(self.missing, len(self._words()), self.model_dir)
        if vocabulary is not None and not self.knows(UNKNOWN):
            self.report.append(
                "  the model has no [unk] word, so in command mode off-script speech is "
                "forced onto the phrases"
            )
        """What was done about missing words (lines for ``intents check``)."""
        self._mode: Mode = "command"
        self._active = False
        self._segments: list[dict[str, Any]] = []
        self.load_seconds = time.perf_counter() - started
        """How long loading took (seconds)."""

    # -------------------------------------------------------------------- set-up

    def knows(self, word: str) -> bool:
        """Whether the model's vocabulary has ``word``."""
        return int(self._model.vosk_model_find_word(word)) >= 0

    def _words(self) -> set[str]:
        return self.vocabulary.words() if self.vocabulary is not None else set()

    def _grammar_phrases(self, vocabulary: Vocabulary) -> list[str]:
        self.missing = sorted(w for w in vocabulary.words() if not self.knows(w))
        phrases = vocabulary.phrases(known=self.knows)
        return [*phrases, UNKNOWN] if self.knows(UNKNOWN) else phrases

    def _new_recognizer(self, phrases: list[str] | None) -> Any:
        try:
            if phrases is None:
                recognizer = self._vosk.KaldiRecognizer(self._model, float(self.sample_rate))
            else:
                grammar = json.dumps(phrases, ensure_ascii=False)
                recognizer = self._vosk.KaldiRecognizer(
                    self._model, float(self.sample_rate), grammar
                )
        except Exception as exc:  # vosk raises plain Exception
            raise EngineError(f"vosk could not create a recogniser: {exc}") from None
        recognizer.SetWords(True)
        return recognizer

    # -------------------------------------------------------------------- streaming

    def start(self, mode: Mode = "command") -> None:
        """Begin an utterance in ``mode``; the recogniser keeps adapting to the microphone."""
        self._mode = mode
        self._live[mode].Reset()
        self._noise.reset()
        self._segments = []
        self._active = True

    def feed(self, pcm: bytes) -> str:
        """Add 16-bit mono ``pcm`` at :attr:`sample_rate`; return the partial transcript."""
        if not self._active:
            self.start(self._mode)
        return self._accept(self._live[self._mode], pcm)

    def finish(self) -> Transcript:
        """End the utterance and return its final transcript."""
        if not self._active:
            return Transcript("", 0.0)
        self._active = False
        recognizer = self._live[self._mode]
        self._segments.append(json.loads(recognizer.FinalResult()))
        recognizer.Reset()
        return _transcript(self._segments)

    def transcribe(self, pcm: bytes, mode: Mode = "command") -> Transcript:
        """Transcribe a whole utterance. The recogniser is reset first, and the noise floor
        drowns Kaldi's random dither, so the words do not depend on what was transcribed
        before (confidences may move in the third decimal)."""
        self.start(mode)
        self.feed(pcm)
        return self.finish()

    def _accept(self, recognizer: Any, pcm: bytes) -> str:
        """Feed ``pcm``; keep each finished segment; the text so far."""
        if recognizer.AcceptWaveform(self._noise.add(pcm)):
            self._segments.append(json.loads(recognizer.Result()))
            partial = ""
        else:
            partial = json.loads(recognizer.PartialResult()).get("partial", "")
        return _clean(" ".join([*(s.get("text", "") for s in self._segments), partial]))


def _transcript(segments: list[dict[str, Any]]) -> Transcript:
    words = [w for s in segments for w in s.get("result", ()) if w.get("word") != UNKNOWN]
    text = _clean(" ".join(s.get("text", "") for s in segments))
    if not text:
        return Transcript("", 0.0)
    confidences = [float(w.get("conf", 1.0)) for w in words]
    confidence = sum(confidences) / len(confidences) if confidences else 1.0
    return Transcript(text, round(confidence, 3))


def _clean(text: str) -> str:
    """Lower-case words without ``[unk]`` and without brackets (``[9]`` -> ``9``)."""
    words = (w.strip("[]").lower() for w in text.split() if w != UNKNOWN)
    return " ".join(w for w in words if w)


# ------------------------------------------------------------------------ loading


def _import_vosk() -> Any:
    try:
        import vosk
    except ImportError as exc:
        raise EngineError(
            f"the vosk engine is not installed ({exc}); install it with: pip install vosk"
        ) from None
    vosk.SetLogLevel(-1)
    return vosk


def check_model_dir(model_dir: Path) -> None:
    """Raise :class:`ModelError` saying what is missing when ``model_dir`` is not a complete
    Vosk model directory."""
    if not model_dir.exists():
        raise ModelError(f"Vosk model directory {model_dir} does not exist; install a model "
                         f"with: {INSTALL_HINT}")
    if not model_dir.is_dir():
        raise ModelError(f"Vosk model {model_dir} is not a directory (unpack it, or install it "
                         f"with: {INSTALL_HINT})")
    needed = {
        "acoustic model (am/final.mdl)": ("am/final.mdl", "final.mdl"),
        "configuration (conf/model.conf)": ("conf/model.conf",),
        "decoding graph (graph/HCLG.fst or graph/HCLr.fst + graph/Gr.fst)": (
            "graph/HCLG.fst", "graph/HCLr.fst", "HCLG.fst", "HCLr.fst"
        ),
    }
    for what, candidates in needed.items():
        if not any((model_dir / c).is_file() for c in candidates):
            raise ModelError(
                f"Vosk model directory {model_dir} is incomplete: no {what}; reinstall it, "
                f"e.g. with: {INSTALL_HINT}"
            )


def load_model(model_dir: Path) -> Any:
    """The ``vosk.Model`` in ``model_dir``, loaded once per directory."""
    key = Path(model_dir).resolve()

    def load() -> Any:
        check_model_dir(key)
        vosk = _import_vosk()
        try:
            return vosk.Model(str(key))
        except Exception:  # vosk raises plain Exception("Failed to create a model")
            raise ModelError(
                f"Vosk could not load the model in {model_dir} (corrupt or incompatible "
                f"files); reinstall it, e.g. with: {INSTALL_HINT}"
            ) from None

    return _MODELS.get(key, load)


def is_vosk_model(path: Path) -> bool:
    """Whether ``path`` looks like a Vosk model directory (without loading it)."""
    try:
        check_model_dir(path)
    except ModelError:
        return False
    return True


# ------------------------------------------------------------------------ vocabulary


def model_words(model_dir: Path) -> set[str] | None:
    """The words ``model_dir`` can recognise, from ``graph/words.txt`` or else the symbol
    table stored in its grammar FST; None when the model has neither."""
    for name in ("graph/words.txt", "words.txt"):
        path = model_dir / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            return {line.split()[0] for line in lines if line.strip()}
    for name, which in (("graph/Gr.fst", "input"), ("graph/HCLG.fst", "output")):
        path = model_dir / name
        if path.is_file():
            symbols = fst_symbols(path, which)
            if symbols is not None:
                return symbols
    return None


_FST_MAGIC = 2125659606
_SYMBOLS_MAGIC = 2125658996


def fst_symbols(path: Path, which: str = "input") -> set[str] | None:
    """The input or output symbol table stored in OpenFst binary file ``path``, if any."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            return _read_symbols(data, which)
        except (struct.error, ValueError, IndexError, UnicodeDecodeError):
            return None


def _read_symbols(data: mmap.mmap, which: str) -> set[str] | None:
    (magic,) = struct.unpack_from("<i", data, 0)
    if magic != _FST_MAGIC:
        return None
    pos = 4
    for _ in range(2):  # fst type, arc type
        pos += 4 + struct.unpack_from("<i", data, pos)[0]
    _version, flags = struct.unpack_from("<ii", data, pos)
    pos += 8 + 8 + 8 * 3  # properties, start, number of states, number of arcs
    has_input, has_output = bool(flags & 1), bool(flags & 2)
    if which == "input":
        return _symbol_table(data, pos) if has_input else None
    if not has_output:
        return None
    if has_input:
        pos = _skip_symbol_table(data, pos)
    return _symbol_table(data, pos)


def _symbol_table(data: mmap.mmap, pos: int) -> set[str]:
    pos, size = _table_header(data, pos)
    words = set()
    for _ in range(size):
        (length,) = struct.unpack_from("<i", data, pos)
        words.add(bytes(data[pos + 4 : pos + 4 + length]).decode("utf-8"))
        pos += 4 + length + 8
    return words


def _skip_symbol_table(data: mmap.mmap, pos: int) -> int:
    pos, size = _table_header(data, pos)
    for _ in range(size):
        pos += 4 + struct.unpack_from("<i", data, pos)[0] + 8
    return pos


def _table_header(data: mmap.mmap, pos: int) -> tuple[int, int]:
    (magic,) = struct.unpack_from("<i", data, pos)
    if magic != _SYMBOLS_MAGIC:
        raise ValueError("not a symbol table")
    pos += 4
    pos += 4 + struct.unpack_from("<i", data, pos)[0]  # table name
    _available, size = struct.unpack_from("<qq", data, pos)
    return pos + 16, size


def missing_report(missing: list[str] | None, total: int, model_dir: Path | None) -> list[str]:
    """Lines saying which of ``total`` words the Vosk model does not know (None: unknown)."""
    where = f" ({model_dir.name})" if model_dir is not None else ""
    if missing is None:
        return [f"vosk{where}: the model has no word list (graph/words.txt), so its vocabulary "
                "cannot be checked; words it does not know are left out of the command grammar"]
    if not missing:
        return [f"vosk{where}: all {total} words of the intent pack are in the model"]
    shown = ", ".join(missing[:40]) + (f" and {len(missing) - 40} more" if len(missing) > 40
                                       else "")
    return [
        f"vosk{where}: {len(missing)} of {total} words are not in the model and cannot be "
        f"recognised: {shown}",
        "  they are cut out of the command grammar; rephrase those examples or use a larger "
        "model",
    ]


# ----------------------------------------------------------------- the registry's interface

def is_model(path: Path) -> bool:
    return is_vosk_model(path)


def default_model(language: str) -> Path | None:
    """The first installed Vosk model for ``language``."""
    from ..models import models_for_language

    installed = models_for_language(language.split("-")[0], engine="vosk")
    if not installed:
        raise ModelError(
            f"no Vosk model for language '{language}' is installed; install one with: "
            "trust-assistant models install vosk-model-small-en-us-0.15 (or pass --model DIR)"
        )
    return installed[0].path


def preload(choice: EngineChoice) -> None:
    if choice.model is not None:
        load_model(choice.model)


def build(request: Build) -> Recognizer:
    model = request.choice.model
    if model is None:
        raise ModelError(f"no Vosk model given; install one with: {INSTALL_HINT}")
    return VoskRecognizer(model, request.vocabulary, sample_rate=request.settings.sample_rate)


def known_words(model: Path | None, user_dict: Path | None) -> set[str] | None:
    return model_words(model) if model is not None else None


def vocabulary_report(words: set[str], known: set[str] | None, model: Path | None) -> list[str]:
    return missing_report(None if known is None else sorted(words - known), len(words), model)
