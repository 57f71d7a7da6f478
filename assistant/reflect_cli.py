"""``trust-assistant reflect``: one reflection session now.

With ``--answer TEXT`` the session is text only: the prompt is printed, the answer is given to
the dialog (kept in the journal when it is on) and the acknowledgement is printed; with
``--json`` both turns are printed as JSON lines. Otherwise the session is spoken and heard
(:func:`assistant.voice.reflect_voice`, imported only then).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from .commands import emit, respond
from .config import Settings, data_dir
from .dialog import Dialog
from .errors import UsageError
from .runtime import make_dialog
from .services import make_services


def reflect(args: argparse.Namespace, settings: Settings) -> int:
    """Run one reflection session; the exit status."""
    answer = getattr(args, "answer", None)
    if answer is not None and getattr(args, "answer_wav", None) is not None:
        raise UsageError("give either --answer TEXT or --answer-wav FILE, not both")
    dialog = build_dialog(settings)
    if answer is None:
        voice = importlib.import_module(".voice", __package__)
        reflect_voice: Callable[[argparse.Namespace, Settings, Dialog], int] = voice.reflect_voice
        return reflect_voice(args, settings, dialog)
    return reflect_text(dialog, answer, bool(args.json))


def build_dialog(settings: Settings) -> Dialog:
    """A dialog with the user's reminder and journal services and the persisted prompt deck."""
    return make_dialog(settings, services=make_services(),
                       deck_state=data_dir() / "prompts_used.json")


def reflect_text(dialog: Dialog, answer: str, as_json: bool) -> int:
    """Ask one prompt, answer it with ``answer``, print both turns."""
    first = dialog.start_reflection()
    # bad input raises before anything is printed
    turn = respond(dialog, answer, "--answer") if dialog.awaiting_answer else None
    emit(first, as_json)
    if turn is not None:
        emit(turn, as_json)
    return 0
