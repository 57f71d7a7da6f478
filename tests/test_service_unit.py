"""``trust-assistant service install|uninstall|status`` through the command line, with and
without a (fake) ``systemctl`` on the PATH."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.app.service import ENABLE, LINGER, unit_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def xdg(tmp_path: Path) -> Path:
    return tmp_path / "xdg"


def run(action: str, xdg: Path, *extra: str, path: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "XDG_CONFIG_HOME": str(xdg), **(env or {})}
    if path is not None:
        environment["PATH"] = path
    return subprocess.run([sys.executable, "-m", "assistant", *extra, "service", action],
                          capture_output=True, text=True, cwd=ROOT, env=environment,
                          timeout=60)


def unit_file(xdg: Path) -> Path:
    return xdg / "systemd" / "user" / "trust-assistant.service"


def fake_systemctl(folder: Path, script: str) -> str:
    """A ``systemctl`` that runs ``script`` (sh); the PATH to use."""
    folder.mkdir()
    tool = folder / "systemctl"
    tool.write_text(f"#!/bin/sh\n{script}\n")
    tool.chmod(0o755)
    return f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin"


def exec_start(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    return line.removeprefix("ExecStart=").split()


def test_install_writes_a_user_unit_and_says_how_to_enable(xdg: Path) -> None:
    result = run("install", xdg)
    assert result.returncode == 0, result.stderr
    path = unit_file(xdg)
    text = path.read_text()
    command = exec_start(text)
    assert Path(command[0]).is_absolute() and os.access(command[0], os.X_OK)
    assert command[-1] == "listen"
    assert "Restart=on-failure" in text and "WantedBy=default.target" in text
    assert f"Environment=TRUST_ASSISTANT_DATA_DIR={os.environ['TRUST_ASSISTANT_DATA_DIR']}" \
        in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert f"Wrote {path}" in lines
    assert ENABLE == ("systemctl --user daemon-reload && "
                      "systemctl --user enable --now trust-assistant")
    assert LINGER == "loginctl enable-linger $USER"
    assert ENABLE in lines and LINGER in lines
    again = run("install", xdg)
    assert f"Updated {path}" in again.stdout


def test_install_passes_the_config_file(xdg: Path, tmp_path: Path) -> None:
    config = tmp_path / "my config.yaml"
    config.write_text("language: en\n")
    assert run("install", xdg, "--config", str(config)).returncode == 0
    line = next(line for line in unit_file(xdg).read_text().splitlines()
                if line.startswith("ExecStart="))
    assert line.endswith(f'--config "{config}" listen')


def test_install_without_xdg_uses_home(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("XDG_CONFIG_HOME", None)
    result = subprocess.run([sys.executable, "-m", "assistant", "service", "install"],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".config" / "systemd" / "user" / "trust-assistant.service").exists()


def test_uninstall_removes_the_unit_and_its_enable_link(xdg: Path) -> None:
    run("install", xdg)
    wants = unit_file(xdg).parent / "default.target.wants"
    wants.mkdir()
    (wants / "trust-assistant.service").symlink_to(unit_file(xdg))
    result = run("uninstall", xdg)
    assert result.returncode == 0
    assert not unit_file(xdg).exists()
    assert not (wants / "trust-assistant.service").is_symlink()
    assert "systemctl --user stop trust-assistant" in result.stdout
    again = run("uninstall", xdg)
    assert again.returncode == 0 and "not installed" in again.stdout


def test_status_without_systemd(xdg: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("status", xdg, path=str(empty))
    assert result.returncode == 0, result.stderr
    assert "(not installed)" in result.stdout
    assert "systemd: not available here" in result.stdout


def test_status_when_systemctl_cannot_reach_the_user_session(xdg: Path, tmp_path: Path) -> None:
    path = fake_systemctl(tmp_path / "bin", 'echo "Failed to connect to bus" >&2; exit 1')
    run("install", xdg)
    result = run("status", xdg, path=path)
    assert result.returncode == 0
    assert "(installed)" in result.stdout
    assert "not available for this user session" in result.stdout


def test_status_asks_systemctl(xdg: Path, tmp_path: Path) -> None:
    script = ('[ "$1" = "--user" ] || exit 9\n'
              'case "$2" in is-active) echo active;; is-enabled) echo enabled;; esac')
    path = fake_systemctl(tmp_path / "bin", script)
    run("install", xdg)
    result = run("status", xdg, path=path)
    assert "Active: active" in result.stdout and "Enabled: enabled" in result.stdout


def test_unit_words_are_quoted_for_systemd() -> None:
    text = unit_text(["/opt/my apps/trust-assistant"], {"X": "100%"})
    assert 'ExecStart="/opt/my apps/trust-assistant" listen' in text
    assert "Environment=X=100%%" in text
