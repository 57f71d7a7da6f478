"""The matcher, kept between starts: built from the pack's files once, then loaded.

Building the matcher expands every example template of the pack (over a hundred thousand
sentences, most of them the safety intents') and normalises each; that is most of the time to
start. The built matcher is saved in the cache directory under a key made of everything it is
built from: the pack's files (their paths and bytes), the matcher settings, and the source of
the modules that build it. Any change to those makes a new key, so a stale matcher is never
loaded; a damaged or unreadable file is built again. Only the newest file is kept.

The file holds the pack and its expansions only, nothing the person said; it is written with
mode 0600 in the user's own cache (a pickle: whoever can write there can already run code as
the user).
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sys
from pathlib import Path

import numpy as np

from ..base import normalize
from ..base.config import MatcherSettings
from ..base.lang import en
from ..base.storage import replacing
from ..pack import candidates, intents, slots, templates, terms
from ..pack.intents import IntentPack
from . import matcher
from .matcher import Matcher

log = logging.getLogger(__name__)

FORMAT = 1
"""Raised when what is saved changes in a way the source hash would not show."""
_CODE = (candidates, intents, matcher, normalize, slots, templates, terms, en)
"""The modules whose source decides what a built matcher holds."""


def cache_key(pack: IntentPack, settings: MatcherSettings) -> str | None:
    """The key of the matcher for ``pack``, or None when the pack was not read from files."""
    if not pack.sources:
        return None
    digest = hashlib.sha256(repr((FORMAT, sys.version, np.__version__, pack.language,
                                  sorted(pack.implicit), settings)).encode())
    for module in _CODE:
        digest.update(Path(str(module.__file__)).read_bytes())
    for source in pack.sources:
        digest.update(str(source).encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()[:32]


def cached_matcher(pack: IntentPack, settings: MatcherSettings, directory: Path) -> Matcher:
    """The matcher for ``pack``: loaded from ``directory`` when built before, else built and
    saved there (when the directory cannot be written, it is built every time)."""
    try:
        key = cache_key(pack, settings)
    except OSError as error:  # a pack file gone since it was read
        log.debug("matcher not cached: %s", error)
        key = None
    if key is None:
        return Matcher(pack, settings)
    path = directory / f"matcher-{key}.pickle"
    if path.is_file():
        try:
            with path.open("rb") as file:
                built = pickle.load(file)
            if isinstance(built, Matcher):
                return built
        except Exception as error:  # damaged, truncated, from another version: build again
            log.warning("the saved matcher %s could not be read (%s); building it again",
                        path, error)
    built = Matcher(pack, settings)
    _save(built, directory, path)
    return built


def _save(built: Matcher, directory: Path, path: Path) -> None:
    try:
        with replacing(path) as temporary, temporary.open("wb") as file:
            pickle.dump(built, file, protocol=pickle.HIGHEST_PROTOCOL)
        for old in directory.glob("matcher-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as error:
        log.warning("the matcher could not be saved in %s (%s); it is built at each start",
                    directory, error)
