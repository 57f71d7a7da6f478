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

from .commands import check_utterance, emit
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
    text = check_utterance(answer, "--answer") if answer is not None else None
    dialog = build_dialog(settings)
    if text is None:
        voice = importlib.import_module(".voice", __package__)
        reflect_voice: Callable[[argparse.Namespace, Settings, Dialog], int] = voice.reflect_voice
        return reflect_voice(args, settings, dialog)
    return reflect_text(dialog, text, bool(args.json))


def build_dialog(settings: Settings) -> Dialog:
    """A dialog with the user's reminder and journal services and the persisted prompt deck."""
    return make_dialog(settings, services=make_services(),
                       deck_state=data_dir() / "prompts_used.json")


def reflect_text(dialog: Dialog, answer: str, as_json: bool) -> int:
    """Ask one prompt, answer it with ``answer``, print both turns."""
    emit(dialog.start_reflection(), as_json)
    if dialog.awaiting_answer:
        emit(dialog.handle(answer), as_json)
    return 0
