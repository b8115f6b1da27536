"""A monthly cost estimate of each environment, from the same merged YAML that renders its root.

Prices, usage assumptions and the classification of every resource type live in
cost/prices.yaml; this module only multiplies. What an environment runs comes from its
validated settings (infra/config.py) and how many of each named resource it has from the
naming catalogue (infra/names.py), so the estimate follows the YAML and naming.yaml exactly as
the rendered roots do.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .config import LOG_ALARMS, WAF_RULES, Environment
from .errors import RenderError
from .loader import read_yaml
from .names import EnvNames

CHECKED = ("seen", "unverified", "assumption")
SOURCE_DATE = re.compile(r"^\d{4}(-\d{2}){0,2}$")

# The load balancer capacity unit's dimensions (Elastic Load Balancing pricing page): an LCU
# is 25 new connections a second, or 1 GB processed an hour (for instance and IP targets); the
# hour is billed on the dimension that uses the most. Active connections and rule evaluations
# stay far below theirs at this app's traffic (one listener rule).
LCU_NEW_CONNECTIONS_PER_SECOND = 25
LCU_GB_PER_HOUR = 1.0

HOURS_PER_WEEK = 7 * 24

# The scheduled jobs and the migration task run at the batch module's default size.
SMALL_TASK_VCPU, SMALL_TASK_GB = 0.25, 0.5


# ---- The price table ------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceTable:
    path: str  # as shown in messages
    hours: float
    region: str
    date: str
    prices: dict[str, Any]  # key -> usd (a number, or nested mappings of numbers)
    assumptions: dict[str, Any]  # name -> number or {"default": n, env: n}
    priced: dict[str, str]  # resource type -> line key
    free: dict[str, str]  # resource type -> reason
    sources: dict[str, str] = field(default_factory=dict)  # price key -> where its figure comes from

    def price(self, key: str, *path: str, blame: str = "") -> float:
        """The price at key[path...]; a missing entry is an error naming the file and key."""
        value: Any = self.prices.get(key)
        where = f"regions.{self.region}.prices.{key}.usd"
        for part in path:
            if not isinstance(value, dict) or part not in value:
                known = ", ".join(sorted(value)) if isinstance(value, dict) else "none"
                hint = f" (set by {blame})" if blame else ""
                raise RenderError(f"{self.path}: {where}: no price for {part!r}{hint}; listed: {known}")
            value = value[part]
            where += f".{part}"
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise RenderError(f"{self.path}: {where}: not a single price (give the {'/'.join(path) or 'key'})")
        return float(value)

    def assumption(self, name: str, env: str) -> float:
        value = self.assumptions[name]
        return float(value.get(env, value["default"]) if isinstance(value, dict) else value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _numbers(value: Any) -> bool:
    """A price: a non-negative number, or mappings whose leaves all are."""
    if isinstance(value, dict):
        return bool(value) and all(isinstance(k, str) and _numbers(v) for k, v in value.items())
    return _number(value)


def load_prices(path: Path, region: str, shown: str, envs: list[str]) -> PriceTable:
    """Read and check cost/prices.yaml for one region; every problem names the file and key."""
    data = read_yaml(path, shown)
    problems: list[str] = []

    def need(mapping: Any, key: str, where: str, kind: type = object) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            problems.append(f"{shown}: {where}{key}: required key is missing")
            return None
        if not isinstance(mapping[key], kind):
            problems.append(f"{shown}: {where}{key}: must be a {'mapping' if kind is dict else kind.__name__}")
            return None
        return mapping[key]

    hours = need(data, "hours_per_month", "")
    if hours is not None and not (_number(hours) and 0 < hours <= 744):
        problems.append(f"{shown}: hours_per_month: must be a number of hours in a month (got {hours!r})")
    regions = need(data, "regions", "", dict) or {}
    if regions and region not in regions:
        problems.append(f"{shown}: regions: no prices for {region!r} (envs/common.yaml: region); "
                        f"priced: {', '.join(sorted(map(str, regions)))}")
    table = regions.get(region) or {}
    prices: dict[str, Any] = {}
    sources: dict[str, str] = {}
    date = None
    if region in regions:
        date = need(table, "date", f"regions.{region}.", str)
        for key, entry in (need(table, "prices", f"regions.{region}.", dict) or {}).items():
            where = f"{shown}: regions.{region}.prices.{key}"
            if not isinstance(entry, dict):
                problems.append(f"{where}: must be a mapping with usd, page and checked")
                continue
            if not _numbers(entry.get("usd")):
                problems.append(f"{where}.usd: must be a non-negative number, or a mapping of them "
                                f"(got {entry.get('usd')!r})")
            if not str(entry.get("page", "")).startswith("https://"):
                problems.append(f"{where}.page: the AWS pricing page the figure comes from (https://...)")
            if entry.get("checked") not in CHECKED:
                problems.append(f"{where}.checked: one of {', '.join(CHECKED)} (got {entry.get('checked')!r})")
            if entry.get("checked") == "seen" and not str(entry.get("seen_on", "")).startswith("https://"):
                problems.append(f"{where}.seen_on: the page the figure was seen on (https://...)")
            if entry.get("checked") == "assumption" and not str(entry.get("note", "")).strip():
                problems.append(f"{where}.note: say how the figure was chosen")
            if "source_date" in entry and not SOURCE_DATE.match(str(entry["source_date"])):
                problems.append(f"{where}.source_date: the date of the page in seen_on, as YYYY, YYYY-MM or "
                                f"YYYY-MM-DD in quotes (got {entry['source_date']!r})")
            if "derived" in entry and not str(entry["derived"] or "").strip():
                problems.append(f"{where}.derived: say how the figures the page does not show are computed")
            prices[key] = entry.get("usd")
            sources[key] = source_of(entry)
    assumptions = {}
    for name, entry in (need(data, "assumptions", "", dict) or {}).items():
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"default", *envs})
            ok = "default" in value and not unknown and all(_number(v) for v in value.values())
        else:
            unknown, ok = [], _number(value)
        if not ok:
            detail = f"; unknown environment(s) {', '.join(unknown)}" if unknown else ""
            problems.append(f"{shown}: assumptions.{name}.value: a non-negative number, or "
                            f"{{default: N, <env>: N}}{detail} (got {value!r})")
        elif not str(entry.get("note", "")).strip():
            problems.append(f"{shown}: assumptions.{name}.note: say what the figure stands for")
        assumptions[name] = value
    types = need(data, "resource_types", "", dict) or {}
    priced = need(types, "priced", "resource_types.", dict) or {} if types else {}
    free = need(types, "free", "resource_types.", dict) or {} if types else {}
    for rtype in sorted(set(priced) & set(free)):
        problems.append(f"{shown}: resource_types: {rtype} is both priced and free")
    for rtype, line in priced.items():
        if line not in LINE_KEYS:
            problems.append(f"{shown}: resource_types.priced.{rtype}: no estimate line {line!r} "
                            f"(lines: {', '.join(LINE_KEYS)})")
    if problems:
        raise RenderError(problems)
    return PriceTable(shown, float(hours), region, str(date), prices, assumptions, priced, free, sources)


def source_of(entry: dict[str, Any]) -> str:
    """One line: where a price's figure comes from, as its entry in cost/prices.yaml says."""
    checked = entry.get("checked")
    if checked == "seen":
        dated = f" ({entry['source_date']})" if entry.get("source_date") else ""
        found = f"seen on {entry['seen_on']}{dated}"
    elif checked == "unverified":
        found = f"unverified: last known list price of {entry['page']}"
    else:
        found = f"{checked}: {' '.join(str(entry.get('note', '')).split())}"
    return found + (f"; derived: {' '.join(str(entry['derived']).split())}" if entry.get("derived") else "")


