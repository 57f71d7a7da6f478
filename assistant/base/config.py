"""Settings: one frozen dataclass per pipeline stage, read from the user's config file.

The config file is YAML (``~/.config/trust-assistant/config.yaml`` on Linux, or ``--config
FILE``); every key is optional. Command-line flags override the file.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_check import check_value
from .errors import ConfigError
from .limits import MAX_FILE_BYTES
from .yamlsource import YamlError, load

APP_NAME = "trust-assistant"


@dataclass(frozen=True)
class MatcherSettings:
    threshold: float = 0.38
    """Lowest confidence (0..1) at which an utterance is given an intent."""
    margin: float = 0.04
    """Two topics closer than this (0..1) make the assistant ask which one was meant."""
    keyword_boost: float = 0.05
    """Confidence added (0..1) when the utterance contains one of the intent's keywords."""
    safety_threshold: float = 0.88
    """Similarity (0..1) of any part of the utterance to a safety example that triggers safety."""


@dataclass(frozen=True)
class SttSettings:
    engine: str = "auto"
    """Recogniser: auto (Vosk if a Vosk model is installed, else PocketSphinx), pocketsphinx,
    vosk, whisper."""
    model: str | None = None
    """Model directory or installed model name; None picks the default for the engine."""
    bias: bool = True
    """Bias the recogniser towards the intent pack's phrases (keeps an open-vocabulary path)."""
    second_pass: bool = True
    """With ``engine: auto``, read each request again with Whisper when it is installed:
    it hears wording the phrase model does not know, and safety statements in it."""
    sample_rate: int = 16000
    """Sample rate the recognisers are fed (hertz)."""
    user_dict: str | None = None
    """A pronunciation file (CMU format: ``word  W ER D``) for words PocketSphinx lacks."""


@dataclass(frozen=True)
class TtsSettings:
    enabled: bool = True
    """Speak replies; when False (or when speech fails) replies are printed only."""
    engine: str = "auto"
    """Speech engine: auto (Piper when it and a voice are installed, else pyttsx3), piper,
    pyttsx3 (espeak-ng on Linux)."""
    voice: str | None = None
    """Voice id or name (``trust-assistant say --list-voices``), or a Piper ``.onnx`` file;
    None = the engine's default."""
    rate: int = 165
    """Speaking rate (words per minute)."""
    volume: float = 1.0
    """Volume (0..1)."""
    rate_step: int = 25
    """How much "slower" / "faster" change the rate (words per minute)."""


@dataclass(frozen=True)
class AudioSettings:
    input_device: str | None = None
    """Microphone: index or part of its name; None = the system default."""
    output_device: str | None = None
    """Speaker: index or part of its name; None = the system default."""
    block_ms: int = 100
    """Length of one block of microphone audio (milliseconds)."""


@dataclass(frozen=True)
class ListenSettings:
    wake_phrase: str = "hey coach"
    """Phrase that starts a turn in hands-free mode."""
    follow_up_s: float = 6.0
    """After a reply, how long a follow-up is heard without the wake phrase (seconds)."""
    end_silence_s: float = 0.8
    """Silence that ends a request (seconds)."""
    early_end_s: float = 0.3
    """A pause this long ends a request early when what was heard is already a clear request
    (seconds)."""
    max_utterance_s: float = 15.0
    """Longest single request (seconds)."""
    answer_silence_s: float = 2.5
    """Silence that ends a spoken reflection answer (seconds): answers may pause."""
    phrase_break_s: float = 0.6
    """In a reflection answer, a pause this long ends a phrase, and each phrase is transcribed
    on its own (seconds): over a long pause the open model loses its way in the words after."""
    nudge_after_s: float = 20.0
    """Silence before a gentle nudge while waiting for a reflection answer (seconds)."""
    answer_max_s: float = 300.0
    """Longest spoken reflection answer (seconds of speech): then it is kept as it is, even
    when the room never falls silent."""


@dataclass(frozen=True)
class SafetySettings:
    region: str = "auto"
    """Where the person is, for the emergency number and crisis line the safety reply gives:
    US, CA, GB, IE, AU, NZ, EU (or an EU country code), or auto (from the system locale)."""
    helpline_name: str | None = None
    """A helpline of the person's own choosing, named in the safety reply."""
    helpline_number: str | None = None
    """Its number."""


