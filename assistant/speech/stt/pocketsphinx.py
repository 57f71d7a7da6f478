"""PocketSphinx (>= 5) with its bundled US-English model: the zero-download default engine.

One decoder, loaded once, holds two searches:

- ``command``: by default a trigram language model built from the intent pack's phrases
  (:meth:`Vocabulary.sentences`), whose unigrams are mixed with the 1000 most frequent English
  words: known requests are strongly favoured, and speech that is not one of them comes out
  as (approximate) words instead of being forced onto a known phrase. When the result's
  confidence (mean word posterior) is below :data:`REOPEN_BELOW`, the utterance is decoded
  again with the generic model and the more confident result is kept. ``search="grammar"``
  uses a strict JSGF grammar of the phrases instead (no open path).
- ``open``: the bundled generic English model, for free-form speech (reflection answers).

The phrase model with the open re-decode understood as much as the phrase model alone and
rejected more off-script speech; a JSGF grammar and the generic model did worse on both
(docs/design-notes.md has the figures).

The decoder carries its cepstral mean and noise estimates from one utterance to the next:
right for the live pass over a microphone (:meth:`start` / :meth:`feed`, whose partial results
it gives), wrong for a batch of files, so :meth:`transcribe` (and :meth:`finish`, which
decodes the whole utterance again for its final result) starts from the state it had after
loading. Silence around the speech is skipped (:func:`speech_span`): a long stretch of it
spoils the per-utterance cepstral mean.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ...audio.wavio import NOISE_FLOOR, NoiseFloor
from ...base.errors import EngineError, ModelError
from ...base.lang import en
from ...base.storage import replacing
from .activity import speech_span
from .base import Build, EngineChoice, Mode, Recognizer, Transcript
from .vocabulary import (
    CLOSERS,
    CONTRACTIONS,
    FILLER_EVERY,
    OPENERS,
    PREFIX_ALONE_SHARE,
    PREFIX_EVERY,
    Vocabulary,
    build_arpa,
    contracted,
)

if TYPE_CHECKING:
    from pocketsphinx import Decoder, NGramModel

Search = Literal["lm", "grammar"]
"""How ``command`` mode is biased: an n-gram model of the phrases with common words mixed in
(``lm``, the default), or a strict JSGF grammar of the phrases (``grammar``)."""

SAMPLE_RATE = 16000
"""Sample rate of the bundled acoustic model (hertz)."""
PHONES = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW "
    "V W Y Z ZH".split()
)
"""Phones of the bundled US-English acoustic model (CMU / ARPAbet)."""

REOPEN_BELOW = 0.6
"""A ``command`` result less confident than this (0..1) is decoded again with the generic
model, and the more confident of the two is kept: off-script speech comes out as the words
said, not as a near-miss of a known phrase."""
GENERAL_WORDS = 1000
"""Most frequent English words mixed into the ``command`` language model (the open path)."""
GENERAL_WEIGHT = 0.1
"""Share (0..1) of the ``command`` model's unigram probability given to those words."""
COMMAND_BEAMS = {"beam": 1e-70, "wbeam": 1e-50, "pbeam": 1e-70}
"""Search beams of the ``command`` decoder, wider than PocketSphinx's (1e-48, 7e-29, 1e-48):
its phrase model is small, so a wider search costs little and finds more of the right
phrases. The generic model keeps the default beams: widened, its re-decodes take twice as
long."""
DITHER = NOISE_FLOOR
"""Noise floor added to the audio (16-bit steps, see :class:`NoiseFloor`): digital silence
(synthetic speech) degrades PocketSphinx's features badly; recordings from a microphone,
which has such a floor, are unaffected."""

PHRASES_OPEN_WEIGHT = 0.3
"""Share (0..1) of a :meth:`PocketSphinxRecognizer.listen_for` search's unigram probability
given to the phrase model's other words (4 ordinary answer sentences x 4 voices x 5 sample
offsets: none was heard as one of the answer's commands)."""
MAX_REDECODE_S = 60.0
"""Longest streamed utterance kept to be decoded again as a whole at :meth:`finish`
(seconds); past that the live result is returned."""