def apply_overrides(table: PriceTable, overrides: list[str], envs: list[str]) -> PriceTable:
    """NAME=VALUE (every environment) or ENV.NAME=VALUE, over the table's assumptions."""
    for item in overrides:
        target, sep, raw = item.partition("=")
        env, _, name = target.rpartition(".")
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not sep or name not in table.assumptions or (env and env not in envs) or not _number(value):
            known = ", ".join(sorted(table.assumptions))
            raise RenderError(f"--set {item}: expected [ENV.]NAME=NUMBER (>= 0) with NAME one of {known}"
                              f" and ENV one of {', '.join(envs)}")
        table = with_assumption(table, name, value, env or None)
    return table


def with_assumption(table: PriceTable, name: str, value: float, env: str | None = None) -> PriceTable:
    """The table with one assumption set, for every environment or only for `env`."""
    if env:
        current = table.assumptions[name]
        value = {**(current if isinstance(current, dict) else {"default": current}), env: value}
    return replace(table, assumptions={**table.assumptions, name: value})


# ---- The estimate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    key: str
    usd: float
    detail: str


@dataclass(frozen=True)
class Inputs:
    name: str
    env: Environment
    kinds: Counter[str]  # named resources by Terraform type (naming catalogue)
    table: PriceTable

    def a(self, name: str) -> float:
        return self.table.assumption(name, self.name)

    def p(self, key: str, *path: str, blame: str = "") -> float:
        return self.table.price(key, *path, blame=blame)

    @property
    def hours(self) -> float:
        return self.table.hours


