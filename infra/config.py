"""The typed model of an environment's YAML (envs/common.yaml merged with envs/ENV/env.yaml).

Every key is declared here with its type and range; unknown keys are errors.
Sizes and switches that differ between environments live in the YAML; what must
never differ (encryption, TLS, private subnets) is hard-coded in the modules.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .endpoints import check_services
from .regions import REGIONS

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653)
LABEL = r"^[a-z0-9]+$"
Label = Annotated[str, Field(pattern=LABEL)]
Port = Annotated[int, Field(ge=1, le=65535)]


def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of CloudWatch's retention periods: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Network(Strict):
    cidr: str
    availability_zones: list[Annotated[str, Field(pattern=r"^[0-9][a-z]$")]] = Field(min_length=2, max_length=6)
    subnet_newbits: int = Field(ge=1, le=12)
    nat: Literal["none", "single", "per_az"]
    interface_endpoints: list[str]  # names of modules/network/interface_endpoints.yaml
    flow_log_retention_days: int

    _endpoints = field_validator("interface_endpoints")(classmethod(lambda cls, v: check_services(v)))

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"not a valid IPv4 network in CIDR notation ({exc})") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError("the VPC prefix length must be between /16 and /24 (AWS limits)")
        if not net.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _unique_azs(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("availability zones must be unique")
        return value

    _flow = field_validator("flow_log_retention_days")(classmethod(lambda cls, v: _retention(v)))

    @model_validator(mode="after")
    def _subnets_fit(self) -> Network:
        net = ipaddress.IPv4Network(self.cidr)
        if net.prefixlen + self.subnet_newbits > 28:
            raise ValueError("subnet_newbits makes subnets smaller than /28, the smallest AWS allows")
        if 2 * len(self.availability_zones) > 2**self.subnet_newbits:
            raise ValueError(f"subnet_newbits {self.subnet_newbits} gives too few subnets for "
                             f"{len(self.availability_zones)} public + private subnets")
        return self


class Domain(Strict):
    zone_name: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    create_zone: bool
    names: list[Annotated[str, Field(pattern=r"^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$")]] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_in_zone(self) -> Domain:
        for name in self.names:
            bare = name.removeprefix("*.")
            if bare != self.zone_name and not bare.endswith("." + self.zone_name):
                raise ValueError(f"{name!r} is not inside zone {self.zone_name!r}")
        return self


# A listener rule's conditions hold at most 5 values in all ("Quotas for your Application Load
# Balancers": condition values per rule): the /admin* path takes one, source addresses the rest.
ADMIN_CIDRS_PER_RULE = 4
ADMIN_CIDRS_MAX = 5 * ADMIN_CIDRS_PER_RULE


class Proxy(Strict):
    # An environment without `domain` would serve passwords and session cookies in clear text:
    # the renderer refuses that unless the environment says so here (see loader.https_problems).
    allow_plain_http: bool
    deletion_protection: bool
    idle_timeout: int = Field(ge=1, le=4000)
    deregistration_delay: int = Field(ge=0, le=3600)
    health_check_path: str = Field(pattern=r"^/")
    log_expiration_days: int = Field(ge=1, le=3650)
    # Who may reach /admin/: empty admits everyone (Django's login still guards it). The load
    # balancer enforces it with listener rules on the client's source address (modules/proxy_server).
    admin_allowed_cidrs: list[str]

    @field_validator("admin_allowed_cidrs")
    @classmethod
    def _admin_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                net = ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not an IPv4 network in CIDR notation ({exc}); "
                                 "the load balancer has IPv4 addresses only") from None
            if net.prefixlen == 0:
                raise ValueError("0.0.0.0/0 admits everyone: leave the list empty instead")
        duplicates = sorted({c for c in value if value.count(c) > 1})
        if duplicates:
            raise ValueError(f"listed twice: {', '.join(duplicates)}")
        if len(value) > ADMIN_CIDRS_MAX:
            raise ValueError(f"at most {ADMIN_CIDRS_MAX} networks (got {len(value)}): each listener rule holds "
                             f"{ADMIN_CIDRS_PER_RULE} beside its path; for more, use an AWS WAF IP set")
        return value


class Deployment(Strict):
    # ROLLING replaces tasks in place. BLUE_GREEN (ECS-native, modules/ecs) starts the new
    # revision beside the old one, lets the release smoke-test it through the load balancer's test
    # listener, moves all production traffic at once and keeps the old revision for
    # bake_time_minutes, within which a rollback moves traffic back at once. ECS requires a bake
    # time with BLUE_GREEN; while it lasts the old revision serves again after a rollback against
    # the new schema, hence expand/contract migrations only (docs/runbooks/release.md).
    strategy: Literal["ROLLING", "BLUE_GREEN"]
    bake_time_minutes: int = Field(ge=0, le=1440)
    # BLUE_GREEN: the port of the HTTPS test listener (open to the NAT gateways' addresses only).
    test_port: int = Field(ge=1024, le=65535)


class Ecs(Strict):
    cpu: Literal[256, 512, 1024, 2048, 4096]
    memory: int = Field(ge=512, le=30720)
    # Also the pipeline's image build architecture (modules/codepipeline). Fargate Spot runs ARM64
    # tasks on platform version 1.4.0 or later (ECS API reference, CapacityProviderStrategyItem),
    # so any fargate_spot_weight goes with either.
    cpu_architecture: Literal["X86_64", "ARM64"]
    desired_count: int = Field(ge=0, le=100)
    min_capacity: int = Field(ge=0, le=100)
    max_capacity: int = Field(ge=1, le=100)
    cpu_target: int = Field(ge=10, le=90)
    requests_per_target: int = Field(ge=1, le=100000)
    fargate_spot_weight: int = Field(ge=0, le=100)
    fargate_base: int = Field(ge=0, le=100)  # tasks always on on-demand Fargate before the weights apply
    health_check_grace_period: int = Field(ge=0, le=2147483647)
    log_retention_days: int
    exec_log_retention_days: int  # ECS Exec sessions: the audit trail of who ran what in a container
    log_group_class: Literal["STANDARD", "INFREQUENT_ACCESS"]
    ecr_keep_images: int = Field(ge=1, le=1000)
    ecr_force_delete: bool
    gunicorn_workers: int = Field(ge=1, le=64)
    deployment: Deployment

    _ret = field_validator("log_retention_days", "exec_log_retention_days")(classmethod(lambda cls, v: _retention(v)))

    @model_validator(mode="after")
    def _capacity(self) -> Ecs:
        if not self.min_capacity <= self.desired_count <= self.max_capacity:
            raise ValueError("need min_capacity <= desired_count <= max_capacity")
        # Fargate accepts 2x-8x the vCPU in GiB (1 GiB steps above 0.5 vCPU); a wrong pair fails at apply.
        vcpu = self.cpu / 1024
        low, high = {256: (512, 2048), 512: (1024, 4096)}.get(self.cpu, (int(2048 * vcpu), int(8192 * vcpu)))
        if not low <= self.memory <= high:
            raise ValueError(f"memory {self.memory} is not valid with cpu {self.cpu} on Fargate "
                             f"(allowed {low}-{high} MiB)")
        return self


class Job(Strict):
    name: Label
    schedule: str = Field(pattern=r"^(cron|rate|at)\(.+\)$")
    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$")
    command: list[str] = Field(min_length=1)
    enabled: bool = True


class Batch(Strict):
    jobs: list[Job]
    flexible_window_minutes: int = Field(ge=1, le=1440)
    maximum_retry_attempts: int = Field(ge=0, le=185)
    maximum_event_age_seconds: int = Field(ge=60, le=86400)
    log_retention_days: int

    _ret = field_validator("log_retention_days")(classmethod(lambda cls, v: _retention(v)))

    @field_validator("jobs")
    @classmethod
    def _unique_jobs(cls, jobs: list[Job]) -> list[Job]:
        names = [job.name for job in jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"job names must be unique: {', '.join(duplicates)}")
        if "migrate" in names:
            raise ValueError('"migrate" is reserved for the deploy-time migration task')
        return jobs


WINDOW = r"^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$"
DAILY = r"^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$"


class Rds(Strict):
    engine_version: str = Field(pattern=r"^\d+(\.\d+)?$")
    instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage: int = Field(ge=20, le=65536)
    max_allocated_storage: int = Field(ge=20, le=65536)
    db_name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    username: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")
    multi_az: bool
    deletion_protection: bool
    final_snapshot: bool
    backup_retention_days: int = Field(ge=0, le=35)
    backup_window: str = Field(pattern=DAILY)
    maintenance_window: str = Field(pattern=WINDOW)
    performance_insights_retention_days: int
    monitoring_interval: Literal[1, 5, 10, 15, 30, 60]
    log_min_duration_ms: int = Field(ge=-1)
    log_retention_days: int

    _ret = field_validator("log_retention_days")(classmethod(lambda cls, v: _retention(v)))

    @field_validator("engine_version")
    @classmethod
    def _major(cls, value: str) -> str:
        if int(value.split(".")[0]) < 16:
            raise ValueError("PostgreSQL 16 or newer is required")
        return value

    @field_validator("username")
    @classmethod
    def _reserved(cls, value: str) -> str:
        if value in {"postgres", "rdsadmin", "admin", "root"}:
            raise ValueError(f"{value!r} is reserved by RDS")
        return value

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi(cls, value: int) -> int:
        if value not in (7, 731) and not (value % 31 == 0 and 1 <= value // 31 <= 23):
            raise ValueError("must be 7, 731, or a multiple of 31 up to 713")
        return value

    @model_validator(mode="after")
    def _storage(self) -> Rds:
        if self.max_allocated_storage < self.allocated_storage:
            raise ValueError("max_allocated_storage must be at least allocated_storage")
        return self


class Elasticache(Strict):
    engine: Literal["valkey", "redis"]
    engine_version: str = Field(pattern=r"^\d+\.\d+$")
    node_type: str = Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    num_cache_clusters: int = Field(ge=1, le=6)
    snapshot_retention_limit: int = Field(ge=0, le=35)
    snapshot_window: str = Field(pattern=DAILY)
    maintenance_window: str = Field(pattern=WINDOW)
    log_retention_days: int

    _ret = field_validator("log_retention_days")(classmethod(lambda cls, v: _retention(v)))


class Ssm(Strict):
    secure_parameters: list[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]]
    secret_version: int = Field(ge=1)
    kms_deletion_window_days: int = Field(ge=7, le=30)


class Codepipeline(Strict):
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    branch: str = Field(min_length=1, pattern=r"^[^\s~^:?*\[\\]+$")
    manual_approval: bool  # a person approves each release before the migration and rollout
    build_timeout: int = Field(ge=5, le=2160)
    migrate_timeout: int = Field(ge=1, le=240)
    deploy_timeout: int = Field(ge=1, le=60)
    log_retention_days: int
    artifact_expiration_days: int = Field(ge=1, le=3650)

    _ret = field_validator("log_retention_days")(classmethod(lambda cls, v: _retention(v)))


# ---- WAF ----

# The rules of modules/waf's web ACL that may count instead of block: three AWS managed rule
# groups and the rate limit on the login pages (KnownBadInputs always blocks: exploit payloads
# only). An env.yaml may set any of them apart from `waf.mode`.
WafRule = Literal["common", "sqli", "ip_reputation", "login_rate"]
WAF_RULES: tuple[str, ...] = get_args(WafRule)
WafAction = Literal["block", "count"]


class Waf(Strict):
    """The web ACL in front of the load balancer (modules/waf)."""

    enabled: bool
    # block: matching requests get 403; count: they pass and are only counted and logged, to
    # see what a rule would block before it does.
    mode: WafAction
    rules: dict[WafRule, WafAction]
    # Requests from one IP address to the login pages per window. WAF's lowest limit is 10 and
    # its windows are 60, 120, 300 or 600 seconds (AWS WAF Developer Guide, "Rate-based rule
    # high-level settings").
    login_rate_limit: int = Field(ge=10, le=2_000_000_000)
    login_rate_window: Literal[60, 120, 300, 600]
    log_retention_days: int

    _ret = field_validator("log_retention_days")(classmethod(lambda cls, v: _retention(v)))

    def actions(self) -> dict[str, str]:
        """The action of every rule: its own from `rules`, else `mode`."""
        return {rule: self.rules.get(rule, self.mode) for rule in WAF_RULES}


# CloudWatch evaluates at most one day of periods per alarm.
ALARM_HORIZON_SECONDS = 86400


class Alarm(Strict):
    """When one metric alarm fires: its threshold, in the unit modules/monitoring states for it."""

    threshold: float = Field(ge=0)
    period: int = Field(ge=60, le=ALARM_HORIZON_SECONDS)  # seconds
    evaluation_periods: int = Field(ge=1)
    datapoints_to_alarm: int = Field(ge=1)

    @field_validator("period")
    @classmethod
    def _whole_minutes(cls, value: int) -> int:
        # The metrics alarmed on are standard resolution: a shorter period would see no data.
        if value % 60:
            raise ValueError("must be a multiple of 60 seconds (the alarmed metrics have one-minute resolution)")
        return value

    @model_validator(mode="after")
    def _window(self) -> Alarm:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm cannot exceed evaluation_periods")
        if self.period * self.evaluation_periods > ALARM_HORIZON_SECONDS:
            raise ValueError("period * evaluation_periods must not exceed one day (86400 seconds), "
                             "the longest window CloudWatch evaluates")
        return self


# The alarms whose metric modules/monitoring counts from log lines (a custom metric each, which
# the cost estimate prices); tests/modules/test_monitoring.py checks them against its catalogue.
LOG_ALARMS = ("app_login_throttle_unavailable", "app_cache_down", "app_db_unavailable", "app_readiness_failed",
              "app_db_credentials", "proxy_5xx")


class Alarms(Strict):
    """Every alarm of modules/monitoring; what each measures and its unit are in that module's README."""

    alb_target_5xx_rate: Alarm
    alb_elb_5xx: Alarm
    alb_p99_latency: Alarm
    alb_unhealthy_hosts: Alarm
    alb_rejected_connections: Alarm
    ecs_running_tasks: Alarm
    ecs_cpu: Alarm
    ecs_memory: Alarm
    rds_cpu: Alarm
    rds_free_storage: Alarm
    rds_freeable_memory: Alarm
    rds_connections: Alarm
    rds_read_latency: Alarm
    rds_write_latency: Alarm
    cache_cpu: Alarm
    cache_memory: Alarm
    cache_evictions: Alarm
    cache_connections: Alarm
    dlq_messages: Alarm
    app_login_throttle_unavailable: Alarm
    app_cache_down: Alarm
    app_db_unavailable: Alarm
    app_readiness_failed: Alarm
    app_db_credentials: Alarm
    proxy_5xx: Alarm
    # Only while waf.enabled (infra/names.py alarm_keys): the web ACL's metrics.
    waf_blocked_requests: Alarm
    waf_login_rate_limited: Alarm


