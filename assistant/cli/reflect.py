"""``trust-assistant reflect``: one reflection session now.

With ``--answer TEXT`` the session is text only: the prompt is printed, the answer is given to
the dialog (kept in the journal when it is on) and the acknowledgement is printed; with
``--json`` both turns are printed as JSON lines. With ``--answer-wav FILE`` the answer is read
from a recording; otherwise the prompt is spoken and the answer heard on the microphone.
"""

from __future__ import annotations

import argparse

from ..app.assistant import Assistant, Reflection
from ..base.config import Settings
from ..base.errors import AudioError, UsageError
from .terminal import TerminalEvents, emit, error
from .voice import stop_on_signals


def reflect(args: argparse.Namespace, settings: Settings) -> int:
    """Run one reflection session; the exit status."""
    answer = getattr(args, "answer", None)
    answer_wav = getattr(args, "answer_wav", None)
    if answer is not None and answer_wav is not None:
        raise UsageError("give either --answer TEXT or --answer-wav FILE, not both")
    app = Assistant(settings, TerminalEvents(args.json)).load()
    if answer is not None:
        return _show(app.reflect(answer), args.json)
    if answer_wav is not None:
        _show(reflection := app.reflect_wav(answer_wav), args.json)
        if reflection.answer is None:
            raise UsageError(f"{answer_wav}: no speech was recognised in the answer")
        return 0
    try:
        microphone = app.open_microphone()
    except AudioError as exc:
        error(f"{exc.format_message()}; answer in writing with: trust-assistant reflect "
              "--answer \"...\"")
        return 2
    try:
        loop = app.voice_loop(microphone, wake="always", speak=not args.no_speech)
        stop_on_signals(loop)
        loop.reflect_now()
        return 0
    finally:
        microphone.close()


def _show(reflection: Reflection, as_json: bool) -> int:
    emit(reflection.prompt, as_json)
    if reflection.answer is not None:
        emit(reflection.answer, as_json)
    return 0
