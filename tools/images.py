#!/usr/bin/env python3
"""Build and run app/Dockerfile's images with podman, without a Docker daemon.

    images.py build    both targets (app, proxy); stand-in bases when the registries are unreachable
    images.py up       the migration task, then the app and proxy containers as the ECS task runs them
    images.py down     stop and remove them
    images.py bench    sizes, layers, build and start times, beside the seed's image (bench/seed/)

Needs podman, buildah, runc, catatonit (tools/debian-packages.sh) and, for stand-in bases,
mmdebstrap and Debian's archive. `up` needs DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagekit import bench, build, task  # noqa: E402
from imagekit.podman import ImageError, unavailable_reason  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "up", "down", "bench"])
    parser.add_argument("--json", action="store_true", help="print the timings as JSON on stdout")
    parser.add_argument("--no-cache", action="store_true", help="build: rebuild every layer of app/Dockerfile")
    args = parser.parse_args()
    try:
        if args.command != "down" and (reason := unavailable_reason()):
            raise ImageError(f"containers cannot run here: {reason}")
        commands = {"build": lambda: build.build(cache=not args.no_cache), "up": task.up, "down": task.down,
                    "bench": bench.main}
        result = commands[args.command]()
    except ImageError as exc:
        sys.exit(f"images: {exc}")
    if args.json and result is not None:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