def _nat_count(env: Environment) -> int:
    return {"none": 0, "single": 1, "per_az": len(env.network.availability_zones)}[env.network.nat]


def nat_gateways(x: Inputs) -> Line:
    count = _nat_count(x.env)
    data = x.a("nat_data_gb_per_month") if count else 0.0
    usd = count * x.hours * x.p("nat_gateway_hour") + data * x.p("nat_gateway_gb")
    return Line("nat_gateways", usd, f"{count} gateway(s) ({x.env.network.nat}), {data:g} GB processed")


def public_ipv4(x: Inputs) -> Line:
    # The NAT gateways' Elastic IPs, and one address per zone of the internet-facing load balancer.
    count = _nat_count(x.env) + len(x.env.network.availability_zones)
    return Line("public_ipv4", count * x.hours * x.p("public_ipv4_hour"), f"{count} address(es)")


def load_balancer(x: Inputs) -> Line:
    requests = x.a("requests_per_month")
    per_second = requests / (x.hours * 3600)  # one new connection per request: the upper bound
    gb_per_hour = requests * x.a("response_kb") / 1e6 / x.hours
    lcu = max(per_second / LCU_NEW_CONNECTIONS_PER_SECOND, gb_per_hour / LCU_GB_PER_HOUR)
    usd = x.hours * (x.p("alb_hour") + lcu * x.p("alb_lcu_hour"))
    return Line("load_balancer", usd, f"1 ALB, {lcu:.3f} LCU on average ({requests:,.0f} requests)")


def interface_endpoints(x: Inputs) -> Line:
    count = len(x.env.network.interface_endpoints) * len(x.env.network.availability_zones)
    data = x.a("endpoint_data_gb_per_month") if count else 0.0
    if count and not _nat_count(x.env):  # what NAT gateways would carry goes through the endpoints
        data += x.a("nat_data_gb_per_month")
    usd = count * x.hours * x.p("interface_endpoint_hour") + data * x.p("interface_endpoint_gb")
    return Line("interface_endpoints", usd,
                f"{len(x.env.network.interface_endpoints)} endpoint(s) x {len(x.env.network.availability_zones)} zones")


def awake_share(env: Environment) -> float:
    """The share of the week the environment is awake (working_hours; None: around the clock).
    Only then do its service tasks run and its database instance bill hours."""
    return env.working_hours.awake_hours_per_week() / HOURS_PER_WEEK if env.working_hours else 1.0


def service_split(env: Environment) -> tuple[float, float]:
    """(on-demand, Spot) tasks of the service: the ecs module's capacity provider strategy puts
    `fargate_base` tasks on FARGATE, then splits the rest 1 : fargate_spot_weight."""
    tasks, base, weight = env.ecs.desired_count, env.ecs.fargate_base, env.ecs.fargate_spot_weight
    fixed = min(base, tasks)
    spot = (tasks - fixed) * weight / (1 + weight)
    return tasks - spot, spot