class Monitoring(Strict):
    emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]]
    alarms: Alarms

    @field_validator("emails")
    @classmethod
    def _unique_emails(cls, value: list[str]) -> list[str]:
        duplicates = sorted({e for e in value if value.count(e) > 1})
        if duplicates:
            raise ValueError(f"email addresses must be unique: {', '.join(duplicates)}")
        return value


# ---- Backup (AWS Backup plan of the database; modules/backup) ----

# AWS Backup's limits: continuous backup (point-in-time recovery) keeps at most 35 days ("Continuous
# backups and point-in-time recovery", AWS Backup Developer Guide); Vault Lock's compliance mode
# needs a cooling-off period of at least 3 days (PutBackupVaultLockConfiguration, ChangeableForDays).
CONTINUOUS_MAX_DAYS = 35
COMPLIANCE_MIN_GRACE_DAYS = 3


class VaultLock(Strict):
    """Backup Vault Lock on the environment's vaults.

    governance: the lock can be removed by whoever may call DeleteBackupVaultLockConfiguration;
    compliance: after grace_days nobody can remove it or delete a recovery point before its
    retention ends, not even the account's root user, and the vault cannot be deleted while it
    holds any. Irreversible, hence its own switch (docs/recovery.md, "Vault Lock").
    """

    mode: Literal["none", "governance", "compliance"]
    min_retention_days: int = Field(ge=1, le=36500)
    max_retention_days: int = Field(ge=1, le=36500)
    grace_days: int = Field(ge=COMPLIANCE_MIN_GRACE_DAYS, le=36500)  # compliance mode only
    i_understand_compliance_mode_is_irreversible: bool

    @model_validator(mode="after")
    def _lock(self) -> VaultLock:
        if self.min_retention_days > self.max_retention_days:
            raise ValueError("min_retention_days must not exceed max_retention_days")
        return self


