"""check_paths never raises: bad input becomes problems, printed as file:line: [check] message."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.tfcheck import Problem, check_paths

FIXTURE_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "schema.json"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_problem_prints_with_location():
    problem = Problem("modules/ecs/main.tf", 12, 'module "ecs": unknown input "foo"', "interfaces")
    assert str(problem) == 'modules/ecs/main.tf:12: [interfaces] module "ecs": unknown input "foo"'
    assert str(Problem("x.tf", None, "m", "parse")) == "x.tf: [parse] m"


def test_paths_are_relative_to_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path / "mod", "main.tf", 'output "x" {\n  value = 1\n}\n')
    monkeypatch.chdir(tmp_path)
    [problem] = check_paths([Path("mod")], FIXTURE_SCHEMA)
    assert str(problem) == 'mod/main.tf:1: [interfaces] output "x" has no description'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('resource "aws_vpc" "x" {\n  cidr_block = \n}\n', 2, 'syntax error: unexpected "}"'),
        ('resource "aws_vpc" "x" {\n', 2, "syntax error: unexpected end of file"),
        ("x = @\n", 1, 'syntax error: unexpected "@"'),
    ],
)
def test_syntax_error_is_a_parse_problem(tmp_path: Path, text: str, line: int, message: str):
    path = write(tmp_path, "main.tf", text)
    assert check_paths([tmp_path], FIXTURE_SCHEMA) == [Problem(str(path), line, message, "parse")]


def test_undecodable_file_is_a_parse_problem(tmp_path: Path):
    write(tmp_path, "main.tf", b'x = "\xff"\n')
    [problem] = check_paths([tmp_path], FIXTURE_SCHEMA)
    assert problem.check == "parse" and "cannot read" in problem.message


def test_missing_folder_and_schema_are_problems(tmp_path: Path):
    problems = check_paths([tmp_path / "absent"], tmp_path / "absent.json")
    assert [(p.check, p.message.split(":")[0]) for p in problems] == [
        ("parse", "no such folder"),
        ("schema", f"cannot read provider schema {tmp_path / 'absent.json'}"),
    ]


def test_broken_called_module_does_not_cascade(tmp_path: Path):
    write(tmp_path / "child", "main.tf", "variable {\n")
    write(tmp_path / "root", "main.tf", 'module "c" {\n  source = "../child"\n  x = 1\n}\n')
    problems = check_paths([tmp_path / "root"], FIXTURE_SCHEMA)
    assert problems == []  # the child's own parse problem shows when the child's folder is checked


def test_every_folder_with_tf_files_is_a_module(tmp_path: Path):
    write(tmp_path / "a" / "b", "main.tf", 'output "o" {\n  value = var.v\n}\n')
    write(tmp_path / ".terraform" / "modules" / "x", "main.tf", "broken {\n")
    messages = [p.message for p in check_paths([tmp_path], FIXTURE_SCHEMA)]
    assert messages == ['output "o" has no description', 'undeclared variable "var.v"']


def test_missing_source_folder(tmp_path: Path):
    write(tmp_path, "main.tf", 'module "gone" {\n  source = "./gone"\n}\n')
    [problem] = check_paths([tmp_path], FIXTURE_SCHEMA)
    assert problem.message == 'module "gone": source "./gone" has no .tf files'
