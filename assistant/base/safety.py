"""Where to get help: the emergency number and crisis line for the person's region.

The safety reply names them (``{emergency}``, ``{crisis_line}`` in the pack's safety replies),
and ``--json`` carries them as fields so a front end can show them. The region comes from the
``safety.region`` setting, else from the system locale; a person can add their own helpline.
"""

from __future__ import annotations

import contextlib
import locale
import os
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Line:
    """A telephone line: who answers, and the number to call or text."""

    name: str
    number: str


@dataclass(frozen=True)
class Contacts:
    """The numbers the safety reply gives."""

    region: str
    """Region code (``US``, ``GB``, ...) or ``""`` when unknown."""
    emergency: str
    """Emergency services, as it is said ("911", "999 or 112")."""
    crisis: Line | None
    """A crisis line that answers day and night, if the region has one we know."""
    helpline: Line | None = None
    """The person's own helpline, from the config."""

    def fields(self) -> dict[str, str]:
        """Values for the placeholders of a safety reply."""
        line = self.helpline or self.crisis
        known = self.emergency != UNKNOWN[0]
        return {
            "emergency": f"emergency services on {self.emergency}" if known else self.emergency,
            "crisis_line": f"{line.name} on {line.number}" if line else "a local crisis line",
        }

    def to_json(self) -> dict[str, Any]:
        def line(value: Line | None) -> dict[str, str] | None:
            return {"name": value.name, "number": value.number} if value else None

        return {"region": self.region or None, "emergency": self.emergency,
                "crisis_line": line(self.crisis), "helpline": line(self.helpline)}


REGIONS: dict[str, tuple[str, Line | None]] = {
    "US": ("911", Line("the 988 Suicide and Crisis Lifeline", "988")),
    "CA": ("911", Line("the 988 Suicide Crisis Helpline", "988")),
    "GB": ("999", Line("Samaritans", "116 123")),
    "IE": ("112 or 999", Line("Samaritans", "116 123")),
    "AU": ("000", Line("Lifeline", "13 11 14")),
    "NZ": ("111", Line("Need to talk", "1737")),
    "EU": ("112", None),
}
"""Region -> (emergency number, crisis line). ``EU`` is any European Union country: 112
works in all of them, and the crisis lines differ."""

UNKNOWN = ("your local emergency number", None)
_ALIASES = {"UK": "GB"}
_EU_COUNTRIES = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
}


def region_code(value: str) -> str:
    """A known region for ``value`` (a region or country code, any case); ConfigError else."""
    code = _ALIASES.get(value.strip().upper(), value.strip().upper())
    if code in _EU_COUNTRIES:
        return "EU"
    if code not in REGIONS:
        known = ", ".join(sorted(REGIONS))
        raise ConfigError(f"safety.region: unknown region '{value}' (known: {known}, or auto)")
    return code


def locale_region() -> str:
    """The region of the system locale (``en_GB.UTF-8`` -> ``GB``), or ``""``."""
    names = [os.environ.get(v, "") for v in ("LC_ALL", "LC_MESSAGES", "LANG")]
    with contextlib.suppress(ValueError):
        names.append(locale.getlocale()[0] or "")
    for name in names:
        country = name.split(".")[0].split("@")[0].partition("_")[2]
        if len(country) == 2:
            try:
                return region_code(country)
            except ConfigError:
                continue
    return ""


def contacts(region: str = "auto", helpline: Line | None = None) -> Contacts:
    """The contacts for ``region`` ("auto": from the locale)."""
    code = locale_region() if region == "auto" else region_code(region)
    emergency, crisis = REGIONS.get(code, UNKNOWN)
    return Contacts(code, emergency, crisis, helpline)
