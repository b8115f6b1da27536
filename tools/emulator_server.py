#!/usr/bin/env python3
"""moto's server, with the server patches declared in tools/emulator_gaps.py applied first.

tools/emulator.py starts this file rather than `python -m moto.server`; the arguments are
moto's own (-H HOST -p PORT). A patch whose target no longer exists in the installed moto is
reported as stale on stderr (the emulator's log) and skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import emulator_gaps  # noqa: E402


def main() -> None:
    for patch in emulator_gaps.SERVER_PATCHES:
        if not patch.apply():
            print(f"emulator_server: patch {patch.name!r}: {patch.target} not found; is it stale?",
                  file=sys.stderr, flush=True)
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