def fargate(x: Inputs) -> Line:
    arch = x.env.ecs.cpu_architecture
    blame = "envs: ecs.cpu_architecture"

    def hourly(vcpu: float, gb: float) -> float:
        return vcpu * x.p("fargate_vcpu_hour", arch, blame=blame) + gb * x.p("fargate_gb_hour", arch, blame=blame)

    on_demand, spot = service_split(x.env)
    service = hourly(x.env.ecs.cpu / 1024, x.env.ecs.memory / 1024)
    awake = awake_share(x.env)  # asleep, the service runs no task; scheduled jobs still run
    usd = x.hours * awake * service * (on_demand + spot * (1 - x.p("fargate_spot_discount")))
    jobs = sum(1 for job in x.env.batch.jobs if job.enabled)
    small_hours = (jobs * x.a("batch_runs_per_job_per_month") * x.a("batch_task_minutes")
                   + x.a("deploys_per_month") * x.a("migrate_task_minutes")) / 60
    usd += small_hours * hourly(SMALL_TASK_VCPU, SMALL_TASK_GB)
    return Line("fargate", usd, f"service {on_demand:.2g} on-demand + {spot:.2g} Spot task(s) of "
                                f"{x.env.ecs.cpu / 1024:g} vCPU/{x.env.ecs.memory / 1024:g} GB ({arch})"
                                f"{_awake(x.env)}; "
                                f"{small_hours:.1f} h of job and migration tasks")


def _awake(env: Environment) -> str:
    hours = env.working_hours.awake_hours_per_week() if env.working_hours else HOURS_PER_WEEK
    return "" if hours == HOURS_PER_WEEK else f", awake {hours:g} of {HOURS_PER_WEEK} h a week"


def rds(x: Inputs) -> Line:
    instance = x.p("rds_postgres_instance_hour", x.env.rds.instance_class, blame="envs: rds.instance_class")
    factor = x.p("rds_multi_az_factor") if x.env.rds.multi_az else 1.0
    storage = x.env.rds.allocated_storage
    # A stopped instance bills no instance hours; its storage (and backups) it still does.
    usd = factor * (x.hours * awake_share(x.env) * instance + storage * x.p("rds_gp3_gb_month"))
    return Line("rds", usd, f"{x.env.rds.instance_class}{' Multi-AZ' if x.env.rds.multi_az else ''}"
                            f"{_awake(x.env)}, {storage} GB gp3 (grows up to {x.env.rds.max_allocated_storage} GB)")


def elasticache(x: Inputs) -> Line:
    cache = x.env.elasticache
    node = x.p("elasticache_node_hour", cache.engine, cache.node_type,
               blame="envs: elasticache.engine / elasticache.node_type")
    return Line("elasticache", cache.num_cache_clusters * x.hours * node,
                f"{cache.num_cache_clusters} x {cache.node_type} ({cache.engine})")


def kms(x: Inputs) -> Line:
    keys = x.kinds["aws_kms_key"]
    usd = keys * x.p("kms_key_month") + x.a("kms_requests_per_month") / 10_000 * x.p("kms_requests_10k")
    return Line("kms", usd, f"{keys} key(s), {x.a('kms_requests_per_month'):,.0f} requests")


def secrets(x: Inputs) -> Line:
    # Each database keeps its master password in a secret RDS creates (manage_master_user_password).
    count = x.kinds["aws_secretsmanager_secret"] + x.kinds["aws_db_instance"]
    reads = x.env.ecs.desired_count * x.a("secret_reads_per_task_hour") * x.hours * awake_share(x.env)
    usd = count * x.p("secret_month") + reads / 10_000 * x.p("secret_api_10k")
    return Line("secrets", usd, f"{count} secret(s), {reads:,.0f} reads")


