"""Audio devices and the microphone, for real: PortAudio recording from the PulseAudio virtual
microphone while espeak-ng speech and test tones are played into it."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from assistant.audio.devices import (
    Audio,
    Device,
    Microphone,
    _Blocker,
    _device_by_name,
    find_device,
    format_devices,
    list_devices,
)
from assistant.base.config import AudioSettings
from assistant.base.errors import AudioError

if TYPE_CHECKING:
    from vmic import VirtualMic

pytest_plugins = ["vmic"]

BLOCK_BYTES = 3200  # 100 ms of 16 kHz 16-bit mono


def tone(path: Path, hertz: float, seconds: float, rate: int = 22050) -> Path:
    """A sine tone WAV (16-bit mono)."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * hertz * t) * 12000).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return path


def espeak(path: Path, text: str, voice: str = "en-us", wpm: int = 160) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True)
    return path


def collect(mic: Microphone, seconds: float) -> list[bytes]:
    """Every block the microphone delivers during ``seconds``."""
    blocks, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        block = mic.read(timeout=0.2)
        if block is not None:
            blocks.append(block)
    return blocks


def dominant_hertz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


def loud_part(blocks: list[bytes], threshold: int = 2000) -> bytes:
    return b"".join(b for b in blocks if np.abs(np.frombuffer(b, "<i2")).max() > threshold)


# -- device choice (pure logic on a device table) --------------------------------------------

