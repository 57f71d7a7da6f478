"""Bounds on everything an intent file can make large, so that loading any file is quick and
small (under 5 s and 300 MB for anything the bounds let through).

Each bound is several times what the shipped packs use (in brackets, measured on
``intents/en``), so a real pack stays well inside them; the loader refuses a file past one with
a one-line message naming the file, the line and what to do.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1_000_000
"""Largest intent or config file read (bytes) [72 kB, safety.yaml]."""

MAX_YAML_DEPTH = 20
"""Deepest nesting of YAML mappings and lists [6]."""

MAX_EXAMPLE_CHARS = 1000
"""Longest example template (characters) [384]."""

MAX_EXAMPLE_WORDS = 150
"""Most words in one example template, alternatives included [46]."""

MAX_GROUP_DEPTH = 8
"""Deepest nesting of ``(..)`` and ``[..]`` groups in a template [3]."""

MAX_EXPANSIONS = 5000
"""Sentences one example may expand to [4,704]."""

MAX_VALUE_EXPANSIONS = 500
"""Spoken forms one list value may expand to [360]."""

MAX_PACK_SENTENCES = 600_000
"""Sentences a file, or a whole pack, may expand to: examples, safety exceptions and list
values together, counted before anything is built [212,000 for the whole shipped pack, most of
them safety patterns, which the matcher keeps as windows rather than whole sentences]."""

MAX_ITEMS = 5000
"""Longest list in an intent file: intents per file, examples, replies, prompts, keywords per
intent, lists per file, values per list [620 examples of the safety intent]."""

MAX_TEXT_CHARS = 2000
"""Longest reply, prompt, keyword, topic or question (characters) [227]."""