def logs(x: Inputs) -> Line:
    env = x.env
    others = max(env.batch.log_retention_days, env.rds.log_retention_days, env.elasticache.log_retention_days,
                 env.codepipeline.log_retention_days)
    streams = [  # (GB ingested a month, log class, retention days)
        (x.a("app_log_gb_per_month"), env.ecs.log_group_class, env.ecs.log_retention_days),
        (x.a("flow_log_gb_per_month"), "STANDARD", env.network.flow_log_retention_days),
        (x.a("other_log_gb_per_month"), "STANDARD", others),
    ]
    if env.waf.enabled:  # one record per request the web ACL inspects
        streams.append((x.a("requests_per_month") * x.a("waf_log_kb_per_request") / 1e6, "STANDARD",
                        env.waf.log_retention_days))
    ingest = sum(gb * x.p("logs_ingest_gb", cls, blame="envs: ecs.log_group_class") for gb, cls, _ in streams)
    # Steady state: a month's logs are kept for retention/30 months, compressed.
    stored = sum(gb * days / 30 for gb, _, days in streams) * x.a("log_compression_ratio")
    usd = ingest + stored * x.p("logs_storage_gb_month")
    total = sum(gb for gb, _, _ in streams)
    return Line("logs", usd, f"{total:g} GB ingested, {stored:.1f} GB stored")


def pipeline(x: Inputs) -> Line:
    deploys = x.a("deploys_per_month")
    usd = deploys * (x.a("build_minutes") * x.p("codebuild_small_minute")
                     + x.a("pipeline_action_minutes") * x.p("codepipeline_action_minute"))
    return Line("pipeline", usd, f"{deploys:g} run(s) of {x.a('build_minutes'):g} build minutes")


def storage(x: Inputs) -> Line:
    images_gb = x.kinds["aws_ecr_repository"] * x.env.ecs.ecr_keep_images * x.a("image_mb") / 1024
    usd = images_gb * x.p("ecr_storage_gb_month") + x.a("s3_gb") * x.p("s3_standard_gb_month")
    return Line("storage", usd, f"{images_gb:.1f} GB of images, {x.a('s3_gb'):g} GB in S3")


def stored_backup_gb(data_gb: float, daily_change: float, days: int) -> float:
    """A full copy, then one day's changes for every further day kept (incremental snapshots)."""
    return data_gb * (1 + daily_change * max(days - 1, 0)) if days else 0.0


def backup(x: Inputs) -> Line:
    env, data, change = x.env, x.a("database_gb"), x.a("database_daily_change")
    # RDS's automated backups (or the continuous backup AWS Backup keeps in their place): free up
    # to the provisioned storage.
    automated = stored_backup_gb(data, change, env.rds.backup_retention_days)
    billed = max(automated - env.rds.allocated_storage, 0.0)
    usd = billed * x.p("rds_backup_gb_month")
    detail = f"{automated:.1f} GB of automated backups ({billed:.1f} GB beyond the free allowance)"
    if env.backup.enabled:
        snapshots = stored_backup_gb(data, change, env.backup.retention_days)
        usd += snapshots * x.p("backup_rds_snapshot_gb_month")
        detail += f", {snapshots:.1f} GB of daily snapshots"
        if env.backup.copy_region:
            copies = stored_backup_gb(data, change, env.backup.copy_retention_days)
            transfer = data * change * 30  # a month of incremental copies crossing regions
            usd += (copies * x.p("backup_rds_snapshot_gb_month") + transfer * x.p("inter_region_transfer_gb")
                    + x.p("kms_key_month"))  # the copy region's own key
            detail += f", {copies:.1f} GB copied to {env.backup.copy_region} ({transfer:.1f} GB a month)"
    return Line("backup", usd, detail)


def dns(x: Inputs) -> Line:
    zones = 1 if x.env.domain and x.env.domain.create_zone else 0
    return Line("dns", zones * x.p("route53_zone_month"), f"{zones} hosted zone(s)")


def waf(x: Inputs) -> Line:
    if not x.env.waf.enabled:
        return Line("waf", 0.0, "no web ACL")
    rules = len(WAF_RULES) + 1  # the rules YAML may switch, and the always-blocking known bad inputs group
    requests = x.a("requests_per_month")
    usd = x.p("waf_web_acl_month") + rules * x.p("waf_rule_month") + requests / 1e6 * x.p("waf_requests_million")
    return Line("waf", usd, f"1 web ACL, {rules} rules, {requests:,.0f} requests inspected")


def monitoring(x: Inputs) -> Line:
    alarms, dashboards = x.kinds["aws_cloudwatch_metric_alarm"], x.kinds["aws_cloudwatch_dashboard"]
    metrics = len(LOG_ALARMS)  # one custom metric per log metric filter
    usd = alarms * x.p("alarm_month") + dashboards * x.p("dashboard_month") + metrics * x.p("custom_metric_month")
    return Line("monitoring", usd, f"{alarms} alarm(s), {dashboards} dashboard(s), {metrics} log metric(s)")


