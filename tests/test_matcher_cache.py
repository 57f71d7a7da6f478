"""The matcher is built from the pack's files once and loaded at the next start; any change to
those files (or a damaged saved file) builds it again."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.base.config import MatcherSettings
from assistant.pack.intents import IntentPack
from assistant.understanding import matcher_cache
from assistant.understanding.matcher import Matcher
from assistant.understanding.matcher_cache import cached_matcher

PACK = """language: en
intents:
  - name: apology
    examples:
      - "how do i (say sorry|apologise) [properly]"
    replies: ["Say what you did, and that you see how it hurt."]
  - name: reading
    examples:
      - "what (should|could) i read [next]"
    replies: ["A book list."]
"""


def pack_in(directory: Path, text: str = PACK) -> IntentPack:
    directory.mkdir(exist_ok=True)
    (directory / "mine.yaml").write_text(text)
    return IntentPack.from_dirs([directory], "en")


def no_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")
    monkeypatch.setattr(Matcher, "__init__", refuse)


def test_built_once_then_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    built = cached_matcher(pack_in(tmp_path / "pack"), MatcherSettings(), cache)
    assert len(list(cache.glob("matcher-*.pickle"))) == 1
    no_building(monkeypatch)
    loaded = cached_matcher(pack_in(tmp_path / "pack"), MatcherSettings(), cache)
    for text in ("how do i say sorry", "what could i read next", "the weather"):
        assert loaded.match(text) == built.match(text)


def test_a_changed_file_or_setting_builds_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached_matcher(pack_in(tmp_path / "pack"), MatcherSettings(), cache)
    changed = PACK.replace("[next]", "[next|tonight]")
    again = cached_matcher(pack_in(tmp_path / "pack", changed), MatcherSettings(), cache)
    assert again.match("what could i read tonight").intent == "reading"
    assert len(list(cache.glob("matcher-*.pickle"))) == 1  # the old one is gone
    stricter = cached_matcher(pack_in(tmp_path / "pack", changed), MatcherSettings(0.9), cache)
    assert stricter.settings.threshold == 0.9


def test_a_damaged_file_is_built_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    cached_matcher(pack_in(tmp_path / "pack"), MatcherSettings(), cache)
    [saved] = cache.glob("matcher-*.pickle")
    saved.write_bytes(saved.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        matcher = cached_matcher(pack_in(tmp_path / "pack"), MatcherSettings(), cache)
    assert matcher.match("how do i apologise").intent == "apology"
    assert "could not be read" in caplog.text
    assert saved.stat().st_size > 100  # written again


def test_an_unwritable_cache_only_costs_time(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with caplog.at_level(logging.WARNING):
        matcher = cached_matcher(pack_in(tmp_path / "pack"), MatcherSettings(), blocked)
    assert matcher.match("how do i apologise").intent == "apology"
    assert "could not be saved" in caplog.text


def test_a_pack_not_read_from_files_is_not_cached(tmp_path: Path) -> None:
    pack = pack_in(tmp_path / "pack")
    assert matcher_cache.cache_key(replace(pack, sources=()), MatcherSettings()) is None
    cached_matcher(replace(pack, sources=()), MatcherSettings(), tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_the_assistant_holds_one_copy_of_the_pack(tmp_path: Path) -> None:
    """The application's pack is the matcher's, also when the matcher came from its cache
    (loading the files again beside it would keep two packs in memory)."""
    from assistant.app.assistant import Assistant
    from assistant.base.config import Settings

    pack_in(tmp_path / "pack")
    settings = replace(Settings(), default_intents=False, intents_dirs=(tmp_path / "pack",))
    Assistant(settings).load()  # builds and saves the matcher
    app = Assistant(settings).load()  # loads it
    assert app.pack is app.dialog.matcher.pack
