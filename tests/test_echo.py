"""The echo canceller measures the delay of the assistant's own voice and removes it.

The echo path is simulated exactly as a virtual microphone or a loopback makes it: the reply,
delayed and scaled, is what the microphone hears; a person's voice is added on top where the
test says. The canceller itself is WebRTC's (``pywebrtc-audio``), not a stand-in.
"""

from __future__ import annotations

import numpy as np
import pytest
from speech import synthesize

from assistant.audio.echo import EchoCanceller, find_delay, make_echo_canceller
from assistant.audio.wavio import read_wav

RATE = 16000
BLOCK = 1600  # the microphone's 100 ms blocks


@pytest.fixture(scope="module")
def reply(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = synthesize("Trust grows back in small steps. Say what you did, without excuses, "
                      "and then keep the promises you make, one day at a time.",
                      tmp_path_factory.mktemp("echo") / "reply.wav")
    return np.frombuffer(read_wav(path), dtype=np.int16)


@pytest.fixture(scope="module")
def person(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = synthesize("stop, please stop", tmp_path_factory.mktemp("echo") / "stop.wav",
                      voice="en+m3", rate=150)
    return np.frombuffer(read_wav(path), dtype=np.int16)


def canceller() -> EchoCanceller:
    echo = make_echo_canceller(RATE)
    if echo is None:
        pytest.skip("pywebrtc-audio is not installed")
    return echo


def microphone(reply: np.ndarray, delay_s: float, gain: float, noise: float = 30.0,
               extra_s: float = 1.0, room: bool = False) -> np.ndarray:
    """What a microphone hears of ``reply`` played through a path of ``delay_s`` and ``gain``:
    a bare loopback, or with ``room`` a loudspeaker in a room (a 150 ms reverberant tail and
    a loudspeaker's mild distortion)."""
    rng = np.random.default_rng(1)
    sound = reply.astype(np.float64)
    if room:
        tail = rng.normal(0, 1, int(0.15 * RATE)) * np.exp(-np.arange(int(0.15 * RATE)) / 600)
        tail[0] = 4.0
        sound = np.tanh(sound / 20000) * 20000
        sound = np.convolve(sound, tail / np.abs(tail).sum() * 2)[: len(reply)]
    delay = int(delay_s * RATE)
    heard = np.zeros(len(reply) + delay + int(extra_s * RATE))
    heard[delay : delay + len(reply)] = sound * gain
    heard += rng.normal(0, noise, len(heard))
    return heard


def run(echo: EchoCanceller, reply: np.ndarray, heard: np.ndarray) -> np.ndarray:
    """Feed ``heard`` block by block while ``reply`` plays; the gated residual."""
    echo.play(reply.astype(np.int16).tobytes(), started_at=0.0)
    out = []
    for i in range(0, len(heard) - BLOCK + 1, BLOCK):
        block = np.clip(heard[i : i + BLOCK], -32768, 32767).astype(np.int16).tobytes()
        clean = echo.process(block, captured_until=(i + BLOCK) / RATE)
        out.append(np.frombuffer(echo.gate(block, clean), dtype=np.int16))
    return np.concatenate(out)


def voiced_s(pcm: np.ndarray) -> float:
    frames = pcm[: len(pcm) // 160 * 160].astype(np.float64).reshape(-1, 160)
    return float((np.sqrt((frames ** 2).mean(axis=1)) > 300).sum() * 0.01)


@pytest.mark.parametrize("delay_s", [0.0, 0.15, 0.45, 0.9, 1.8])
def test_the_delay_of_the_echo_is_found(reply: np.ndarray, delay_s: float) -> None:
    heard = microphone(reply, delay_s, gain=0.6)
    end = int((delay_s + 1.5) * RATE)
    window = heard[end - 8000 : end]
    found = find_delay(window, reply, end_at=end, max_delay=int(2.5 * RATE))
    assert found is not None
    assert abs(found - delay_s * RATE) <= 2


def test_unrelated_sound_is_not_taken_for_the_echo(reply: np.ndarray,
                                                   person: np.ndarray) -> None:
    end = 8000 + len(person) // 2
    window = np.zeros(end)
    window[8000 : 8000 + len(person) // 2] = person[: len(person) // 2]
    assert find_delay(window[-8000:], reply, end_at=end, max_delay=int(2.5 * RATE)) is None
    assert find_delay(np.zeros(8000), reply, end_at=16000, max_delay=int(2.5 * RATE)) is None


@pytest.mark.parametrize("room", [False, True], ids=["loopback", "room"])
@pytest.mark.parametrize("delay_s", [0.05, 0.4, 0.8, 1.6])
def test_its_own_voice_leaves_nothing_that_sounds_like_a_person(
        reply: np.ndarray, delay_s: float, room: bool) -> None:
    echo = canceller()
    left = run(echo, reply, microphone(reply, delay_s, gain=0.8, room=room))
    assert echo.delay_s is not None
    assert abs(echo.delay_s - delay_s) < (0.05 if room else 0.002)  # a reflection may be found
    assert (echo.path is None) == room  # a loopback is subtracted, a room cancelled
    assert voiced_s(left) == 0.0


@pytest.mark.parametrize("room", [False, True], ids=["loopback", "room"])
@pytest.mark.parametrize("loudness", [1.0, 0.5])
@pytest.mark.parametrize("delay_s", [0.05, 0.8])
def test_a_person_talking_over_the_reply_comes_through(
        reply: np.ndarray, person: np.ndarray, delay_s: float, loudness: float,
        room: bool) -> None:
    heard = microphone(reply, delay_s, gain=0.8, room=room)
    at = int((delay_s + 2.5) * RATE)
    heard[at : at + len(person)] += person * loudness
    left = run(canceller(), reply, heard)
    during = left[at : at + len(person)]
    # enough to be noticed (a barge-in needs 0.12 s of speech); a loopback leaves the person
    # whole, a room's canceller damps them while the reply sounds
    assert voiced_s(during) >= (0.3 if room else 0.35 * voiced_s(person))
    assert voiced_s(left) - voiced_s(during) < 0.05  # nothing else got through


def test_without_an_echo_path_a_person_is_heard_once_the_search_gives_up(
        reply: np.ndarray, person: np.ndarray) -> None:
    heard = np.random.default_rng(2).normal(0, 30, len(reply) + RATE)
    at = int(3.5 * RATE)
    heard[at : at + len(person)] += person
    echo = canceller()
    left = run(echo, reply, heard)
    assert echo.delay_s is None
    assert voiced_s(left[at : at + len(person)]) >= 0.5 * voiced_s(person)


def test_echo_is_pending_until_the_delayed_tail_has_been_heard(reply: np.ndarray) -> None:
    echo = canceller()
    heard = microphone(reply, 0.8, gain=0.8, extra_s=0.0)
    run(echo, reply, heard[: len(reply)])
    assert echo.echo_pending()  # the last 0.8 s of the reply has not been heard yet
    for i in range(len(reply), len(heard) + 4000, BLOCK):
        echo.process(bytes(BLOCK * 2), captured_until=i / RATE)
    assert not echo.echo_pending()


