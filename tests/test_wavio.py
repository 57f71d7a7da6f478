"""WAV input: every common sample format, rate and channel count, and clear errors."""

from __future__ import annotations

import shlex
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from speech import ESPEAK, synthesize

from assistant.audio.wavio import TARGET_RATE, duration_s, read_wav, write_wav
from assistant.base.errors import AudioError

TONE_HZ = 440.0
SECONDS = 0.5


def tone(rate: int, channels: int = 1) -> np.ndarray:
    """A 440 Hz sine at half scale, (frames, channels) float64; right channel inverted."""
    t = np.arange(int(rate * SECONDS)) / rate
    mono = 0.5 * np.sin(2 * np.pi * TONE_HZ * t)
    columns = [mono if c % 2 == 0 else -mono for c in range(channels)]
    return np.stack(columns, axis=1)


def encode(samples: np.ndarray, bits: int, is_float: bool) -> bytes:
    if is_float:
        return samples.astype("<f4" if bits == 32 else "<f8").tobytes()
    if bits == 8:
        return np.rint(samples * 127 + 128).astype(np.uint8).tobytes()
    scaled = np.rint(samples * (2 ** (bits - 1) - 1)).astype(np.int64)
    if bits == 24:
        raw = scaled.astype("<i4").tobytes()
        return b"".join(raw[i : i + 3] for i in range(0, len(raw), 4))
    return scaled.astype("<i2" if bits == 16 else "<i4").tobytes()


def wav_bytes(
    data: bytes, rate: int, channels: int, bits: int, tag: int = 1, extensible: bool = False,
    data_size: int | None = None, extra_chunk: bool = False,
) -> bytes:
    """A RIFF/WAVE file: ``tag`` 1 = PCM, 3 = float; ``extensible`` wraps it in 0xFFFE."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block,
                      block, bits)
    if extensible:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + guid_tail
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        chunks += b"LIST" + struct.pack("<I", 5) + b"hello\x00"  # odd size, padded
    size = len(data) if data_size is None else data_size
    chunks += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def write(tmp_path: Path, name: str, blob: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(blob)
    return path


def assert_is_tone(pcm: bytes, sign: float = 1.0) -> None:
    """``pcm`` is the test tone at 16 kHz (length and waveform)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    assert abs(len(samples) - TARGET_RATE * SECONDS) <= 2
    expected = sign * tone(TARGET_RATE)[: len(samples), 0]
    middle = slice(200, -200)  # resampler edges
    assert np.max(np.abs(samples[middle] - expected[middle])) < 0.02


@pytest.mark.parametrize(
    ("bits", "is_float"), [(8, False), (16, False), (24, False), (32, False), (32, True),
                           (64, True)],
)
@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_reads_every_sample_format_and_rate(
    tmp_path: Path, bits: int, is_float: bool, rate: int
) -> None:
    data = encode(tone(rate), bits, is_float)
    path = write(tmp_path, "tone.wav", wav_bytes(data, rate, 1, bits, 3 if is_float else 1))
    assert_is_tone(read_wav(path))


@pytest.mark.parametrize(("bits", "tag"), [(16, 1), (24, 1), (32, 3)])
def test_reads_extensible_headers(tmp_path: Path, bits: int, tag: int) -> None:
    data = encode(tone(48000, 2), bits, tag == 3)
    blob = wav_bytes(data, 48000, 2, bits, tag, extensible=True)
    pcm = read_wav(write(tmp_path, "ext.wav", blob))
    # the two channels are opposite, so their average is silence
    assert np.max(np.abs(np.frombuffer(pcm, dtype="<i2"))) <= 2


def test_downmixes_stereo_by_averaging(tmp_path: Path) -> None:
    stereo = tone(44100, 2)
    stereo[:, 1] = stereo[:, 0]  # same signal on both channels
    path = write(tmp_path, "stereo.wav", wav_bytes(encode(stereo, 16, False), 44100, 2, 16))
    assert_is_tone(read_wav(path))


def test_skips_other_chunks_and_accepts_streamed_size(tmp_path: Path) -> None:
    data = encode(tone(16000), 16, False)
    blob = wav_bytes(data, 16000, 1, 16, extra_chunk=True, data_size=0xFFFFFFFF)
    assert_is_tone(read_wav(write(tmp_path, "streamed.wav", blob)))