class Backup(Strict):
    enabled: bool  # an AWS Backup plan for the database (off: RDS's own automated backups only)
    schedule: str = Field(pattern=r"^cron\(.+\)$")  # AWS Backup cron, UTC
    retention_days: int = Field(ge=1, le=36500)  # daily snapshot recovery points
    # AWS Backup takes over the database's automated backups: point-in-time recovery for
    # rds.backup_retention_days (at most 35), in the vault, under its lock and copy rules.
    continuous: bool
    copy_region: str | None  # a second region that receives a copy of every recovery point
    copy_retention_days: int = Field(ge=1, le=36500)
    vault_lock: VaultLock
    # Deleting the database keeps its automated backups (and so its point-in-time recovery)
    # until their retention ends, instead of deleting them with it (RDS DeleteAutomatedBackups).
    keep_rds_backups_on_delete: bool

    @field_validator("copy_region")
    @classmethod
    def _copy_region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGIONS:
            close = difflib.get_close_matches(value, sorted(REGIONS), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ValueError(f"not an AWS Region this project knows (infra/regions.py){hint}")
        return value


def backup_problems(env: Environment) -> list[tuple[tuple[str, ...], str]]:
    """(key path, reason) for each backup setting that AWS would refuse or that protects nothing."""
    backup, problems = env.backup, []
    if not backup.enabled:
        for key, on in (("continuous", backup.continuous), ("copy_region", backup.copy_region is not None),
                        ("vault_lock", backup.vault_lock.mode != "none")):
            if on:
                problems.append((("backup", key), "needs backup.enabled: true"))
        return problems
    if backup.copy_region == env.region:
        problems.append((("backup", "copy_region"), f"is the environment's own region ({env.region}); a copy "
                                                    "protects against losing a region only in another one"))
    lock = backup.vault_lock
    if lock.mode == "compliance" and not lock.i_understand_compliance_mode_is_irreversible:
        problems.append((("backup", "vault_lock", "mode"), "compliance cannot be undone once grace_days have passed "
                         "(not even by the account's root user); set vault_lock."
                         "i_understand_compliance_mode_is_irreversible: true to opt in (docs/recovery.md, "
                         "\"Vault Lock\")"))
    if lock.mode != "none":
        # A vault lock refuses any backup or copy job whose retention is outside its range.
        kept = {"backup.retention_days": backup.retention_days}
        if backup.continuous:
            kept["rds.backup_retention_days"] = env.rds.backup_retention_days
        if backup.copy_region:
            kept["backup.copy_retention_days"] = backup.copy_retention_days
        for key, days in kept.items():
            if not lock.min_retention_days <= days <= lock.max_retention_days:
                problems.append((("backup", "vault_lock"), f"{key} ({days}) is outside min_retention_days-"
                                 f"max_retention_days ({lock.min_retention_days}-{lock.max_retention_days}): "
                                 "the lock would refuse those recovery points"))
    return problems


WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class WorkingHours(Strict):
    """When an environment is awake: the days and the local times it wakes (start) and goes to
    sleep (end). Outside them its service runs no task and its database is stopped."""

    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$")  # IANA, as EventBridge Scheduler takes it
    days: list[Literal[WEEKDAYS]] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=CLOCK)
    end: str = Field(pattern=CLOCK)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int):
            # YAML 1.1 reads an unquoted 08:00 as the base-60 number 480.
            raise ValueError('write the time in quotes ("HH:MM"): unquoted, YAML reads it as a number')
        return value

    @model_validator(mode="after")
    def _order(self) -> WorkingHours:
        repeated = [day for day in WEEKDAYS if self.days.count(day) > 1]
        if repeated:
            raise ValueError(f"days must not repeat ({', '.join(repeated)} more than once)")
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be later than start ({self.start}) on the same day")
        return self

    def awake_hours_per_week(self) -> float:
        (start_h, start_m), (end_h, end_m) = (map(int, t.split(":")) for t in (self.start, self.end))
        return len(self.days) * ((end_h * 60 + end_m) - (start_h * 60 + start_m)) / 60


