"""Each broken fixture is caught with the message a person needs; the realistic one is clean.

Every case runs against the small hand-written schema and, when it is committed, the pinned AWS
provider schema, so the fixtures also prove the real schema says what the checks assume.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.tfcheck import Problem, check_paths

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "tf"
REAL_SCHEMA = ROOT / "schema" / "aws_provider.json"

SCHEMAS = [
    pytest.param(FIXTURES / "schema.json", id="fixture-schema"),
    pytest.param(
        REAL_SCHEMA,
        id="real-schema",
        marks=pytest.mark.skipif(not REAL_SCHEMA.exists(), reason="schema/aws_provider.json not committed"),
    ),
]

# fixture folder -> (file:line, check, message) of every problem expected, nothing else.
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "elasticache_old_arguments": [
        (
            "main.tf:2",
            "schema",
            'aws_elasticache_replication_group.this: missing required argument "description"',
        ),
        (
            "main.tf:4",
            "schema",
            'aws_elasticache_replication_group.this: unknown argument "replication_group_description"'
            ' (replaced by "description" in AWS provider 6.x)',
        ),
        (
            "main.tf:5",
            "schema",
            'aws_elasticache_replication_group.this: unknown argument "number_cache_clusters"'
            ' (replaced by "num_cache_clusters" in AWS provider 6.x)',
        ),
    ],
    "misspelt_argument": [
        ("main.tf:2", "schema", 'aws_vpc.this: unknown argument "cidr_blok" (did you mean "cidr_block"?)'),
    ],
    "missing_required_argument": [
        ("main.tf:1", "schema", 'aws_subnet.public: missing required argument "vpc_id"'),
    ],
    "missing_required_block": [
        ("main.tf:1", "schema", 'aws_lb_listener.http: missing required block "default_action"'),
    ],
    "undeclared_variable": [
        ("main.tf:7", "interfaces", 'undeclared variable "var.cidr_blocks" (did you mean "cidr_block"?)'),
    ],
    "unknown_module_input": [
        ("main.tf:5", "interfaces", 'module "child": unknown input "nmae_id" (did you mean "name_id"?)'),
    ],
    "missing_module_output": [
        ("main.tf:9", "interfaces", 'module "child" (./child) has no output "id"'),
    ],
    "for_each_without_key": [
        (
            "main.tf:28",
            "interfaces",
            '"aws_route53_record.validation.fqdn": aws_route53_record.validation has for_each:'
            ' use an instance (aws_route53_record.validation["key"].fqdn)'
            " or [for x in aws_route53_record.validation : x.fqdn]",
        ),
    ],
    "parse_error": [
        ("main.tf:8", "parse", 'syntax error: unexpected "="'),
    ],
    "passing": [],
}


def located(problem: Problem, folder: Path) -> tuple[str, str, str]:
    relative = Path(problem.file).resolve().relative_to(folder)
    return (f"{relative.as_posix()}:{problem.line}", problem.check, problem.message)


def test_every_fixture_folder_has_expectations():
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == set(EXPECTED)


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str, schema: Path):
    folder = FIXTURES / name
    problems = check_paths([folder], schema)
    assert [located(p, folder) for p in problems] == EXPECTED[name]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_all_fixtures_at_once_is_the_union_in_order(schema: Path):
    problems = check_paths([FIXTURES], schema)
    assert len(problems) == sum(len(v) for v in EXPECTED.values())
    assert problems == sorted(problems, key=lambda p: (p.file, p.line or 0, p.check, p.message))
    assert check_paths([FIXTURES], schema) == problems
