"""trust-assistant: an offline voice coach for rebuilding trust in a close relationship."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trust-assistant")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