_NOISE_WORD = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+)$")
_ALTERNATE = re.compile(r"\(\d+\)$")


class PocketSphinxRecognizer:
    """Streaming PocketSphinx recogniser, biased towards a :class:`Vocabulary`."""

    name = "pocketsphinx"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        vocabulary: Vocabulary | None = None,
        *,
        model_dir: Path | None = None,
        user_dict: Path | None = None,
        search: Search = "lm",
        general_words: int = GENERAL_WORDS,
        general_weight: float = GENERAL_WEIGHT,
        dither: float = DITHER,
        reopen_below: float = REOPEN_BELOW,
        decoder_options: dict[str, Any] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        """Load the model and build the ``command`` search from ``vocabulary``.

        ``model_dir`` holds ``en-us/`` (acoustic model), ``en-us.lm.bin`` and
        ``cmudict-en-us.dict`` (default: the model inside the pocketsphinx wheel);
        ``user_dict`` is a CMU-format dictionary file whose pronunciations are added (they
        win over guesses, and in ``command`` mode over the dictionary's);
        ``decoder_options`` are extra PocketSphinx settings (``beam``...); ``cache_dir``
        keeps what is built for a vocabulary (phrase model, its pronunciation dictionary,
        guessed pronunciations), so the next start with the same pack loads it instead of
        building it (about 2 s saved for the trust pack). Without ``vocabulary``,
        ``command`` mode is the same as ``open``.

        ``command`` mode has its own decoder whose dictionary holds only the words of its
        search: with the whole dictionary (126,000 words) setting up the search takes ten
        times longer and 20 MB more. The generic model (``open`` mode, and the re-decode of
        unconfident ``command`` results) gets a decoder with the whole dictionary when it is
        first needed (:meth:`load_open_model`): about 0.3 s and 95 MB.
        """
        started = time.perf_counter()
        self.vocabulary = vocabulary
        self.search: Search = search
        self.reopen_below = reopen_below if search == "lm" else 0.0
        self._audio: list[bytes] = []
        self._buffered = 0
        self._dither = NoiseFloor(dither)
        self._model_dir = model_dir
        self._options = {"bestpath": search == "lm", **(decoder_options or {})}
        _model_file(model_dir, "en-us")
        self._dictionary = dictionary_path(model_dir)
        self._open_model = _model_file(model_dir, "en-us.lm.bin")
        self._user_entries = read_user_dictionary(user_dict) if user_dict else []
        self.guessed: dict[str, str] = {}
        """Words missing from the dictionary -> the pronunciation guessed for them."""
        self.report: list[str] = []
        """What was done about the vocabulary's missing words (lines for ``intents check``)."""
        self._command: Decoder | None = None
        self._open: Decoder | None = None
        self._phrase_searches: set[str] = set()
        """Names of the searches :meth:`listen_for` added to the ``command`` decoder."""
        self._initial_cmn: dict[int, Any] = {}
        """Cepstral mean of each decoder (by id) right after loading."""
        if vocabulary is None:
            self.load_open_model()  # the only search
        else:
            key = [str(model_dir), search, vocabulary.jsgf(), sorted(self._user_entries),
                   general_words, general_weight, en.SPOKEN_LIST_WEIGHTS, vocabulary.prefix_texts(),
                   PREFIX_EVERY, PREFIX_ALONE_SHARE, OPENERS, CLOSERS, FILLER_EVERY,
                   sorted(CONTRACTIONS.values())]
            cache = _Cache(cache_dir, key)
            self._command = self._load_command(vocabulary, cache) or self._build_command(
                vocabulary, general_words, general_weight, cache)
        self._live: Decoder | None = None
        """The decoder of the utterance being streamed (or last streamed)."""
        self._mode: Mode = "command"
        self._active = False
        self.load_seconds = time.perf_counter() - started
        """How long loading and building the searches took (seconds)."""

    @property
    def open_model_loaded(self) -> bool:
        """Whether the generic language model is loaded yet."""
        return self._open is not None

    def load_open_model(self) -> Decoder:
        """The decoder with the generic language model, loaded unless it is (about 0.3 s
        and 95 MB, so it is left out of start-up until something needs it)."""
        if self._open is not None:
            return self._open
        decoder = self._new_decoder(self._dictionary)
        for word, phones in [*self._user_entries, *self.guessed.items()]:
            if decoder.lookup_word(word) is None:  # the dictionary's own entry stays here
                decoder.add_word(word, phones, False)
        try:
            model = _read_model(decoder, self._open_model)
        except EngineError as exc:
            raise ModelError(exc.format_message()) from None
        for word in self.guessed:  # as PocketSphinx's add_word does for loaded models
            model.add_word(word, 1.0)
        decoder.add_lm("open", model)
        decoder.activate_search("open")
        self._open = decoder
        return decoder

    def _new_decoder(self, dictionary: Path, command: bool = False) -> Decoder:
        beams = COMMAND_BEAMS if command and self.search == "lm" else {}
        decoder = _load_decoder(self._model_dir,
                                {**beams, **self._options, "dict": str(dictionary)})
        self._initial_cmn[id(decoder)] = decoder.get_cmn()
        return decoder

    def _decoder(self, mode: Mode) -> Decoder:
        if mode == "command" and self._command is not None:
            return self._command
        return self.load_open_model()

    # -------------------------------------------------------------------- set-up

    def _load_command(self, vocabulary: Vocabulary, cache: _Cache) -> Decoder | None:
        """The ``command`` decoder from what ``cache`` holds; None when it holds nothing
        usable."""
        cached = cache.read_json()
        dictionary = cache.existing(".dict")
        model = cache.existing(_Cache.MODEL) if self.search == "lm" else None
        if cached is None or dictionary is None or (self.search == "lm" and model is None):
            return None
        try:
            decoder = self._new_decoder(dictionary, command=True)
            if model is not None:
                decoder.add_lm("command", _read_model(decoder, model))
            else:
                _add_grammar(decoder, vocabulary)
        except (EngineError, ModelError, RuntimeError, ValueError):
            return None  # damaged: built again
        decoder.activate_search("command")
        self.guessed, missing = cached["guessed"], cached["missing"]
        self.report = missing_report(missing, len(vocabulary.words()), self.guessed,
                                     sorted({w for w, _ in self._user_entries}))
        return decoder

    def _build_command(
        self, vocabulary: Vocabulary, count: int, weight: float, cache: _Cache
    ) -> Decoder:
        """Build the ``command`` search (and its dictionary) from ``vocabulary``; keep what
        was built in ``cache``."""
        words = vocabulary.words()
        dictionary = read_dictionary_words(self._dictionary)
        user = {w for w, _ in self._user_entries}
        missing = sorted(w for w in words if w not in dictionary and w not in user)
        self.guessed = guess_pronunciations(missing)
        self.report = missing_report(missing, len(words), self.guessed, sorted(user))
        known = dictionary | user | set(self.guessed)
        general: dict[str, float] = {}
        spoken: set[str] = set()  # words only the language model's sentences have (i'm)
        arpa = ""
        if self.search == "lm":
            with _gc_paused():
                sentences = [[w for w in s if w in known] for s in vocabulary.sentences()]
                spoken = {w for s in sentences for w in s} - words
                general = _general_words(self._open_model, dictionary, count) if count else {}
                arpa = build_arpa([s for s in sentences if s], general, weight)
                del sentences
        lines = _dictionary_lines(self._dictionary, (words | spoken | set(general)) - user)
        lines += _entry_lines([*self._user_entries, *self.guessed.items()])
        with tempfile.TemporaryDirectory(prefix="trust-assistant-") as tmp:
            path = cache.write_text(".dict", "".join(lines)) or Path(tmp) / "command.dict"
            if not path.exists():
                path.write_text("".join(lines), encoding="utf-8")
            decoder = self._new_decoder(path, command=True)
            if self.search == "lm":
                model_path = Path(tmp) / "command.arpa"
                model_path.write_text(arpa, encoding="utf-8")
                del arpa
                model = _read_model(decoder, model_path)
                cache.write_model(model)
                decoder.add_lm("command", model)
            else:
                _add_grammar(decoder, vocabulary)
        decoder.activate_search("command")
        cache.write_json({"guessed": self.guessed, "missing": missing})
        return decoder

    # -------------------------------------------------------------------- streaming

    def start(self, mode: Mode = "command") -> None:
        """Begin an utterance in ``mode``; the decoder keeps adapting to the microphone."""
        if self._active and self._live is not None:
            self._live.end_utt()
        self._mode = mode
        decoder = self._decoder(mode)
        if self._live is not None and decoder is not self._live:
            decoder.set_cmn(self._live.get_cmn())  # the adaptation so far goes along
        self._live = decoder
        self._dither.reset()
        self._audio, self._buffered = [], 0
        decoder.start_utt()
        self._active = True

    def feed(self, pcm: bytes) -> str:
        """Add 16 kHz mono 16-bit ``pcm``; return the partial transcript so far."""
        if not self._active or self._live is None:
            self.start(self._mode)
        assert self._live is not None
        self._buffered += len(pcm)
        if self._buffered <= MAX_REDECODE_S * 2 * SAMPLE_RATE:
            self._audio.append(pcm)
        self._live.process_raw(self._dither.add(pcm), False, False)
        return _text(self._live.hyp())

    def finish(self) -> Transcript:
        """End the utterance and return its final transcript: the utterance is decoded once
        more as a whole (as :meth:`transcribe` does), which is more accurate than the live
        pass that gave the partial results; the live adaptation is kept for the next one."""
        live = self._live
        if not self._active or live is None:
            return Transcript("", 0.0)
        live.end_utt()
        self._active = False
        audio, self._audio = b"".join(self._audio), []
        if self._buffered > len(audio):  # too long to decode again
            return _result(live)
        live_cmn = live.get_cmn()
        result = self._whole(audio, self._mode)
        live.set_cmn(live_cmn)
        return result

    def transcribe(self, pcm: bytes, mode: Mode = "command") -> Transcript:
        """Transcribe a whole utterance (16 kHz mono 16-bit) from the decoder state it had
        after loading, so results do not depend on what was transcribed before. Silence
        around the speech, however long, is skipped."""
        self._end_live()
        return self._whole(pcm, mode)

    def _end_live(self) -> None:
        """End the streamed utterance, if one is under way (a whole one is decoded now)."""
        if self._active and self._live is not None:
            self._live.end_utt()
            self._active = False

    def _whole(self, pcm: bytes, mode: Mode, reopen: bool = True) -> Transcript:
        start, end = speech_span(pcm)
        speech = pcm[start:end]
        if not speech:
            return Transcript("", 0.0)
        result = self._decode(speech, mode)
        if reopen and mode == "command" and self._should_reopen(result):
            result = self._better(result, self._decode(speech, "open"))
        return result

    def _decode(self, pcm: bytes, mode: Mode) -> Transcript:
        """One pass over a whole utterance with the search of ``mode``, from the initial
        feature state (noise estimate and cepstral mean)."""
        decoder = self._decoder(mode)
        decoder.reinit_feat()
        decoder.set_cmn(self._initial_cmn[id(decoder)])
        self._dither.reset()
        decoder.start_utt()
        decoder.process_raw(self._dither.add(pcm), False, True)
        decoder.end_utt()
        return _result(decoder)

    def listen_for(self, name: str, phrases: Iterable[str]) -> None:
        """Add the search ``name``, a language model of ``phrases`` (and their contracted
        forms) to the ``command`` decoder; the phrase model's own words share
        :data:`PHRASES_OPEN_WEIGHT` of it, so other speech is not forced onto a phrase. Without
        a phrase model (``bias: false``) there is nothing to add to: ``command`` is used."""
        decoder = self._command
        if decoder is None or self.search != "lm" or name in self._phrase_searches:
            return
        known = decoder.lookup_word
        sentences = [s.split() for s in phrases]
        sentences += [c for c in map(contracted, sentences) if c is not None]
        sentences = [[w for w in s if known(w) is not None] for s in sentences]
        if not any(sentences):  # nothing to listen for: command mode it is
            return
        words = sorted({w for w in self.vocabulary.words() if known(w) is not None}
                       if self.vocabulary is not None else set())
        arpa = build_arpa([s for s in sentences if s], dict.fromkeys(words, 1 / max(len(words), 1)),
                          PHRASES_OPEN_WEIGHT)
        with tempfile.TemporaryDirectory(prefix="trust-assistant-") as tmp:
            path = Path(tmp) / f"{name}.arpa"
            path.write_text(arpa, encoding="utf-8")
            decoder.add_lm(name, _read_model(decoder, path))
        decoder.activate_search("command")
        self._phrase_searches.add(name)

    def transcribe_phrases(self, pcm: bytes, name: str) -> Transcript:
        """A whole utterance decoded with the search :meth:`listen_for` added as ``name``."""
        decoder = self._command
        if decoder is None or name not in self._phrase_searches:
            return self.transcribe(pcm, "command")
        self._end_live()
        decoder.activate_search(name)
        try:
            return self._whole(pcm, "command", reopen=False)
        finally:
            decoder.activate_search("command")

    def _should_reopen(self, result: Transcript) -> bool:
        return self._command is not None and result.confidence < self.reopen_below

    @staticmethod
    def _better(command: Transcript, open_: Transcript) -> Transcript:
        return open_ if open_.confidence > command.confidence else command