class Environment(Strict):
    """One environment after merging common.yaml with its env.yaml."""

    system: Label = Field(max_length=12)
    region: str
    account_id: str
    network: Network
    domain: Domain | None
    proxy: Proxy
    waf: Waf
    ecs: Ecs
    batch: Batch
    rds: Rds
    elasticache: Elasticache
    ssm: Ssm
    codepipeline: Codepipeline
    monitoring: Monitoring
    backup: Backup
    working_hours: WorkingHours | None  # None: awake around the clock
    force_destroy: bool  # let `terraform destroy` empty buckets and repositories (never in prod)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in REGIONS:
            close = difflib.get_close_matches(value, sorted(REGIONS), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ValueError(f"not an AWS Region this project knows (infra/regions.py){hint}")
        return value

    @field_validator("account_id", mode="before")
    @classmethod
    def _account_id(cls, value: object) -> object:
        if isinstance(value, int):
            # Unquoted, YAML reads 123456789012 as a number, and 012345670123 as an octal one.
            raise ValueError("write the 12 digits in quotes: unquoted, YAML reads a number")
        if isinstance(value, str) and not re.fullmatch(r"\d{12}", value):
            raise ValueError("must be the 12 digits of an AWS account ID")
        return value


def deployment_problems(env: Environment) -> list[tuple[tuple[str, ...], str]]:
    """(key path, reason) for each setting a blue/green deployment cannot work with."""
    if env.ecs.deployment.strategy != "BLUE_GREEN":
        return []
    key = ("ecs", "deployment", "strategy")
    problems = []
    if env.domain is None:
        problems.append((key, "BLUE_GREEN needs a domain: its test listener serves the HTTPS certificate"))
    if env.network.nat == "none":
        problems.append((key, "BLUE_GREEN needs network.nat single or per_az: the smoke test reaches the test "
                              "listener from the private subnets through the NAT gateways, whose addresses "
                              "are the only ones it admits"))
    if env.proxy.admin_allowed_cidrs:
        problems.append((key, "BLUE_GREEN cannot be combined with proxy.admin_allowed_cidrs: ECS moves only the "
                              "production listener rule's weights, and the /admin* rules would keep forwarding "
                              "to one target group (empty the list, or use rolling)"))
    return problems


def https_problems(env: Environment) -> list[tuple[tuple[str, ...], str]]:
    """(key path, reason) for each way the environment breaks the HTTPS-by-default rule."""
    if env.domain is None and not env.proxy.allow_plain_http:
        return [(("domain",), "not set, so the load balancer would serve plain HTTP (passwords and session "
                              "cookies in clear text); set domain (docs/operations.md, \"Serving HTTPS\") or, for a "
                              "throwaway environment, proxy.allow_plain_http: true")]
    if env.domain is not None and env.proxy.allow_plain_http:
        return [(("proxy", "allow_plain_http"), "true, but domain is set and the environment serves HTTPS; "
                                                "remove one of the two")]
    return []


def partition(region: str) -> str:
    """The AWS partition of a region, for ARNs the renderer writes where Terraform cannot compute them."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def az_names(env: Environment) -> list[str]:
    return [f"{env.region[: env.region.rindex('-')]}-{suffix}" for suffix in env.network.availability_zones]


def subnet_cidrs(env: Environment) -> tuple[list[str], list[str]]:
    """Public subnets from the bottom of the VPC range, private ones from its upper half."""
    subnets = list(ipaddress.IPv4Network(env.network.cidr).subnets(prefixlen_diff=env.network.subnet_newbits))
    count = len(env.network.availability_zones)
    half = len(subnets) // 2
    return [str(s) for s in subnets[:count]], [str(s) for s in subnets[half : half + count]]


def parameter_leaf(key: str) -> str:
    """DJANGO_SECRET_KEY -> django-secret-key: the last segment of an SSM parameter path."""
    return re.sub(r"_+", "-", key.lower())
