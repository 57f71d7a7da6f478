"""``trust-assistant service install|uninstall|status``: the systemd user unit."""

from __future__ import annotations

import argparse

from ..app import service as unit
from ..base.config import Settings


def service(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``service`` action; the exit status."""
    if args.action == "install":
        path, existed = unit.install(settings)
        print(f"{'Updated' if existed else 'Wrote'} {path}")
        print("To start the assistant now and with every session, run:")
        print(f"  {unit.ENABLE}")
        print("To keep it running when you are not logged in (a Raspberry Pi without a "
              "desktop):")
        print(f"  {unit.LINGER}")
        if not unit.has_systemd():
            print("(systemctl was not found: this system does not seem to run systemd; the "
                  "unit file is ready for one that does.)")
        return 0
    if args.action == "uninstall":
        removed = unit.uninstall()
        if removed is None:
            print(f"The service is not installed (no {unit.unit_path()}).")
            return 0
        print(f"Removed {removed}")
        print("If the assistant is still running as a service, stop it with:")
        print(f"  {unit.STOP}")
        return 0
    state = unit.status()
    print(f"Unit file: {state.path} ({'installed' if state.installed else 'not installed'})")
    if state.systemd == "missing":
        print("systemd: not available here (no systemctl found)")
    elif state.systemd == "no-session":
        print("systemd: not available for this user session (systemctl --user does not "
              "answer)")
    else:
        print(f"Active: {state.active}")
        print(f"Enabled: {state.enabled}")
    return 0