# ------------------------------------------------------------------------ results


def _result(decoder: Decoder) -> Transcript:
    text = _text(decoder.hyp())
    if not text:
        return Transcript("", 0.0)
    return Transcript(text, _confidence(decoder))


def _confidence(decoder: Decoder) -> float:
    """Mean posterior probability (0..1) of the words of the best path; 1.0 without
    lattice scoring (grammar search)."""
    posteriors = [
        float(s.prob) for s in decoder.seg() or () if not _NOISE_WORD.match(s.word)
    ]
    return round(sum(posteriors) / len(posteriors), 3) if posteriors else 0.0


def _text(hyp: Any) -> str:
    """Words of a hypothesis without noise and silence markers or ``(2)`` variants."""
    if hyp is None:
        return ""
    words = (_ALTERNATE.sub("", w) for w in str(hyp.hypstr).split())
    return " ".join(w for w in words if not _NOISE_WORD.match(w))


class _Cache:
    """Files built for one vocabulary (phrase model in PocketSphinx's binary format, the
    pronunciation dictionary of the ``command`` search, guessed pronunciations), keyed by a
    hash of everything they are built from. Unwritable directories are simply not used."""

    VERSION = 3
    MODEL = ".lm.bin"

    def __init__(self, directory: Path | None, key_parts: list[Any]) -> None:
        self.directory = directory
        blob = json.dumps([self.VERSION, *key_parts], sort_keys=True, default=str)
        self.key = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]

    def _path(self, suffix: str) -> Path | None:
        return self.directory / f"command-{self.key}{suffix}" if self.directory else None

    def existing(self, suffix: str) -> Path | None:
        """The cached file with ``suffix`` (None when there is none)."""
        path = self._path(suffix)
        return path if path is not None and path.is_file() else None

    def write_model(self, model: NGramModel) -> Path | None:
        from pocketsphinx import NGramModel as PsNGramModel

        binary = PsNGramModel.str_to_type("bin")
        return self._write(self.MODEL, lambda path: model.write(str(path), binary))

    def write_text(self, suffix: str, text: str) -> Path | None:
        return self._write(suffix, lambda path: path.write_text(text, encoding="utf-8"))

    def read_json(self) -> dict[str, Any] | None:
        """What :meth:`write_json` wrote: {"guessed": {word: phones}, "missing": [word]}."""
        path = self._path(".json")
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            guessed, missing = data["guessed"], data["missing"]
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if not isinstance(guessed, dict) or not isinstance(missing, list):
            return None
        return {"guessed": {str(k): str(v) for k, v in guessed.items()},
                "missing": [str(w) for w in missing]}

    def write_json(self, data: dict[str, Any]) -> None:
        self.write_text(".json", json.dumps(data, ensure_ascii=False, sort_keys=True))

    def _write(self, suffix: str, write: Callable[[Path], object]) -> Path | None:
        path = self._path(suffix)
        if path is None:
            return None
        try:
            with replacing(path) as partial:
                write(partial)
            self._prune(suffix)
        except (OSError, RuntimeError, ValueError):
            return None
        return path

    def _prune(self, suffix: str, keep: int = 4) -> None:
        """Forget all but the ``keep`` newest entries (an edited pack gets a new key), and
        what older versions of this cache left (ARPA text models)."""
        if self.directory is None:
            return
        for stale in self.directory.glob("command-*.arpa"):
            stale.unlink(missing_ok=True)
        entries = sorted(self.directory.glob(f"command-*{suffix}"),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building the phrase model makes millions of
    small objects, none in cycles, and the collector's passes over them cost a third of the
    time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ------------------------------------------------------------------------ loading


def default_model_dir() -> Path:
    """The US-English model directory inside the pocketsphinx wheel."""
    try:
        from pocketsphinx import get_model_path
    except ImportError as exc:
        raise EngineError(
            f"the pocketsphinx engine is not installed ({exc}); install it with: "
            "pip install 'pocketsphinx>=5'"
        ) from None
    return Path(get_model_path()) / "en-us"


def dictionary_path(model_dir: Path | None = None) -> Path:
    """The CMU pronunciation dictionary of ``model_dir`` (default: the bundled one)."""
    return _model_file(model_dir, "cmudict-en-us.dict")


def _model_file(model_dir: Path | None, name: str) -> Path:
    path = (model_dir or default_model_dir()) / name
    if not path.exists():
        raise ModelError(
            f"pocketsphinx model file {path} is missing; pass a complete model directory "
            "(en-us/, en-us.lm.bin, cmudict-en-us.dict) or reinstall the bundled one with: "
            "pip install --force-reinstall 'pocketsphinx>=5'"
        )
    return path


def _load_decoder(model_dir: Path | None, options: dict[str, Any]) -> Decoder:
    model = default_model_dir() if model_dir is None else model_dir
    from pocketsphinx import Decoder as PsDecoder

    config: dict[str, Any] = {
        "hmm": str(_model_file(model, "en-us")),
        "dict": str(_model_file(model, "cmudict-en-us.dict")),
        "lm": None,
        "loglevel": "FATAL",
        "samprate": SAMPLE_RATE,
        **options,
    }
    try:
        return PsDecoder(**config)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"pocketsphinx could not load the model in {model}: {exc}") from None