LINES: dict[str, tuple[str, Callable[[Inputs], Line]]] = {
    "nat_gateways": ("NAT gateways", nat_gateways),
    "public_ipv4": ("Public IPv4 addresses", public_ipv4),
    "load_balancer": ("Load balancer", load_balancer),
    "interface_endpoints": ("Interface endpoints", interface_endpoints),
    "fargate": ("Fargate tasks", fargate),
    "rds": ("RDS PostgreSQL", rds),
    "elasticache": ("ElastiCache", elasticache),
    "kms": ("KMS keys", kms),
    "secrets": ("Secrets Manager", secrets),
    "logs": ("CloudWatch Logs", logs),
    "pipeline": ("CodeBuild + CodePipeline", pipeline),
    "storage": ("ECR + S3 storage", storage),
    "backup": ("Database backups", backup),
    "dns": ("Route 53 zone", dns),
    "waf": ("AWS WAF", waf),
    "monitoring": ("CloudWatch alarms + dashboards", monitoring),
}
LINE_KEYS = tuple(LINES)


def resource_types(folders: list[Path]) -> dict[str, list[str]]:
    """Every managed resource type declared in the .tf files under `folders`, with where."""
    from .tfcheck.parsing import parse_file

    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.tf")):
            if ".terraform" in path.parts:
                continue
            blocks, problems = parse_file(path)
            if problems:
                raise RenderError([str(p) for p in problems])
            for block in blocks:
                if block.type == "resource" and block.labels:
                    found.setdefault(block.labels[0], []).append(f"{path}:{block.line}")
    return found


def unclassified(types: dict[str, list[str]], table: PriceTable) -> list[str]:
    """One line per resource type that cost/prices.yaml neither prices nor lists as free."""
    return [f"{table.path}: resource_types: {rtype} (first at {places[0]}) is neither priced nor free"
            for rtype, places in sorted(types.items()) if rtype not in table.priced and rtype not in table.free]


def estimate(name: str, env: Environment, names: EnvNames, table: PriceTable) -> list[Line]:
    inputs = Inputs(name, env, Counter(item.kind for item in names.flat), table)
    return [compute(inputs) for _, compute in LINES.values()]


# ---- Output -----------------------------------------------------------------------------------


def table_rows(estimates: dict[str, list[Line]]) -> list[list[str]]:
    envs = list(estimates)
    rows = [["monthly, USD", *envs]]
    for index, (key, (label, _)) in enumerate(LINES.items()):
        assert all(lines[index].key == key for lines in estimates.values())
        rows.append([label, *(_money(estimates[e][index].usd) for e in envs)])
    rows.append(["Total", *(_money(sum(line.usd for line in estimates[e])) for e in envs)])
    return rows


def _money(usd: float) -> str:
    return f"{usd:,.2f}" if usd >= 0.005 else "-"


def format_text(estimates: dict[str, list[Line]], table: PriceTable) -> str:
    rows = table_rows(estimates)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(-1, lines[1])
    return "\n".join(lines) + "\n" + footer(table) + "\n"


def format_markdown(estimates: dict[str, list[Line]], table: PriceTable) -> str:
    rows = table_rows(estimates)
    rows[-1] = [f"**{cell}**" for cell in rows[-1]]
    out = ["| " + " | ".join(rows[0]) + " |", "| --- |" + " ---: |" * (len(rows[0]) - 1)]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out) + "\n\n" + footer(table) + "\n"


def format_details(estimates: dict[str, list[Line]]) -> str:
    out = []
    for env, lines in estimates.items():
        out.append(f"{env}:")
        out += [f"  {LINES[line.key][0]}: {line.detail}" for line in lines]
    return "\n".join(out) + "\n"


def footer(table: PriceTable) -> str:
    return (f"List prices of {table.region} as of {table.date} ({table.path}), {table.hours:g} hours a month; "
            "usage from its assumptions; free tiers, data transfer out and tax not included.")
