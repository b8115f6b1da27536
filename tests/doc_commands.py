"""The shell blocks a page tells a newcomer to run, run as written.

Each ```sh block of a page runs with `bash -e` unless the HTML comment right before it says
otherwise (GitHub does not show it):

    <!-- test: skip (needs an AWS account) -->            not run; the reason is the skip's
    <!-- test: background URL [expect TEXT] -->           started in its own process group; URL
                                                          must answer 200 with TEXT, then the
                                                          group is stopped
    <!-- test: run by tests/test_x.py::test_name -->      that test runs these exact commands
    <!-- test: run by FILE -->                           each command is a line of FILE

A "run by" mark is checked, so it cannot lie: each command of the block (comments dropped) is,
in order, a string that the named test hands to `run_command` (directly or through a helper of
its module that passes its first argument on), or a whole line of FILE.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from markdown import CodeBlock, code_blocks

SHELLS = ("sh", "bash", "shell")
TAIL = 4000  # characters of output a failure shows


def run_command(
    command: str, *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`command` exactly as a user types it into bash, stopping at the first failing line; stdout and
    stderr together. On a timeout (or an interrupt) its whole process group is killed, not only bash:
    a `make` or `pip` it started would otherwise run on and hold the output pipe open."""
    process = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        # The output ends when the last process closes the pipe, which a killed process does
        # while it exits, a moment before it is dead (seen in CI under load): wait for that too.
        deadline = time.monotonic() + 10
        while group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if isinstance(sys.exc_info()[1], subprocess.TimeoutExpired):
            raise subprocess.TimeoutExpired(command, timeout, output=output) from None
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, output, None)


@dataclass
class Step:
    page: str  # the page's path as the failure names it
    block: CodeBlock
    kind: str  # "run", "skip", "background" or "run by"
    arg: str = ""  # the skip's reason, the URL, or what runs it
    expect: str = ""  # background: text the page must contain

    @property
    def where(self) -> str:
        return f"{self.page}:{self.block.line}"


def steps(path: Path, root: Path) -> list[Step]:
    """The shell blocks of a page, in order, with what each mark says to do."""
    found = []
    for block in code_blocks(path):
        if block.language not in SHELLS:
            continue
        page = str(path.relative_to(root))
        comment = block.comment or ""
        mark = comment.removeprefix("test:").strip() if comment.startswith("test:") else None
        if mark is None:
            found.append(Step(page, block, "run"))
        elif m := re.fullmatch(r"skip \((.+)\)", mark):
            found.append(Step(page, block, "skip", m[1]))
        elif m := re.fullmatch(r"background (\S+)(?: expect (.+))?", mark):
            found.append(Step(page, block, "background", m[1], m[2] or ""))
        elif m := re.fullmatch(r"run by (\S+)(?: \(.+\))?", mark):
            found.append(Step(page, block, "run by", m[1]))
        else:
            raise ValueError(f"{page}:{block.line}: unknown test mark {block.comment!r}")
    return found


def commands(text: str) -> list[str]:
    """A block's commands: continuation lines joined, comments dropped, words as bash splits them."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [shlex.join(words) for line in joined.splitlines() if (words := shlex.split(line, comments=True))]


def failure(step: Step, note: str, output: str) -> str:
    return (
        f"{step.where}: {note}\n--- the block ---\n{step.block.text}\n"
        f"--- last {TAIL} characters of its output ---\n{output[-TAIL:]}"
    )


def run_step(step: Step, cwd: Path, env: dict[str, str], timeout: float = 900) -> None:
    """Run a block; raise AssertionError naming the page line and the output's tail when it fails."""
    try:
        result = run_command(step.block.text, cwd=cwd, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(failure(step, f"still running after {timeout:.0f} s", exc.output or "")) from None
    if result.returncode != 0:
        raise AssertionError(failure(step, f"exit status {result.returncode}", result.stdout))


def run_in_background(step: Step, cwd: Path, env: dict[str, str], url: str, log: Path, timeout: float = 300) -> str:
    """Start the block in its own process group, wait until `url` answers, check the page, then stop
    the whole group (SIGTERM, then SIGKILL after 30 s). Returns the page's text."""
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", step.block.text],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    failure(
                        step,
                        f"stopped (exit status {process.returncode}) before {url} answered",
                        log.read_text(encoding="utf-8"),
                    )
                )
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    status, kind = response.status, response.headers.get("Content-Type", "")
                    body = response.read().decode("utf-8", errors="replace")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        failure(step, f"{url} did not answer within {timeout:.0f} s", log.read_text(encoding="utf-8"))
                    ) from None
                time.sleep(1)
        if status != 200 or "text/html" not in kind or step.expect not in body:
            raise AssertionError(
                failure(
                    step,
                    f"{url} answered {status} {kind}, {'with' if step.expect in body else 'without'} {step.expect!r}",
                    log.read_text(encoding="utf-8") + "\n--- the page ---\n" + body[:2000],
                )
            )
        return body
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """Stop the process group the block started in, as Ctrl-C would: everything in it, not just bash."""
    for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and group_alive(process.pid):
            process.poll()
            time.sleep(0.2)
        if not group_alive(process.pid):
            break
    process.wait(timeout=10)


def group_alive(pgid: int) -> bool:
    """A live member of the process group is left (a zombie waiting for its reaper does not count)."""
    return any(
        fields and int(fields[2]) == pgid and fields[0] != "Z"
        for fields in map(proc_stat, Path("/proc").glob("[0-9]*"))
    )


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    return (fields := proc_stat(Path(f"/proc/{pid}"))) is not None and fields[0] != "Z"


def proc_stat(proc: Path) -> list[str] | None:
    """A process's state, parent, group, ... (the fields of /proc/PID/stat after its name)."""
    try:
        return (proc / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


# ---- "run by": the mark cannot lie ----------------------------------------------------------


def run_by_problems(step: Step, root: Path) -> list[str]:
    """Why the block's commands are not what the named test or file runs ([] when they are)."""
    target, _, function = step.arg.partition("::")
    path = root / target
    if not path.is_file():
        return [f"{step.where}: marked run by {step.arg}, but there is no {target}"]
    wanted = commands(step.block.text)
    if not function:
        lines = {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
        return [f"{step.where}: {command!r} is not a line of {target}" for command in wanted if command not in lines]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    if function not in functions:
        return [f"{step.where}: marked run by {step.arg}, but {target} has no test {function}"]
    runners = {"run_command", *(name for name, node in functions.items() if passes_first_argument(node))}
    ran = commands_in_order(functions[function], runners)
    rest = iter(ran)
    if all(any(command == seen for seen in rest) for command in wanted):
        return []
    return [f"{step.where}: marked run by {step.arg}, which runs {ran}, not {wanted} in that order"]


def commands_in_order(function: ast.FunctionDef, runners: set[str]) -> list[str]:
    calls = [
        call
        for call in ast.walk(function)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in runners
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ]
    calls.sort(key=lambda call: (call.lineno, call.col_offset))
    return [shlex.join(shlex.split(call.args[0].value)) for call in calls]


def passes_first_argument(function: ast.FunctionDef) -> bool:
    """The helper hands its first parameter, unchanged, to run_command as the command."""
    if not function.args.args:
        return False
    first = function.args.args[0].arg
    return any(
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "run_command"
        and call.args
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == first
        for call in ast.walk(function)
    )