def read_dictionary_words(path: Path) -> set[str]:
    """Words of a CMU-format pronunciation dictionary (variants like ``word(2)`` folded)."""
    words = set()
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            head = line.split(maxsplit=1)[0] if line.strip() else ""
            if head and not head.startswith((";;;", "#")):
                words.add(_ALTERNATE.sub("", head.lower()))
    return words


def _read_model(decoder: Decoder, path: Path) -> NGramModel:
    """The n-gram model in ``path`` (ARPA or PocketSphinx binary), for ``decoder``."""
    from pocketsphinx import NGramModel as PsNGramModel

    try:
        return PsNGramModel(decoder.config, decoder.get_logmath(), str(path))
    except (RuntimeError, ValueError) as exc:
        raise EngineError(f"pocketsphinx could not load the language model {path}: "
                          f"{exc}") from None


def _add_grammar(decoder: Decoder, vocabulary: Vocabulary) -> None:
    try:
        decoder.add_jsgf_string("command", vocabulary.jsgf())
    except (ValueError, RuntimeError) as exc:
        raise EngineError(f"pocketsphinx could not compile the intent grammar: {exc}") from None


def _general_words(model: Path, words: set[str], count: int) -> dict[str, float]:
    """The ``count`` most frequent of ``words`` in language model ``model`` -> their
    probability."""
    from pocketsphinx import LogMath
    from pocketsphinx import NGramModel as PsNGramModel

    try:
        lm = PsNGramModel.readfile(str(model))
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"pocketsphinx could not load {model}: {exc}") from None
    scored = sorted(((lm.prob([w]), w) for w in words if w.isalpha()), reverse=True)
    log_base = LogMath()
    return {w: float(log_base.exp(score)) for score, w in scored[:count]}