TABLE = [
    Device(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", 2, 2, 44100.0),
    Device(1, "USB Audio Device: - (hw:1,0)", "ALSA", 1, 0, 48000.0),
    Device(2, "USB Audio Device: #1 (hw:1,1)", "ALSA", 1, 0, 48000.0),
    Device(3, "pulse", "ALSA", 32, 32, 44100.0),
]


@pytest.mark.parametrize(("spec", "index"), [
    ("pulse", 3), ("PULSE", 3), ("alc3246", 0), ("HDA", 0), ("usb audio device: -", 1),
])
def test_device_by_name_exact_prefix_or_part(spec: str, index: int) -> None:
    assert _device_by_name(TABLE, spec, "input").index == index


def test_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(AudioError, match=r"'usb' is ambiguous: 1 'USB Audio Device: - \(hw:1,0\)'"
                                         r", 2 'USB .*; use its index"):
        _device_by_name(TABLE, "usb", "input")


def test_blocker_resamples_downmixes_and_cuts_exact_blocks() -> None:
    blocker = _Blocker(48000, 16000, 2, 1600)
    t = np.arange(48000) / 48000
    mono = (np.sin(2 * np.pi * 440 * t) * 10000).astype("<i2")
    stereo = np.repeat(mono, 2).tobytes()
    blocks = [b for i in range(0, len(stereo), 7680) for b in blocker.push(stereo[i:i + 7680])]
    assert all(len(b) == 3200 for b in blocks) and 8 <= len(blocks) <= 10
    assert abs(dominant_hertz(b"".join(blocks), 16000) - 440) < 5


def test_audio_resampling_keeps_duration_and_pitch() -> None:
    t = np.arange(22050) / 22050
    audio = Audio((np.sin(2 * np.pi * 1000 * t) * 8000).astype("<i2").tobytes(), 22050)
    out = audio.resampled(16000)
    assert out.sample_rate == 16000 and abs(out.duration_s - 1.0) < 0.01
    assert abs(dominant_hertz(out.pcm, 16000) - 1000) < 5


def test_no_sound_server_and_no_hardware_means_no_microphone(tmp_path: Path) -> None:
    """Without PulseAudio (and, on this machine, without sound hardware): a clean error."""
    code = ("from assistant.audio.devices import Microphone\n"
            "from assistant.base.errors import AudioError\n"
            "try:\n    Microphone().start()\nexcept AudioError as e:\n    print(e)\n"
            "else:\n    print('HAS-DEVICES')\n")
    env = {**os.environ, "PULSE_SERVER": "unix:/nonexistent", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)
    if "HAS-DEVICES" in done.stdout:
        pytest.skip("this machine has sound hardware")
    assert done.stdout.strip() == ("no microphone found (no audio input device); connect one, "
                                   "or type instead: trust-assistant ask -")


# -- real devices (virtual microphone) -------------------------------------------------------


@pytest.mark.vmic
def test_devices_are_listed_with_the_defaults_marked(vmic: VirtualMic) -> None:
    devices = list_devices()
    names = [d.name for d in devices]
    assert "pulse" in names and "default" in names
    default = find_device(None, "input")
    assert default.default_input and default.name == "default"
    assert find_device(None, "output").default_output
    table = format_devices(devices)
    assert "[default input, default output]" in table and table.count("\n") == len(devices) - 1


@pytest.mark.vmic
def test_device_by_index_and_by_name(vmic: VirtualMic) -> None:
    pulse = find_device("pulse", "input")
    assert find_device(pulse.index, "input") == pulse
    assert find_device(str(pulse.index), "output") == pulse


@pytest.mark.vmic
def test_bad_device_name_or_index_lists_the_devices(vmic: VirtualMic) -> None:
    with pytest.raises(AudioError, match=r"^no audio input device matches 'usb mic'; input "
                                         r"devices: 0 'pulse', 1 'default' \(give an index"):
        Microphone("usb mic").start()
    with pytest.raises(AudioError, match=r"^no audio input device 42; input devices: 0 'pulse'"):
        find_device(42, "input")


@pytest.mark.vmic
@pytest.mark.audio
def test_microphone_hears_speech_played_into_it(vmic: VirtualMic, tmp_path: Path) -> None:
    wav = espeak(tmp_path / "ask.wav", "how do I start rebuilding trust with my partner")
    settings = AudioSettings(input_device=None, block_ms=100)
    with Microphone.from_settings(settings) as mic:
        assert (mic.sample_rate, mic.device_rate, mic.block_bytes) == (16000, 16000, BLOCK_BYTES)
        collect(mic, 0.3)
        vmic.play(wav, wait=False)
        blocks = collect(mic, 3.5)
    assert {len(b) for b in blocks} == {BLOCK_BYTES}
    assert 25 <= len(blocks) <= 45  # ten blocks a second
    speech = loud_part(blocks)
    assert len(speech) / 32000 > 1.0  # over a second of loud blocks
    assert mic.overflows == 0 and mic.reopens == 0


@pytest.mark.vmic
@pytest.mark.parametrize(("device", "device_rate"), [("pulse", None), ("default", 44100),
                                                     ("default", 48000)])
def test_microphone_delivers_16_khz_at_the_right_pitch(
    vmic: VirtualMic, tmp_path: Path, device: str, device_rate: int | None,
) -> None:
    """Opened at 44.1 or 48 kHz, the device's audio is resampled: a 1 kHz tone stays 1 kHz."""
    wav = tone(tmp_path / "tone.wav", 1000, 1.5)
    with Microphone(device, device_rate=device_rate) as mic:
        assert mic.device is not None and mic.device.name == device
        assert mic.device_rate == (device_rate or 16000)
        collect(mic, 0.3)
        vmic.play(wav, wait=False)
        blocks = collect(mic, 2.0)
    loud = loud_part(blocks)
    assert {len(b) for b in blocks} == {BLOCK_BYTES} and len(loud) >= 10 * BLOCK_BYTES
    assert abs(dominant_hertz(loud, 16000) - 1000) < 15


@pytest.mark.vmic
def test_unread_blocks_are_dropped_oldest_first(vmic: VirtualMic) -> None:
    with Microphone(max_queued_s=0.5) as mic:
        time.sleep(1.6)
        assert mic.dropped >= 5
        assert mic.flush() == 5  # the queue holds the newest half second
        assert mic.read(timeout=1.0) is not None  # still listening


@pytest.mark.vmic
def test_overflow_is_counted_logged_and_not_fatal(vmic: VirtualMic,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """PulseAudio buffers so well that PortAudio never overflows here; deliver its flag to the
    live stream's callback the way PortAudio would."""
    import sounddevice as sd

    with Microphone() as mic, caplog.at_level(logging.WARNING, "assistant.audio.devices"):
        collect(mic, 0.3)
        flags = sd.CallbackFlags(sd._lib.paInputOverflow)
        with mic._lock:
            generation = mic._generation
        mic._on_audio(generation, bytes(3200), 1600, None, flags)
        assert mic.overflows == 1
        assert "microphone input overflow (1 so far)" in caplog.text
        assert mic.read(timeout=1.0) is not None


@pytest.mark.vmic
def test_lost_server_is_recovered_in_the_background(
    vmic: VirtualMic, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """Kill PulseAudio under a live microphone (like pulling out a USB microphone), start it
    again: the microphone notices, retries with backoff, and hears speech again."""
    wav = tone(tmp_path / "tone.wav", 700, 1.0)
    caplog.set_level(logging.INFO, "assistant.audio.devices")
    with Microphone(stall_s=2.0, max_backoff_s=1.0) as mic:
        assert collect(mic, 0.5)
        vmic.kill()
        collect(mic, 0.5)  # what was in flight
        assert collect(mic, 1.0) == []  # nothing while the device is gone
        vmic.restart()
        deadline = time.monotonic() + 10
        while mic.reopens == 0 and time.monotonic() < deadline:
            mic.read(timeout=0.2)
        assert mic.reopens == 1
        collect(mic, 0.3)
        vmic.play(wav, wait=False)
        blocks = collect(mic, 1.5)
    assert abs(dominant_hertz(loud_part(blocks), 16000) - 700) < 15
    assert "microphone lost" in caplog.text and "microphone back after" in caplog.text


@pytest.mark.vmic
def test_stalled_stream_is_reopened(vmic: VirtualMic, caplog: pytest.LogCaptureFixture) -> None:
    """A stream that stops delivering without an error (server frozen) counts as lost."""
    import signal

    caplog.set_level(logging.INFO, "assistant.audio.devices")
    pid = vmic._proc.pid if vmic._proc else 0
    with Microphone(stall_s=1.0) as mic:
        assert collect(mic, 0.4)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(2.0)
        finally:
            os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 10
        while mic.reopens == 0 and time.monotonic() < deadline:
            mic.read(timeout=0.2)
        assert mic.reopens == 1 and collect(mic, 0.5)
    assert "no audio for" in caplog.text


@pytest.mark.vmic
def test_close_stops_the_thread_and_wakes_readers(vmic: VirtualMic) -> None:
    mic = Microphone().start()
    results: list[bytes | None] = []
    reader = threading.Thread(target=lambda: results.append(_read_until_none(mic)))
    reader.start()
    time.sleep(0.3)
    mic.close()
    reader.join(2)
    assert not reader.is_alive() and results == [None]
    assert not any(t.name == "microphone" for t in threading.enumerate())
    assert mic.read(timeout=0.1) is None
    assert list(mic) == []


def _read_until_none(mic: Microphone) -> bytes | None:
    while (block := mic.read(timeout=None)) is not None:
        del block
    return None
