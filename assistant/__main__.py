"""``python -m assistant``: the same as the ``trust-assistant`` command."""

from .cli import main

raise SystemExit(main())