@dataclass(frozen=True)
class Settings:
    language: str = "en"
    intents_dirs: tuple[Path, ...] = ()
    default_intents: bool = True
    matcher: MatcherSettings = field(default_factory=MatcherSettings)
    stt: SttSettings = field(default_factory=SttSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    listen: ListenSettings = field(default_factory=ListenSettings)
    safety: SafetySettings = field(default_factory=SafetySettings)
    config_file: Path | None = None

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def config_dir() -> Path:
    from platformdirs import user_config_path

    return Path(os.environ.get("TRUST_ASSISTANT_CONFIG_DIR") or user_config_path(APP_NAME))


def data_dir() -> Path:
    from platformdirs import user_data_path

    return Path(os.environ.get("TRUST_ASSISTANT_DATA_DIR") or user_data_path(APP_NAME))


def cache_dir() -> Path:
    """Where the assistant keeps what it can build again (phrase models, unpacked weights):
    nothing private. ``$TRUST_ASSISTANT_CACHE_DIR``, else ``cache/`` in
    ``$TRUST_ASSISTANT_DATA_DIR`` when that is set, else the user's cache directory."""
    override = os.environ.get("TRUST_ASSISTANT_CACHE_DIR")
    if override:
        return Path(override)
    data = os.environ.get("TRUST_ASSISTANT_DATA_DIR")
    if data:
        return Path(data) / "cache"
    from platformdirs import user_cache_path

    return Path(user_cache_path(APP_NAME))


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by the user only (mode 0700, whatever
    the umask: ``mkdir(parents=True)`` would make the parents 0755, or 0777 under umask 000)."""
    missing = [path, *(p for p in path.parents if not p.exists())]
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True, mode=0o700)
        folder.chmod(0o700)
    return path


_SECTIONS = {
    "matcher": MatcherSettings, "stt": SttSettings, "tts": TtsSettings,
    "audio": AudioSettings, "listen": ListenSettings, "safety": SafetySettings,
}


def load_settings(path: Path | None = None) -> Settings:
    """Settings from ``path`` (or the default config file when it exists)."""
    explicit = path is not None
    path = path or config_dir() / "config.yaml"
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist")
        return Settings()
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"config file {path} is too large (the limit is {MAX_FILE_BYTES} "
                              "bytes): is it the right file?")
        data = load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except YamlError as exc:
        line = f":{exc.line}" if exc.line is not None else ""
        raise ConfigError(f"{path}{line}: {exc.message}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping of settings")
    return settings_from_dict(data, path)


def settings_from_dict(data: dict[str, Any], path: Path | None = None) -> Settings:
    where = f"{path}: " if path else ""
    kwargs: dict[str, Any] = {"config_file": path}
    for key, value in data.items():
        if key in _SECTIONS:
            kwargs[key] = _section(_SECTIONS[key], value, f"{where}{key}")
            if key == "safety":
                _check_safety(kwargs[key], f"{where}{key}")
        elif key == "language":
            kwargs["language"] = str(value)
            if not _LANGUAGE.match(kwargs["language"]):
                raise ConfigError(f"{where}language: {value!r} is not a language code: use "
                                  "one like 'en'")
        elif key == "intents_dirs":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}intents_dirs must be a list of directories")
            kwargs["intents_dirs"] = tuple(Path(str(v)).expanduser() for v in value)
        elif key in ("engine", "model"):
            kwargs.setdefault("stt", SttSettings())
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{where}{key}: expected a word, got {value!r}")
            check_value(f"stt.{key}", value, f"{where}{key}")
            kwargs["stt"] = dataclasses.replace(kwargs["stt"], **{key: value})
        else:
            known = ", ".join(sorted([*_SECTIONS, "language", "intents_dirs", "engine", "model"]))
            raise ConfigError(f"{where}unknown setting '{key}' (known: {known})")
    return Settings(**kwargs)


def _section(cls: type[Any], value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping of settings")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    converted: dict[str, Any] = {}
    for key, raw in value.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown setting '{key}' (known: {', '.join(fields)})")
        default = getattr(cls(), key)
        if isinstance(default, bool) and not isinstance(raw, bool):
            raise ConfigError(f"{where}.{key}: expected true or false, got {raw!r}")
        wrong_bool = isinstance(raw, bool) and not isinstance(default, bool)
        if wrong_bool or not isinstance(raw, str | int | float | None) or (
                raw is None and default is not None):
            kind = "text" if default is None else _KINDS.get(type(default), "a value")
            raise ConfigError(f"{where}.{key}: expected {kind}, got {raw!r}")
        try:
            converted[key] = (raw if raw is None else str(raw) if default is None
                              else type(default)(raw))
        except (TypeError, ValueError, OverflowError):
            kind = _KINDS.get(type(default), type(default).__name__)
            raise ConfigError(f"{where}.{key}: expected {kind}, got {raw!r}") from None
        section = next(name for name, known in _SECTIONS.items() if known is cls)
        check_value(f"{section}.{key}", converted[key], f"{where}.{key}")
    return cls(**converted)


_KINDS = {int: "a whole number", float: "a number", str: "text"}
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")


def _check_safety(settings: SafetySettings, where: str) -> None:
    from .safety import region_code

    if settings.region != "auto":
        try:
            region_code(settings.region)
        except ConfigError as exc:
            raise ConfigError(f"{where}.{str(exc).split('.', 1)[1]}") from None
    if (settings.helpline_name is None) != (settings.helpline_number is None):
        raise ConfigError(f"{where}: give both helpline_name and helpline_number, or neither")
