import io
import json
import logging
import subprocess

from config.logging import JsonFormatter
from tests.helpers import APP_DIR, PYTHON


def format_record(logger_name: str, msg: str, args=(), **extra) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    record = logging.LogRecord(logger_name, logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    handler.emit(record)
    return json.loads(stream.getvalue())


def test_a_log_line_is_a_json_object_with_level_and_logger():
    line = format_record("todo.batch", "purged %d", (3,), removed=3)
    assert line["message"] == "purged 3"
    assert line["level"] == "INFO"
    assert line["logger"] == "todo.batch"
    assert line["removed"] == 3
    assert line["time"].endswith("+00:00")


def test_gunicorn_access_atoms_become_fields():
    atoms = {"h": "127.0.0.1", "m": "GET", "U": "/healthz", "s": "200", "M": 3, "a": "ELB"}
    line = format_record("gunicorn.access", "%(h)s %(m)s", (atoms,))
    assert (line["method"], line["path"], line["status"], line["duration_ms"]) == (
        "GET",
        "/healthz",
        "200",
        3,
    )


def test_django_logs_reach_stdout_as_json_lines():
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('todo.views').warning('hello', extra={'event': 'x'});"
        "logging.getLogger('django.request').error('boom')"
    )
    result = subprocess.run(
        [PYTHON, "-c", code],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "k" * 60, "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["logger"], x["message"]) for x in lines] == [
        ("todo.views", "hello"),
        ("django.request", "boom"),
    ]
    assert lines[0]["event"] == "x"
