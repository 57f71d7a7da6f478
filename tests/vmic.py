"""A virtual microphone for tests: a private PulseAudio server with a null sink called ``vmic``.

Whatever is played into the sink (``paplay``, or the assistant's own speech through
sounddevice) comes out of its monitor source ``vmic.monitor``, which is the default source, so
sounddevice's ALSA ``default`` / ``pulse`` devices (via libasound2-plugins) record it as
microphone input, and :meth:`VirtualMic.record` captures what the assistant said.

Use in a test module::

    pytest_plugins = ["vmic"]          # registers the fixtures below, once per session
    if TYPE_CHECKING:                  # importing it at run time would defeat pytest's
        from vmic import VirtualMic    # assertion rewriting (a warning, an error here)

    @pytest.mark.vmic
    def test_hears(vmic: VirtualMic, tmp_path: Path) -> None:
        vmic.play(wav)                 # paplay into the sink (blocks until played)
        vmic.play(wav, wait=False)     # ... or in the background while a Microphone reads
        path = vmic.record(2.0)        # parecord from vmic.monitor, 16 kHz mono WAV
        with vmic.recording(tmp_path / "said.wav") as said:
            speaker.speak("...")       # what the assistant says lands in said.wav
        vmic.kill(); vmic.restart()    # device loss and return (same socket, same env)

Fixtures:

``vmic_server`` (session)
    Starts one server for the whole session (or skips the test, with the reason, when
    ``pulseaudio`` / ``pactl`` are not installed) and stops it at the end, even when tests fail.
``vmic`` (function)
    The same server, restarted first if an earlier test stopped or killed it (device-loss
    tests do), with the default sink and source set again.

A null sink is clocked by a timer that runs in 2-second blocks while no client asks for low
latency: streams then start up to 2 s late and recordings lose their tail. So the server keeps a
low-latency monitor client (``parec --latency-msec=20``, the "keeper") connected all along, and
``start()`` waits until the first long block has run out (about 2 s, once per start).

The server is started with ``--daemonize=no`` under ``setpriv --pdeathsig TERM``, so it dies with
the test process even if that is killed outright; ``stop()`` asks it to exit (``pactl exit``),
then terminates and finally kills it. Its socket, pid file and state live in a private temporary
``XDG_RUNTIME_DIR`` (and ``HOME``), with anonymous authentication, so no cookie is needed.

PortAudio enumerates devices when it is initialised (``import sounddevice``), and ALSA maps its
``default`` device to PulseAudio only if a server is running at that moment. ``start()`` therefore
sets ``XDG_RUNTIME_DIR`` and ``PULSE_SERVER`` in ``os.environ`` before anything opens a stream
and, when sounddevice has already been imported, re-initialises PortAudio
(``sd._terminate(); sd._initialize()``) so it sees the new server. Do not hold streams open
across ``start()`` / ``restart()``. ``stop()`` restores the previous environment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SINK = "vmic"
SOURCE = "vmic.monitor"
LATENCY_MS = 20
"""Latency the test clients ask for (milliseconds)."""
NULL_SINK_BLOCK_S = 2.05
"""How long a fresh null sink may run before it honours a low-latency request (seconds)."""
_ENV_KEYS = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "PULSE_COOKIE")


def missing_tools() -> list[str]:
    """Names of the PulseAudio programs this module needs that are not installed."""
    tools = ("pulseaudio", "pactl", "paplay", "parecord")
    return [tool for tool in tools if not shutil.which(tool)]


class VirtualMic:
    """A private PulseAudio server whose null sink ``vmic`` doubles as a microphone."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="vmic-"))
        self._own_root = root is None
        self.runtime_dir = self.root / "runtime"
        self.log_path = self.root / "pulseaudio.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._keeper: subprocess.Popen[bytes] | None = None
        self._latency = [f"--latency-msec={LATENCY_MS}"]
        """What test clients ask of the server (nothing in :meth:`plain`)."""
        self._clients: list[subprocess.Popen[bytes]] = []
        self._saved_env: dict[str, str | None] | None = None

    # -- environment -------------------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        return self.runtime_dir / "pulse" / "native"

    @property
    def env(self) -> dict[str, str]:
        """Variables that point PulseAudio clients (and ALSA's pulse plugin) at this server."""
        return {
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "PULSE_SERVER": f"unix:{self.socket_path}",
            "PULSE_COOKIE": str(self.root / "cookie"),
        }

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def _apply_env(self) -> None:
        if self._saved_env is None:
            self._saved_env = {key: os.environ.get(key) for key in _ENV_KEYS}
        os.environ.update(self.env)

    def _restore_env(self) -> None:
        if self._saved_env is None:
            return
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = None

    # -- server lifecycle --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> VirtualMic:
        """Start the server, make ``vmic`` the default sink and ``vmic.monitor`` the source."""
        if self.running:
            return self
        missing = missing_tools()
        if missing:
            raise RuntimeError(f"PulseAudio tools not installed: {', '.join(missing)}")
        self.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.root / "home").mkdir(mode=0o700, exist_ok=True)
        self._proc = self._spawn()
        started = time.monotonic()
        try:
            self._wait_ready(timeout)
            self.pactl("set-default-sink", SINK)
            self.pactl("set-default-source", SOURCE)
            self._keep()
        except BaseException:
            self._terminate()
            raise
        time.sleep(max(0.0, started + NULL_SINK_BLOCK_S - time.monotonic()))
        self._apply_env()
        reinitialise_portaudio()
        return self

    def _keep(self) -> None:
        self._keeper = subprocess.Popen(
            ["parec", f"--device={SOURCE}", f"--latency-msec={LATENCY_MS}", "--raw"],
            env=self._client_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @contextlib.contextmanager
    def plain(self) -> Iterator[VirtualMic]:
        """The sink as a user's own null sink would be, without the low-latency keeper: it
        then runs in long blocks unless a client asks for low latency, so streams start late
        and the echo of what is played comes back after an unknown, changing delay."""
        _end(self._keeper)
        self._keeper = None
        self._latency = []
        try:
            yield self
        finally:
            self._latency = [f"--latency-msec={LATENCY_MS}"]
            if self.running and self._keeper is None:
                self._keep()

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [
            "pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--system=no",
            "--use-pid-file=yes", "--log-level=info",
            "--load=module-native-protocol-unix auth-anonymous=1",
            f"--load=module-null-sink sink_name={SINK}",
        ]
        if shutil.which("setpriv"):
            command = ["setpriv", "--pdeathsig", "TERM", "--", *command]
        env = {
            **os.environ, **self.env,
            "HOME": str(self.root / "home"), "XDG_CONFIG_HOME": str(self.root / "home"),
        }
        log = self.log_path.open("ab")
        try:
            return subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited at start: {self.log_tail()}")
            if self.socket_path.exists() and self._pactl_ok("info"):
                return
            time.sleep(0.05)
        raise RuntimeError(f"pulseaudio did not start within {timeout} s: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the server's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (``pactl exit``, then SIGTERM, then SIGKILL); restore the environment."""
        if self.running:
            self._pactl_ok("exit")
        self._terminate()
        self._proc = None
        self._restore_env()

    def close(self) -> None:
        """Stop the server and remove its temporary directory."""
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def kill(self) -> None:
        """Kill the server outright (SIGKILL), as when a USB microphone is pulled out."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(5)
        _end(self._keeper)
        self._keeper = None

    def restart(self) -> VirtualMic:
        """Start the server again after :meth:`kill` (same socket, same environment)."""
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None
        for stale in ("native", "pid"):
            (self.runtime_dir / "pulse" / stale).unlink(missing_ok=True)
        return self.start()

    def _terminate(self) -> None:
        for client in self._clients:
            _end(client)
        self._clients = []
        _end(self._keeper)
        self._keeper = None
        _end(self._proc, polite=True)

    def __enter__(self) -> VirtualMic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- clients -----------------------------------------------------------------------------

    def pactl(self, *args: str) -> str:
        """Run ``pactl`` against this server; return its output, raise on failure."""
        done = subprocess.run(
            ["pactl", *args], env=self._client_env(), capture_output=True, text=True, timeout=10,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def _pactl_ok(self, *args: str) -> bool:
        try:
            self.pactl(*args)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True

    def _client(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a PulseAudio client; :meth:`stop` ends it if it is still running then."""
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen(command, env=self._client_env(), stdin=subprocess.DEVNULL,
                                **kwargs)
        for done in [p for p in self._clients if p.poll() is not None]:
            _close_pipes(done)
            self._clients.remove(done)
        self._clients.append(proc)
        return proc

    def play(self, wav: Path, *, wait: bool = True) -> subprocess.Popen[bytes]:
        """Play ``wav`` into the sink, as if spoken into the microphone; wait unless told not."""
        proc = self._client(
            ["paplay", f"--device={SINK}", *self._latency, str(wav)]
        )
        if wait:
            _, err = proc.communicate(timeout=60)
            _close_pipes(proc)
            if proc.returncode != 0:
                raise RuntimeError(f"paplay {wav} failed: {err.decode(errors='replace').strip()}")
        return proc

    @contextlib.contextmanager
    def recording(self, path: Path, rate: int = 16000) -> Iterator[Path]:
        """Record what the sink plays (mono 16-bit WAV at ``rate`` hertz) while the block runs."""
        before = self._count("source-outputs")
        proc = self._client(
            ["parecord", f"--device={SOURCE}", *self._latency, f"--rate={rate}",
             "--channels=1", "--format=s16le", "--file-format=wav", str(path)],
        )
        try:
            self._wait_for_count("source-outputs", before + 1, proc)
            yield path
        finally:
            _end(proc, first=signal.SIGINT)  # parecord finishes the WAV header on SIGINT

    def _count(self, what: str) -> int:
        """How many ``what`` (``sink-inputs``, ``source-outputs``) the server has."""
        return len(self.pactl("list", "short", what).splitlines())

    def _wait_for_count(self, what: str, count: int, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 5.0
        while self._count(what) < count:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"recorder did not connect: {err.strip() or 'timeout'}")
            time.sleep(0.02)

    @staticmethod
    def read_wav(path: Path) -> tuple[bytes, int]:
        """The 16-bit mono PCM and sample rate (hertz) of a WAV file."""
        return read_wav(path)

    def record(self, seconds: float, path: Path | None = None, rate: int = 16000) -> Path:
        """Record ``seconds`` of the sink's output into a WAV file (a temp file if no path)."""
        path = path or Path(tempfile.mkstemp(suffix=".wav", dir=self.root)[1])
        with self.recording(path, rate):
            time.sleep(seconds)
        return path


def _end(proc: subprocess.Popen[bytes] | None, *, polite: bool = False,
         first: signal.Signals = signal.SIGTERM) -> None:
    """Make sure ``proc`` has exited (wait if ``polite``, then ``first``, then SIGKILL) and
    close its pipes."""
    if proc is None:
        return
    steps: list[tuple[signal.Signals | None, float]] = [(None, 3.0)] if polite else []
    steps += [(first, 3.0), (signal.SIGKILL, 5.0)]
    for sig, wait in steps:
        if proc.poll() is not None:
            break
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)
    _close_pipes(proc)


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def reinitialise_portaudio() -> None:
    """Make an already imported sounddevice enumerate devices again (no streams may be open)."""
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    sd._terminate()
    sd._initialize()


def read_wav(path: Path) -> tuple[bytes, int]:
    """The 16-bit mono PCM and sample rate (hertz) of a WAV file."""
    with wave.open(str(path), "rb") as handle:
        if handle.getsampwidth() != 2 or handle.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono")
        return handle.readframes(handle.getnframes()), handle.getframerate()


@pytest.fixture(scope="session")
def vmic_server() -> Iterator[VirtualMic]:
    """One virtual microphone for the session; skips when PulseAudio is not installed."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"virtual microphone needs PulseAudio ({', '.join(missing)} not installed)")
    mic = VirtualMic()
    try:
        yield mic.start()
    finally:
        mic.close()


@pytest.fixture
def vmic(vmic_server: VirtualMic) -> VirtualMic:
    """The session's virtual microphone, restarted first if an earlier test stopped it."""
    if not vmic_server.running:
        vmic_server.restart()
    return vmic_server
