"""A systemd user unit, so the assistant starts with the user's session (on a Raspberry Pi,
with the machine when lingering is on).

Nothing here needs systemd to be present: the unit file is written or removed, and the front
end tells the person the exact ``systemctl`` / ``loginctl`` commands to run. :func:`status`
asks ``systemctl --user`` only when it is installed and answers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..base.config import Settings
from ..base.errors import UsageError

UNIT_NAME = "trust-assistant.service"
SERVICE = "trust-assistant"
ENABLE = f"systemctl --user daemon-reload && systemctl --user enable --now {SERVICE}"
LINGER = "loginctl enable-linger $USER"
STOP = f"systemctl --user stop {SERVICE} && systemctl --user daemon-reload"
SYSTEMCTL_TIMEOUT_S = 5.0
"""Longest wait for an answer from ``systemctl`` (seconds)."""

PASSED_ENV = ("TRUST_ASSISTANT_CONFIG_DIR", "TRUST_ASSISTANT_DATA_DIR")
"""Environment variables copied into the unit when set, so the service uses the same files."""


@dataclass(frozen=True)
class ServiceStatus:
    """Whether the unit file is there and what systemd says of it."""

    path: Path
    installed: bool
    systemd: Literal["missing", "no-session", "yes"]
    """``missing``: no systemctl; ``no-session``: ``systemctl --user`` does not answer."""
    active: str | None = None
    enabled: str | None = None


def unit_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user`` (``~/.config/systemd/user`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def unit_path() -> Path:
    return unit_dir() / UNIT_NAME


def executable() -> list[str]:
    """The command that runs this installation of the assistant, as absolute paths."""
    script = Path(sys.executable).parent / SERVICE
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    found = shutil.which(SERVICE)
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "assistant"]


def unit_text(command: list[str], environment: dict[str, str]) -> str:
    """The unit file: runs ``command listen``, restarts it when it fails."""
    lines = [
        "[Unit]",
        "Description=trust-assistant, an offline voice coach for rebuilding trust",
        "After=sound.target pipewire-pulse.service pulseaudio.service",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={_command_line([*command, 'listen'])}",
        "Restart=on-failure",
        "RestartSec=5",
    ]
    lines += [f"Environment={_quote(f'{key}={value}')}" for key, value in environment.items()]
    lines += ["", "[Install]", "WantedBy=default.target", ""]
    return "\n".join(lines)


def install(settings: Settings) -> tuple[Path, bool]:
    """Write the unit file; (its path, whether it replaced one)."""
    command = executable()
    if settings.config_file is not None:
        command += ["--config", str(settings.config_file.absolute())]
    environment = {key: os.environ[key] for key in PASSED_ENV if os.environ.get(key)}
    path = unit_path()
    existed = path.exists()
    _write_unit(path, unit_text(command, environment))
    return path, existed


def has_systemd() -> bool:
    return _systemctl() is not None


def uninstall() -> Path | None:
    """Remove the unit file and its enable links; the path removed, None if none was there."""
    path = unit_path()
    links = list(unit_dir().glob(f"*.wants/{UNIT_NAME}"))
    if not path.exists() and not links:
        return None
    for link in links:
        link.unlink(missing_ok=True)
    path.unlink(missing_ok=True)
    return path


def status() -> ServiceStatus:
    """Whether the unit file exists and, when systemd answers, whether it is active."""
    path = unit_path()
    systemctl = _systemctl()
    if systemctl is None:
        return ServiceStatus(path, path.exists(), "missing")
    active = _ask_systemctl(systemctl, "is-active")
    if active is None:
        return ServiceStatus(path, path.exists(), "no-session")
    return ServiceStatus(path, path.exists(), "yes", active,
                         _ask_systemctl(systemctl, "is-enabled") or "no")


def _systemctl() -> str | None:
    return shutil.which("systemctl")


def _ask_systemctl(systemctl: str, question: str) -> str | None:
    """``systemctl --user QUESTION trust-assistant``'s one-word answer, or None if it fails."""
    try:
        result = subprocess.run(
            [systemctl, "--user", question, SERVICE], capture_output=True, text=True,
            timeout=SYSTEMCTL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = result.stdout.split()
    return words[0] if words else None


def _write_unit(path: Path, text: str) -> None:
    """Write ``path`` atomically (mode 0644, as systemd expects of unit files)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _command_line(words: list[str]) -> str:
    return " ".join(_quote(word) for word in words)


def _quote(word: str) -> str:
    """One word for a unit file: ``%`` and ``$`` doubled, quoted when it holds spaces or
    quotes."""
    word = word.replace("%", "%%").replace("$", "$$")
    if any(c in word for c in " \t\"'\\"):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word
