"""A stand-in `terraform` that records each call, for tests of what the tooling asks of terraform.

fake_terraform(folder) writes folder/terraform; each call appends one JSON line to
folder/calls.jsonl: its arguments, its working folder, the CLI config and plugin cache it was
given, and the lock file and provider constraint it found in that folder. It answers `version`
like Terraform 1.11.4 and `test` like two passing test files; FAKE_TF_FAIL="providers lock"
makes every call whose arguments start with those words fail.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCRIPT = '''#!{python}
import json, os, re, sys
from pathlib import Path

args = sys.argv[1:]
cwd = Path.cwd()
chdir = [a.split("=", 1)[1] for a in args if a.startswith("-chdir=")]
here = cwd / chdir[0] if chdir else cwd
words = [a for a in args if not a.startswith("-")]
config = os.environ.get("TF_CLI_CONFIG_FILE")
lock = here / ".terraform.lock.hcl"
versions = here / "versions.tf"
constraint = re.search(r'(?m)^\\s*version\\s*=\\s*"([^"]+)"', versions.read_text()) if versions.is_file() else None
record = {{
    "args": args,
    "cwd": str(cwd),
    "config": Path(config).read_text() if config and os.path.isfile(config) else config,
    "plugin_cache": os.environ.get("TF_PLUGIN_CACHE_DIR"),
    "lock": lock.read_text() if lock.is_file() else None,
    "constraint": constraint.group(1) if constraint else None,
}}
with open({log!r}, "a") as handle:
    handle.write(json.dumps(record) + "\\n")
if words[:1] == ["version"]:
    print("Terraform v1.11.4")
elif words[:1] == ["test"]:
    print("Success! 2 passed, 0 failed.")
elif words[:2] == ["show"] and "-json" in args:
    print('{{"applyable": false, "resource_changes": []}}')
fail = os.environ.get("FAKE_TF_FAIL", "").split()
if fail and words[:len(fail)] == fail:
    print("Error: fake failure", file=sys.stderr)
    sys.exit(1)
'''


def fake_terraform(folder: Path) -> Path:
    """folder/terraform, which records its calls in folder/calls.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "terraform"
    binary.write_text(SCRIPT.format(python=sys.executable, log=str(folder / "calls.jsonl")), encoding="utf-8")
    binary.chmod(0o755)
    return binary


def calls(folder: Path) -> list[dict]:
    """The recorded calls, `version` probes left out."""
    path = folder / "calls.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [c for c in map(json.loads, lines) if c["args"][:1] != ["version"]]
