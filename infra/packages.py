"""The Lambda packages a root deploys, written by render.py next to the root's .tf files.

Only the hashicorp/aws provider is needed to apply a root (no archive provider), so the package
is a file of the root, committed with it like the rest of the generated code: `terraform apply`
on a clean clone finds it, and `render.py check` fails when it no longer matches its source.
The zip is byte-for-byte the same on every machine: one entry, a fixed timestamp and mode,
stored without compression (deflate's output depends on the zlib build).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from deploy.smoke_hook import FUNCTION_TIMEOUT_SECONDS as SMOKE_HOOK_TIMEOUT_SECONDS

from .config import Environment

CODE = Path(__file__).resolve().parent.parent  # the source is code, not a setting: beside infra/
# The blue/green smoke-test lifecycle hook (modules/ecs/smoke_hook.tf): one file, its handler.
SMOKE_HOOK_SOURCE = CODE / "deploy" / "smoke_hook.py"
SMOKE_HOOK_PACKAGE = "smoke_hook.zip"
# The function's timeout comes with its code (deploy/smoke_hook.py): re-exported for the renderer.
__all__ = ["PACKAGE_NAMES", "SMOKE_HOOK_PACKAGE", "SMOKE_HOOK_TIMEOUT_SECONDS", "packages", "smoke_hook_package",
           "zip_one"]
PACKAGE_NAMES = (SMOKE_HOOK_PACKAGE,)

# 1980-01-01, the earliest time a zip entry holds; regular file, rw-r--r--.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644


def zip_one(name: str, data: bytes) -> bytes:
    """A zip holding `data` as its only entry, `name`, identical for identical input."""
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # Unix, so external_attr carries the mode
    info.external_attr = FILE_MODE << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, data)
    return buffer.getvalue()


def smoke_hook_package(source: Path = SMOKE_HOOK_SOURCE) -> bytes:
    return zip_one(source.name, source.read_bytes())


def packages(env: Environment) -> dict[str, bytes]:
    """File name in the root -> content, for the packages this environment deploys."""
    if env.ecs.deployment.strategy == "BLUE_GREEN":
        return {SMOKE_HOOK_PACKAGE: smoke_hook_package()}
    return {}
