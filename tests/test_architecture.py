"""The shape of the code: imports point one way down the layers of docs/architecture.md, with
no circles, and the dialog and the voice loop depend on what intents do, never on their
names."""

from __future__ import annotations

import ast
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from assistant.dialog.manager import Action, Dialog
from assistant.pack.intents import BEHAVIOURS, IntentPack, shipped_dir
from assistant.understanding.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assistant"

LAYERS: dict[str, tuple[str, ...]] = {
    "base": ("base",),
    "memory": ("memory",),
    "pack": ("pack",),
    "understanding": ("understanding",),
    "dialog": ("dialog",),
    "audio": ("audio",),
    "speech": ("speech",),
    "loop": ("loop",),
    "app": ("app",),
    "cli": ("cli", "__main__"),
}
"""The packages of ``assistant``, one per layer; docs/architecture.md says why."""

MAY_IMPORT: dict[str, set[str]] = {
    "base": {"base"},
    "memory": {"base", "memory"},
    "pack": {"base", "pack"},
    "understanding": {"base", "pack", "understanding"},
    "dialog": {"base", "pack", "understanding", "dialog"},
    "audio": {"base", "audio"},
    "speech": {"base", "audio", "pack", "speech"},
    "loop": {"base", "audio", "speech", "pack", "understanding", "dialog", "loop"},
    "app": set(LAYERS) - {"cli"},
    "cli": set(LAYERS),
}
"""Which layers a layer's modules may import: the dialog knows nothing of sound, speech knows
nothing of the dialog, and nothing but the command line imports the command line."""


def modules() -> dict[str, Path]:
    """Dotted name below ``assistant`` -> file, for every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The modules of ``assistant`` that ``name`` imports, anywhere in the file (imports
    inside functions and ``TYPE_CHECKING`` blocks count too)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("assistant"):
                module = (node.module or "").removeprefix("assistant").lstrip(".")
            else:
                continue
            targets = [f"{module}.{a.name}".lstrip(".") for a in node.names] or [module]
            targets = [t if t in known else module for t in targets]
        elif isinstance(node, ast.Import):
            targets = [a.name.removeprefix("assistant").lstrip(".") for a in node.names
                       if a.name.startswith("assistant")]
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in known and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: set(imports(name, path, set(found))) for name, path in found.items()}


def layer_of(module: str) -> str | None:
    top = module.split(".")[0]
    return next((layer for layer, names in LAYERS.items() if top in names), None)


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in modules() if layer_of(m) is None)
    assert not missing, (f"modules in no layer: {missing}; put each in a layer's package (or a "
                         "new layer in LAYERS here and in docs/architecture.md)")


def test_the_top_of_the_package_is_its_layers() -> None:
    """A newcomer sees the pipeline in the folder: one package per layer, nothing loose."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py")
                   if p.stem not in ("__init__", "__main__"))
    assert not loose, f"modules outside the layer packages: {loose}"


def test_imports_point_down_the_layers() -> None:
    wrong = [
        f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
        for module, targets in graph().items() for target in sorted(targets)
        if layer_of(target) not in MAY_IMPORT[layer_of(module) or "cli"]
    ]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_circles() -> None:
    edges = graph()
    circles: list[list[str]] = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"


def shipped_intent_names() -> set[str]:
    pack = IntentPack.from_dirs([shipped_dir()], "en")
    return set(pack.intents)


def string_constants(path: Path) -> set[str]:
    """The strings in a module, except dictionary keys (fields of the JSON a turn prints)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict)
            for key in node.keys if key is not None}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in keys}


def intent_names_in(path: Path) -> list[str]:
    """Names of the shipped pack's intents written in ``path``; a behaviour's or an action's
    name (``"stop"``) is the code's own vocabulary, whatever the pack calls its intents."""
    actions = {value for key, value in vars(Action).items() if key.isupper()}
    names = shipped_intent_names() - set(BEHAVIOURS) - actions
    return sorted(string_constants(path) & names)


def test_the_dialog_and_the_loop_name_no_intent() -> None:
    """They ask the pack which intent does what (``does:``)."""
    for path in (PACKAGE / "dialog" / "manager.py", *sorted((PACKAGE / "loop").glob("*.py")),
                 PACKAGE / "app" / "assistant.py"):
        named = intent_names_in(path)
        assert not named, f"{path.name} names intents {named}: use 'does:' in the pack"


