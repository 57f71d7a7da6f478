"""Choosing reflective prompts: none repeats until all have been used, and prompts of the
topics the person asked about recently come first."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .intents import IntentPack


@dataclass(frozen=True)
class Prompt:
    text: str
    topic: str
    """Name of the intent the prompt belongs to."""


class PromptDeck:
    """A deck of reflective prompts; :meth:`draw` never repeats one until all were drawn.

    With ``state_file`` the drawn prompts are remembered across sessions (a JSON list of
    prompt texts, written atomically, mode 0600).
    """

    def __init__(
        self, pack: IntentPack, state_file: Path | None = None, rng: random.Random | None = None
    ) -> None:
        seen: set[str] = set()
        self.prompts: list[Prompt] = []
        for intent in pack.intents.values():
            for text in intent.prompts:
                if text not in seen:
                    seen.add(text)
                    self.prompts.append(Prompt(text, intent.name))
        self.state_file = state_file
        self.rng = rng or random.Random()
        self.used: set[str] = self._load()

    def draw(self, recent_topics: Sequence[str] = (), avoid: str | None = None) -> Prompt | None:
        """The next prompt: unused ones only, the most recently discussed topic first."""
        if not self.prompts:
            return None
        fresh = [p for p in self.prompts if p.text not in self.used and p.text != avoid]
        if not fresh:
            self.used.clear()
            fresh = [p for p in self.prompts if p.text != avoid] or self.prompts
        for topic in reversed(recent_topics):
            on_topic = [p for p in fresh if p.topic == topic]
            if on_topic:
                fresh = on_topic
                break
        prompt = self.rng.choice(fresh)
        self.used.add(prompt.text)
        self._save()
        return prompt

    def _load(self) -> set[str]:
        if self.state_file is None or not self.state_file.exists():
            return set()
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()
        known = {p.text for p in self.prompts}
        return {t for t in data if isinstance(t, str) and t in known} if isinstance(
            data, list) else set()

    def _save(self) -> None:
        if self.state_file is None:
            return
        from ..base.storage import write_private

        write_private(self.state_file, json.dumps(sorted(self.used), indent=0))
