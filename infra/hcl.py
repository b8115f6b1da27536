"""Python values as Terraform (HCL) literals, for the templates' `hcl` filter."""

from __future__ import annotations

import json
import re
from typing import Any

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Expr(str):
    """A Terraform expression written as-is (a reference such as module.network.vpc_id)."""


def hcl(value: Any, indent: int = 0) -> str:
    if isinstance(value, Expr):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        # JSON string escaping is valid HCL; "${" and "%{" would start a template, so double them.
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, (list, tuple)):
        items = [hcl(v, indent + 2) for v in value]
        if all("\n" not in i for i in items) and sum(len(i) + 2 for i in items) < 80:
            return "[" + ", ".join(items) + "]"
        pad = " " * (indent + 2)
        return "[\n" + "".join(f"{pad}{i},\n" for i in items) + " " * indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = " " * (indent + 2)
        lines = []
        for key, item in value.items():
            label = key if IDENTIFIER.match(str(key)) else json.dumps(str(key))
            lines.append(f"{pad}{label} = {hcl(item, indent + 2)}\n")
        return "{\n" + "".join(lines) + " " * indent + "}"
    raise TypeError(f"no HCL form for {type(value).__name__}")