def test_the_name_check_sees_a_name(tmp_path: Path) -> None:
    code = tmp_path / "code.py"
    code.write_text('if match.intent == "further_reading":\n    pass\n', encoding="utf-8")
    assert intent_names_in(code) == ["further_reading"]


def renamed_pack(tmp_path: Path) -> IntentPack:
    """The shipped pack with every intent renamed (what it does unchanged)."""
    for source in shipped_dir().glob("en/*.yaml"):
        text = source.read_text(encoding="utf-8")
        (tmp_path / source.name).write_text(
            re.sub(r"^(\s*- name: )([\"']?)(\w+)", r"\1\2renamed_\3", text, flags=re.M),
            encoding="utf-8")
    return IntentPack.from_dirs([tmp_path], "en")


SCRIPT = (
    "hello", "what can you help with", "how do i apologise properly", "tell me more",
    "say that again", "slower", "faster", "give me a question to think about",
    "i get defensive when she asks where i was", "i'm done", "what should i do",
    "where to start", "is this private", "she threatened to kill me",
    "remind me to reflect at nine pm", "thanks", "stop", "goodbye",
)


def conversation(pack: IntentPack) -> list[tuple[str, tuple[str, ...], bool]]:
    dialog = Dialog(Matcher(pack), rng=random.Random(7))
    turns = [dialog.handle(text) for text in SCRIPT]
    return [(t.reply, tuple(t.actions), t.intent is None) for t in turns]


def test_renaming_every_intent_keeps_what_the_assistant_does(tmp_path: Path) -> None:
    shipped = IntentPack.from_dirs([shipped_dir()], "en")
    renamed = renamed_pack(tmp_path)
    assert all(name.startswith("renamed_") for name in renamed.intents)
    assert conversation(renamed) == conversation(shipped)


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The layer test itself: a dialog importing the voice loop is caught."""
    copy = tmp_path / "assistant"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    dialog = copy / "dialog" / "manager.py"
    wrong = "\nfrom ..loop.listen import VoiceLoop\n"
    dialog.write_text(dialog.read_text(encoding="utf-8") + wrong, encoding="utf-8")
    found = {"dialog.manager": dialog, "loop.listen": copy / "loop" / "listen.py"}
    assert "loop.listen" in set(imports("dialog.manager", dialog, set(found)))



def test_the_settings_offer_every_registered_engine() -> None:
    """Settings are checked below the engines' layer, so they keep their own list of engine
    names; adding an engine to a registry without it fails here."""
    from assistant.base.config_check import CHOICES
    from assistant.speech import stt, tts

    assert CHOICES["stt.engine"] == stt.ENGINES
    assert CHOICES["tts.engine"] == tts.ENGINES


def spoken_sentences(path: Path) -> list[str]:
    """Sentences written in a module (not its docstrings): capitalised, three words or more,
    ending like a sentence."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings
            and re.fullmatch(r"[A-Z][^\n]*\b\w+ \w+ \w+\b[^\n]*[.?!]", node.value.strip())]


def test_what_the_assistant_says_lives_in_the_pack_or_the_messages() -> None:
    """Every sentence it says is a reply of the pack or one of lang/en.py's MESSAGES, so the
    two can be translated together."""
    for name in ("dialog/manager.py", "loop/listen.py", "loop/hearing.py", "loop/barge_in.py",
                 "loop/wake.py", "app/assistant.py", "memory/services.py", "memory/reminder.py"):
        found = spoken_sentences(PACKAGE / name)
        assert not found, f"{name} says {found}: put them in MESSAGES (assistant/base/lang/en.py)"


def test_every_message_used_exists_and_every_message_is_used() -> None:
    from assistant.base.lang.en import MESSAGES

    code = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")
                     if path.name != "en.py")
    asked = set(re.findall(r"""\bmessage\(\s*["']([a-z_]+)["']""", code))
    assert asked <= set(MESSAGES), f"unknown messages: {asked - set(MESSAGES)}"
    unused = [key for key in MESSAGES if f'"{key}"' not in code and f"'{key}'" not in code]
    assert not unused, f"messages nothing says: {unused}"
