"""Interface VPC endpoints: which names modules/network accepts, and which an environment without
NAT needs.

The accepted names are the module's own data file, modules/network/interface_endpoints.yaml,
which its variable validation reads too: one list for the YAML and the module.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .errors import RenderError

if TYPE_CHECKING:
    from .config import Environment

ROOT = Path(__file__).resolve().parent.parent
SERVICES_FILE = Path("modules") / "network" / "interface_endpoints.yaml"


@cache
def allowed_services() -> tuple[str, ...]:
    """The short service names modules/network may create interface endpoints for."""
    try:
        services = yaml.safe_load((ROOT / SERVICES_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RenderError(f"{SERVICES_FILE}: cannot read the interface endpoint services "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not (isinstance(services, list) and services and all(isinstance(s, str) and s for s in services)):
        raise RenderError(f"{SERVICES_FILE}: must be a YAML list of service names such as ecr.api")
    return tuple(services)


def check_services(services: list[str]) -> list[str]:
    """For the env YAML's network.interface_endpoints: known names, each once."""
    allowed = allowed_services()
    unknown = [s for s in services if s not in allowed]
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))} not among the services of {SERVICES_FILE}: "
                         f"{', '.join(allowed)}")
    repeated = sorted({s for s in services if services.count(s) > 1})
    if repeated:
        raise ValueError(f"each service once: {', '.join(repeated)} given more than once")
    return services


def needed_without_nat(env: Environment) -> dict[str, str]:
    """Service -> why the tasks call it. Without NAT, each is reachable only through its endpoint.

    Fargate (platform 1.4.0+) pulls through ecr.api and ecr.dkr, the layers through the S3 gateway
    endpoint the module always creates (ECR User Guide, "Amazon ECR interface VPC endpoints"); the
    awslogs driver and secrets need logs, ssm and secretsmanager ("Amazon ECS interface VPC
    endpoints", ECS Developer Guide). ECS Exec, always on (modules/ecs), needs the Session
    Manager channel (ssmmessages) and, as its sessions are encrypted with the environment's key,
    kms. The app signs its database and cache tokens locally: no rds or elasticache endpoint.
    """
    needed = {
        "ecr.api": "tasks pull their images from ECR",
        "ecr.dkr": "tasks pull their images from ECR",
        "logs": "the tasks' awslogs driver and ECS Exec write to CloudWatch Logs",
        "secretsmanager": "the migration task reads the database's master credentials from Secrets Manager",
        "ssmmessages": "ECS Exec opens its Session Manager channel",
        "kms": "ECS Exec encrypts its sessions with the environment's key",
    }
    if env.ssm.secure_parameters:
        needed["ssm"] = (f"tasks start with {', '.join(env.ssm.secure_parameters)} from Parameter Store "
                         "(ssm.secure_parameters)")
    return needed


def endpoint_problems(env: Environment) -> list[tuple[tuple[str, ...], str]]:
    """(key path, reason) when nat is "none" and an endpoint the tasks need is missing."""
    if env.network.nat != "none":
        return []
    missing = {s: why for s, why in needed_without_nat(env).items() if s not in env.network.interface_endpoints}
    if not missing:
        return []
    by_reason: dict[str, list[str]] = {}
    for service, why in missing.items():
        by_reason.setdefault(why, []).append(service)
    reasons = "; ".join(f"{' and '.join(services)} ({why})" for why, services in by_reason.items())
    return [(("network", "interface_endpoints"),
             f'nat "none" leaves the private subnets no way to AWS but interface endpoints; add {reasons}')]