def test_round_trip_and_duration(tmp_path: Path) -> None:
    pcm = encode(tone(TARGET_RATE), 16, False)
    path = write_wav(tmp_path / "out.wav", pcm)
    assert read_wav(path) == pcm
    assert duration_s(pcm) == pytest.approx(SECONDS)


def test_long_file_with_silence(tmp_path: Path) -> None:
    silence = np.zeros((16000 * 60, 1))
    samples = np.concatenate([silence, tone(16000), silence])
    path = write(tmp_path, "long.wav", wav_bytes(encode(samples, 16, False), 16000, 1, 16))
    assert duration_s(read_wav(path)) == pytest.approx(120 + SECONDS)


@pytest.mark.skipif(ESPEAK is None, reason="needs espeak-ng")
def test_reads_espeak_output(tmp_path: Path) -> None:
    pcm = read_wav(synthesize("hello there", tmp_path / "hello.wav"))
    assert 0.3 < duration_s(pcm) < 3.0


@pytest.mark.parametrize(
    ("name", "blob", "message"),
    [
        ("x.mp3", b"ID3\x04\x00" + bytes(200),
         "{d}/x.mp3: not a WAV file (RIFF header missing); convert it with: "
         "sox {d}/x.mp3 -r 16000 -c 1 -e signed-integer -b 16 {d}/x.wav"),
        ("empty.wav", b"",
         "{d}/empty.wav: not a WAV file (RIFF header missing); convert it with: "
         "sox {d}/empty.wav -r 16000 -c 1 -e signed-integer -b 16 {d}/empty-16k.wav"),
        ("noaudio.wav", wav_bytes(b"", 16000, 1, 16),
         "{d}/noaudio.wav: the WAV file holds no audio samples"),
        ("cut.wav", wav_bytes(b"\x00\x01" * 100, 16000, 1, 16, data_size=32000),
         "{d}/cut.wav: truncated WAV file (header announces 32000 bytes of audio, the file "
         "holds 200)"),
        ("headonly.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ",
         "{d}/headonly.wav: truncated or broken WAV file (no 'fmt' chunk)"),
        ("adpcm.wav", wav_bytes(b"\x00" * 64, 16000, 1, 4, tag=2),
         "{d}/adpcm.wav: unsupported WAV encoding (format tag 2; only PCM and float are "
         "read); convert it with: sox {d}/adpcm.wav -r 16000 -c 1 -e signed-integer -b 16 "
         "{d}/adpcm-16k.wav"),
        ("slow.wav", wav_bytes(b"\x00\x01" * 100, 1, 1, 16),
         "{d}/slow.wav: unsupported sample rate 1 Hz (read: 1000 to 768000 Hz); convert it "
         "with: sox {d}/slow.wav -r 16000 -c 1 -e signed-integer -b 16 {d}/slow-16k.wav"),
        ("rifx.wav", b"RIFX\x24\x00\x00\x00WAVE" + bytes(40),
         "{d}/rifx.wav: big-endian (RIFX) WAV files are not supported; convert it with: "
         "sox {d}/rifx.wav -r 16000 -c 1 -e signed-integer -b 16 {d}/rifx-16k.wav"),
    ],
)
def test_bad_input_gives_one_line_error(
    tmp_path: Path, name: str, blob: bytes, message: str
) -> None:
    path = write(tmp_path, name, blob)
    with pytest.raises(AudioError) as caught:
        read_wav(path)
    assert caught.value.format_message() == message.format(d=tmp_path)
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")
def test_suggested_sox_command_fixes_an_a_law_file(tmp_path: Path) -> None:
    """The command in the message writes 16-bit PCM (sox keeps A-law without -e and -b)."""
    alaw = tmp_path / "my recording.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", str(alaw),
                    "synth", "0.5", "sine", "440"], check=True)
    with pytest.raises(AudioError) as caught:
        read_wav(alaw)
    command = caught.value.format_message().split("convert it with: ", 1)[1]
    subprocess.run(shlex.split(command), check=True)
    pcm = read_wav(tmp_path / "my recording-16k.wav")
    assert abs(duration_s(pcm) - 0.5) < 0.01


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"nope\.wav: no such file$"):
        read_wav(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="is a directory, not a WAV file"):
        read_wav(tmp_path)
