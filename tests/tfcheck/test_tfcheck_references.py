"""The reference extractor: what counts as a reference, and what is bound locally or literal."""

from __future__ import annotations

import hcl2
import pytest

from infra.tfcheck.model import block_references
from infra.tfcheck.parsing import Block, parse_file
from infra.tfcheck.references import references


def refs(expression: str) -> list[str]:
    tree = hcl2.parses_to_tree(f"x = {expression}\n")
    attribute = next(tree.find_data("attribute"))
    return [str(r) for r in references(attribute.children[-1])]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("var.name", ["var.name"]),
        ("local.tags", ["local.tags"]),
        ('module.web["main"].vpc_id', ["module.web[...].vpc_id"]),
        ("aws_vpc.this.id", ["aws_vpc.this.id"]),
        ("data.aws_iam_policy_document.x.json", ["data.aws_iam_policy_document.x.json"]),
        (
            "ephemeral.aws_secretsmanager_random_password.p.random_password",
            ["ephemeral.aws_secretsmanager_random_password.p.random_password"],
        ),
        ("aws_subnet.a[0].id", ["aws_subnet.a[...].id"]),
        ("aws_subnet.a.0.id", ["aws_subnet.a[...].id"]),
        ("aws_subnet.a[*].id", ["aws_subnet.a[*].id"]),
        ("aws_subnet.a.*.id", ["aws_subnet.a[*].id"]),
        ("aws_subnet.a[var.k].id", ["var.k", "aws_subnet.a[...].id"]),
        # Function names, object keys and string text are not references; interpolations are.
        ("merge(local.a, { tags = var.t })", ["local.a", "var.t"]),
        ("jsonencode({ Resource = aws_s3_bucket.b.arn })", ["aws_s3_bucket.b.arn"]),
        ('{ (var.key) = 1, "${local.k}" = 2 }', ["var.key", "local.k"]),
        ('"var.not_this ${var.this}"', ["var.this"]),
        ('"$${var.escaped}"', []),
        ("provider::aws::arn_parse(var.arn).region", ["var.arn"]),
        # Names bound by for expressions and template directives, and Terraform's own scopes.
        ("[for r in aws_route53_record.v : r.fqdn]", ["aws_route53_record.v"]),
        ("{ for k, v in var.m : k => v.id if v.on && local.all }", ["var.m", "local.all"]),
        ('"%{for z in var.zones}${z}${local.sep}%{endfor}"', ["var.zones", "local.sep"]),
        ("[each.key, count.index, path.module, terraform.workspace, self.id]", []),
        ("var.on ? aws_lb.x[0].arn : null", ["var.on", "aws_lb.x[...].arn"]),
        ("values(aws_subnet.a)[*].id", ["aws_subnet.a"]),
        ("(aws_subnet.a).id", ["aws_subnet.a"]),
    ],
)
def test_references(expression: str, expected: list[str]):
    assert refs(expression) == expected


def test_heredoc_interpolations_and_directives(tmp_path):
    (tmp_path / "main.tf").write_text(
        "x = <<-EOT\n"
        "  line ${var.a}\n"
        "  %{~ for item in local.items ~}\n"
        "  ${item.name} ${aws_lb.x.dns_name}\n"
        "  %{ endfor }\n"
        "  $${not.this}\n"
        "EOT\n",
        encoding="utf-8",
    )
    [attribute_tree] = list(hcl2.parses_to_tree((tmp_path / "main.tf").read_text()).find_data("attribute"))
    found = [(str(r), r.line) for r in references(attribute_tree.children[-1])]
    assert found == [("var.a", 2), ("local.items", 3), ("aws_lb.x.dns_name", 4)]


def test_dynamic_block_iterators_are_bound_in_content_only(tmp_path):
    (tmp_path / "main.tf").write_text(
        """
resource "aws_security_group" "x" {
  dynamic "ingress" {
    for_each = var.rules
    content {
      from_port = ingress.value.port
      dynamic "nested" {
        for_each = ingress.value.nested
        iterator = n
        content {
          a = n.value
          b = ingress.key
          c = nested.value
        }
      }
    }
  }
  d = ingress.value
}
""",
        encoding="utf-8",
    )
    blocks, problems = parse_file(tmp_path / "main.tf")
    assert problems == []
    block: Block = blocks[0]
    # `nested` is not bound (its iterator is `n`); `ingress` outside its dynamic block is unbound.
    assert [str(r) for r in block_references(block, frozenset())] == [
        "ingress.value",
        "var.rules",
        "nested.value",
    ]
