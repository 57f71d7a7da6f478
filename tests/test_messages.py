"""Messages that say what happened, once, and what to do: no network, private folders."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.base.config import private_dir
from assistant.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_no_network_is_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    # .invalid never resolves (RFC 2606), with or without a network
    code = main(["models", "install", "http://no-such-host.invalid/model.zip"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("cannot reach no-such-host.invalid (no network?)") == 1
    assert "interrupted" not in err and "resuming" not in err
    assert "run the same command again" in err


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_private_folders_and_their_new_parents_are_0700(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        leaf = private_dir(tmp_path / "cache" / "trust-assistant" / "stt")
    finally:
        os.umask(old)
    for folder in (leaf, leaf.parent, leaf.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_phrase_model_cache_folder_is_0700_under_umask_000(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "TRUST_ASSISTANT_CACHE_DIR": str(cache)}
    script = ("import os; os.umask(0); from assistant.cli import main; "
              "raise SystemExit(main(['listen', '--prepare', '--engine', 'pocketsphinx', "
              "'--no-default-intents', '--intents', 'tests/data/coffee']))")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=240)
    folders = [p for p in cache.rglob("*") if p.is_dir()] + [cache]
    assert len(folders) >= 2
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