def _dictionary_lines(path: Path, words: set[str]) -> list[str]:
    """The lines of CMU-format dictionary ``path`` for ``words`` (all their variants), in
    the order of the file."""
    lines = []
    with path.open(encoding="utf-8", errors="replace") as entries:
        for line in entries:
            head = line.split(maxsplit=1)[0] if line.strip() else ""
            if head and _ALTERNATE.sub("", head.lower()) in words:
                lines.append(line if line.endswith("\n") else line + "\n")
    return lines


def _entry_lines(entries: Iterable[tuple[str, str]]) -> list[str]:
    """Dictionary lines for (word, phones); a word's second pronunciation as ``word(2)``."""
    seen: dict[str, int] = {}
    lines = []
    for word, phones in entries:
        seen[word] = seen.get(word, 0) + 1
        head = word if seen[word] == 1 else f"{word}({seen[word]})"
        lines.append(f"{head} {phones}\n")
    return lines


def read_user_dictionary(path: Path) -> list[tuple[str, str]]:
    """(word, phones) of each line of a CMU-format dictionary (``word  HH AH L OW``);
    :class:`ModelError` naming the line for an unreadable file or an unknown phone."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read user dictionary {path}: {exc}") from None
    entries = []
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts or parts[0].startswith((";;;", "#")):
            continue
        phones = [p.upper().rstrip("012") for p in parts[1:]]
        bad = [p for p in phones if p not in PHONES]
        if not phones or bad:
            raise ModelError(
                f"{path}:{number}: bad pronunciation for '{parts[0]}' (unknown phones: "
                f"{' '.join(bad) or 'none given'}); write CMU phones, e.g. 'hello HH AH L OW'"
            )
        entries.append((_ALTERNATE.sub("", parts[0].lower()), " ".join(phones)))
    return entries


# ------------------------------------------------------------------------ pronunciations

_ESPEAK_TO_CMU = {
    "a": "AE", "a#": "AH", "aa": "AE", "a2": "AH", "A": "AA", "A:": "AA", "A@": "AA R",
    "@": "AH", "@2": "AH", "@5": "AH", "@L": "AH L", "@r": "ER", "3": "ER", "3:": "ER",
    "E": "EH", "e": "EH", "e@": "EH R", "eI": "EY", "i": "IY", "i:": "IY", "I": "IH",
    "I2": "IH", "I#": "IH", "i@": "IH R", "i@3": "IH R", "0": "AA", "O": "AO", "O:": "AO",
    "O2": "AO", "O@": "AO R", "o@": "AO R", "OI": "OY", "o": "OW", "oU": "OW", "u": "UW",
    "u:": "UW", "U": "UH", "U@": "UH R", "V": "AH", "aI": "AY", "aI@": "AY ER",
    "aI3": "AY ER", "aU": "AW", "aU@": "AW ER", "p": "P", "b": "B", "t": "T", "t#": "T",
    "t2": "T", "d": "D", "d#": "D", "k": "K", "g": "G", "f": "F", "v": "V", "T": "TH",
    "D": "DH", "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "h": "HH", "m": "M", "n": "N",
    "N": "NG", "l": "L", "r": "R", "r-": "R", "w": "W", "j": "Y", "tS": "CH", "dZ": "JH",
    "x": "K", "C": "HH", "W": "W", "n-": "N", "m-": "M", "l-": "L", "z#": "Z",
}
"""espeak-ng's US-English phoneme mnemonics (``espeak-ng -x``) -> CMU phones."""
_LETTERS = {
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "IY", "z": "Z",
}
_DIGRAPHS = {
    "ch": "CH", "sh": "SH", "th": "TH", "ph": "F", "ng": "NG", "ck": "K", "ee": "IY",
    "oo": "UW", "ou": "AW", "ai": "EY", "ay": "EY", "ea": "IY", "oa": "OW", "qu": "K W",
}


