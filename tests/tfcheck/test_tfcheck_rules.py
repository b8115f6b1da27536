"""One small module per rule, checked against the fixture schema: the rule fires, and only it."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from infra.tfcheck import check_paths

FIXTURE_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "schema.json"

CHILD = """
variable "name" {
  description = "Required."
  type        = string
}

variable "size" {
  description = "Optional."
  type        = number
  default     = 1
}

output "id" {
  description = "An ID."
  value       = var.name
}
"""


def check(tmp_path: Path, main: str) -> list[str]:
    for folder, text in (("root", dedent(main).lstrip()), ("child", CHILD)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "main.tf").write_text(text, encoding="utf-8")
    return [f"{p.line}: [{p.check}] {p.message}" for p in check_paths([tmp_path / "root"], FIXTURE_SCHEMA)]


CASES = {
    "missing-input": (
        """
        module "c" {
          source = "../child"
          size   = 2
        }
        """,
        ['1: [interfaces] module "c": missing required input "name"'],
    ),
    "unknown-module": (
        """
        output "o" {
          description = "d"
          value       = module.nope.id
        }
        """,
        ['3: [interfaces] unknown module "module.nope"'],
    ),
    "count-module": (
        """
        module "c" {
          source = "../child"
          count  = 1
          name   = "n"
        }

        output "o" {
          description = "d"
          value       = [module.c.id, module.c[0].id, module.c[*].id]
        }
        """,
        [
            '9: [interfaces] "module.c.id": module.c has count:'
            " use an instance (module.c[0].id) or module.c[*].id"
        ],
    ),
    "key-on-single-instance": (
        """
        module "c" {
          source = "../child"
          name   = "n"
        }

        resource "aws_vpc" "x" {}

        output "o" {
          description = "d"
          value       = [module.c[0].id, aws_vpc.x[0].id, aws_vpc.x[*].id, module.c.id]
        }
        """,
        [
            "10: [interfaces] aws_vpc.x has neither count nor for_each: reference it without an instance key",
            "10: [interfaces] module.c has neither count nor for_each: reference it without an instance key",
        ],
    ),
    "undeclared-blocks": (
        """
        output "o" {
          description = "d"
          value       = [aws_vpc.x.id, data.aws_iam_policy_document.p.json]
        }
        """,
        [
            '3: [interfaces] undeclared data source "data.aws_iam_policy_document.p"',
            '3: [interfaces] undeclared resource "aws_vpc.x"',
        ],
    ),
    "style": (
        """
        variable "v" {
          default = 1
        }

        output "o" {
          value = var.v
        }
        """,
        [
            '1: [interfaces] variable "v" has no description',
            '1: [interfaces] variable "v" has no type',
            '5: [interfaces] output "o" has no description',
        ],
    ),
    "local": (
        """
        locals {
          a = local.b
        }
        """,
        ['2: [interfaces] undefined local "local.b"'],
    ),
    "unknown-type": (
        'resource "aws_vpcc" "x" {}',
        ['1: [schema] unknown resource type "aws_vpcc" (did you mean "aws_vpc"?)'],
    ),
    "unknown-data": ('data "aws_vpc" "x" {}', ['1: [schema] unknown data source "aws_vpc"']),
    "non-aws-skipped": (
        """
        resource "random_id" "x" {
          anything = 1
        }
        """,
        [],
    ),
    "block-as-argument": (
        """
        resource "aws_lb" "x" {
          access_logs = { bucket = "b" }
        }
        """,
        ['2: [schema] aws_lb.x: "access_logs" is a block: write access_logs { ... }, not access_logs = ...'],
    ),
    "argument-as-block": (
        """
        resource "aws_vpc" "x" {
          tags {
          }
        }
        """,
        ['2: [schema] aws_vpc.x: "tags" is an argument: write tags = ..., not a block'],
    ),
    "single-block-twice": (
        """
        resource "aws_lb" "x" {
          access_logs {
            bucket = "a"
          }
          access_logs {
            bucket = "b"
          }
        }
        """,
        ['5: [schema] aws_lb.x: at most one "access_logs" block is allowed'],
    ),
    "nested-block": (
        """
        resource "aws_lb_listener" "x" {
          load_balancer_arn = "a"
          default_action {
            typ = "forward"
          }
        }
        """,
        [
            '3: [schema] aws_lb_listener.x.default_action: missing required argument "type"',
            '4: [schema] aws_lb_listener.x.default_action: unknown argument "typ" (did you mean "type"?)',
        ],
    ),
    "dynamic": (
        """
        resource "aws_lb_listener" "x" {
          load_balancer_arn = "a"
          dynamic "default_actions" {
            for_each = []
            content {}
          }
        }
        """,
        [
            '1: [schema] aws_lb_listener.x: missing required block "default_action"',
            "3: [schema] aws_lb_listener.x: unknown dynamic block"
            ' "default_actions" (did you mean "default_action"?)',
        ],
    ),
    "meta-and-legacy-blocks": (
        # Meta-arguments, and security group rules written as blocks (attributes-as-blocks).
        """
        resource "aws_security_group" "x" {
          count      = 1
          provider   = aws.east
          depends_on = []
          ingress {
            from_port = 1
          }
          dynamic "egress" {
            for_each = []
            content {}
          }
          lifecycle {
            ignore_changes = [tags]
          }
        }
        """,
        [],
    ),
    "attribute": (
        """
        resource "aws_vpc" "x" {}

        output "o" {
          description = "d"
          value       = aws_vpc.x.arnn
        }
        """,
        ['5: [schema] aws_vpc.x: "aws_vpc" has no attribute "arnn" (did you mean "arn"?)'],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule(tmp_path: Path, case: str):
    main, expected = CASES[case]
    assert check(tmp_path, main) == expected