def guess_pronunciations(words: Iterable[str]) -> dict[str, str]:
    """A CMU-phone pronunciation for each word: espeak-ng's when it is installed, else crude
    letter-to-sound rules. Words that yield no phones at all are left out."""
    words = list(words)
    espeak = shutil.which("espeak-ng")
    from_espeak = _espeak_phones(espeak, words) if espeak and words else {}
    result = {}
    for word in words:
        phones = from_espeak.get(word) or _letter_phones(word)
        if phones:
            result[word] = phones
    return result


def _espeak_phones(espeak: str, words: list[str]) -> dict[str, str]:
    """espeak-ng's pronunciation of each word (one call, one word a line), in CMU phones."""
    try:
        done = subprocess.run(
            [espeak, "-q", "-x", "-v", "en-us", "--sep= "],
            input="\n".join(words) + "\n", capture_output=True, text=True, timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    lines = done.stdout.splitlines()
    if len(lines) != len(words):
        return {}
    mapped = (_join_phones(_map_espeak(token) for token in line.split()) for line in lines)
    return dict(zip(words, mapped, strict=True))


def _join_phones(parts: Iterable[str]) -> str:
    """Phones as one string, a phone repeated across espeak symbols kept once ("e@ r")."""
    phones: list[str] = []
    for phone in " ".join(parts).split():
        if not phones or phones[-1] != phone:
            phones.append(phone)
    return " ".join(phones)


def _map_espeak(token: str) -> str:
    token = token.strip("',%=_|;")
    while token and token not in _ESPEAK_TO_CMU:
        token = token[:-1]
    return _ESPEAK_TO_CMU.get(token, "")


def _letter_phones(word: str) -> str:
    letters = "".join(c for c in word.lower() if "a" <= c <= "z")
    phones, i = [], 0
    while i < len(letters):
        pair = letters[i : i + 2]
        phones.append(_DIGRAPHS[pair] if pair in _DIGRAPHS else _LETTERS[letters[i]])
        i += 2 if pair in _DIGRAPHS else 1
    return " ".join(phones)


def missing_report(
    missing: list[str],
    total: int,
    guessed: dict[str, str] | None = None,
    from_user_dict: list[str] | None = None,
) -> list[str]:
    """Lines saying which of ``total`` words are not in the pronunciation dictionary and the
    pronunciations guessed for them (computed here when ``guessed`` is None)."""
    if guessed is None:
        guessed = guess_pronunciations(missing)
    user = f"; {len(from_user_dict)} from the user dictionary" if from_user_dict else ""
    if not missing:
        return [f"pocketsphinx: all {total} words of the intent pack are in the "
                f"pronunciation dictionary{user}"]
    lines = [
        f"pocketsphinx: {len(missing)} of {total} words are not in the pronunciation "
        f"dictionary{user}; guessed pronunciations (CMU phones) are used:"
    ]
    for word in missing:
        lines.append(f"  {word}  {guessed.get(word) or '(no guess: it cannot be recognised)'}")
    lines.append(
        "  to correct one, put a line 'word  PH O N E S' in a CMU-format dictionary file and "
        "name it in the config file (stt: user_dict: FILE)"
    )
    return lines


# ----------------------------------------------------------------- the registry's interface

def is_model(path: Path) -> bool:
    """An acoustic model folder with its pronunciation dictionary."""
    return (path / "mdef").is_file() or (path / "en-us" / "mdef").is_file()


def default_model(language: str) -> Path | None:
    return None  # the bundled US English model


def preload(choice: EngineChoice) -> None:
    """Nothing: the decoder is made with the pack's phrases (quick, and kept in the cache)."""


def build(request: Build) -> Recognizer:
    return PocketSphinxRecognizer(request.vocabulary, model_dir=request.choice.model,
                                  user_dict=request.user_dict, cache_dir=request.cache_dir)


def known_words(model: Path | None, user_dict: Path | None) -> set[str] | None:
    words = read_dictionary_words(dictionary_path(model))
    return words | (read_dictionary_words(user_dict) if user_dict else set())


def vocabulary_report(words: set[str], known: set[str] | None, model: Path | None) -> list[str]:
    return missing_report(sorted(words - (known or set())), len(words))
