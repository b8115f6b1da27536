"""Image figures for `make bench`: sizes, layers and the start of the images, beside the seed's
single image (bench/seed/Dockerfile) built and started the same way on the same base."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from . import build, task
from .podman import ROOT, ImageError, log, podman

SEED_DIR = ROOT / "bench" / "seed"
SEED_LOCK = ROOT / "bench" / "seed-requirements.lock"
SEED_IMAGE = "localhost/todo-seed:local"
SEED_CONTAINER = "todo-local-seed"
# Targets (uncompressed, as podman reports sizes): what the app image adds above its Python base
# (the venv and the code, nothing else), and both images together on the stand-in bases.
ADDED_TARGET_MB = 100
SIZE_TARGET_MB = 450


def build_seed(python_image: str) -> float:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="build-home-") as folder:
        podman("build", "--quiet", "--layers", "--network=host", "--pull=never",
               *build.host_ca_volumes(Path(folder)), "--volume", f"{SEED_LOCK}:/run/seed-poetry.lock:ro",
               f"--build-arg=PYTHON_IMAGE={python_image}", f"--build-context=seed={SEED_DIR}",
               "--tag", SEED_IMAGE, "--file", str(SEED_DIR / "Dockerfile"), str(build.APP_DIR), timeout=3600)
    return round(time.monotonic() - started, 1)


def image_facts(ref: str) -> dict[str, float]:
    out = podman("image", "inspect", "--format", "{{.Size}} {{len .RootFS.Layers}}", ref).stdout.split()
    return {"size_mb": round(int(out[0]) / 1e6, 1), "layers": int(out[1])}


def _seed_start(database_url: str, redis_url: str) -> float:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_urlsafe(50),
           "ALLOWED_HOSTS": "localhost,127.0.0.1", "HTTPS": "0", "STATIC_ROOT": "/srv/static"}
    env_file = Path(tempfile.mkdtemp(prefix="seed-env-")) / "seed.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    try:
        started = time.monotonic()
        podman("run", "--detach", f"--name={SEED_CONTAINER}", "--network=host", f"--env-file={env_file}", SEED_IMAGE)
        task.wait_http(f"http://127.0.0.1:{task.PROXY_PORT}/healthz", 300, SEED_CONTAINER)
        return time.monotonic() - started
    finally:
        podman("rm", "--force", "--time=10", SEED_CONTAINER, check=False, timeout=120)
        env_file.unlink()
        env_file.parent.rmdir()


def measure(database_url: str, redis_url: str, rounds: int = 2) -> dict:
    """Builds (timed; warm when the layers are cached), then starts each image `rounds` times."""
    built = build.build()
    figures: dict = {"build_s": built["seconds"]}
    base_args = built["bases"]
    figures["build_s"]["seed"] = build_seed(base_args["PYTHON_IMAGE"])
    figures["stand_in_bases"] = base_args["PYTHON_IMAGE"].startswith("localhost/")
    figures["images"] = {name: image_facts(ref) for name, ref in
                         {**build.TARGETS, "seed": SEED_IMAGE, "python base": base_args["PYTHON_IMAGE"],
                          "nginx base": base_args["NGINX_IMAGE"]}.items()}
    project, seed = [], []
    try:
        for index in range(rounds):
            up = task.up(database_url, redis_url)  # the migration first, as a deployment does; not part of the start
            project.append(up["app_healthy_s"] + up["proxy_ready_s"])
            task.down(quiet=True)
            seed.append(_seed_start(database_url, redis_url))
            log(f"image start {index + 1}/{rounds}: project {project[-1]:.1f} s, seed {seed[-1]:.1f} s")
    finally:
        task.down(quiet=True)
    figures["start_s"] = {"project": round(statistics.median(project), 2), "seed": round(statistics.median(seed), 2)}
    return figures


def markdown(figures: dict) -> str:
    images = figures["images"]
    project = images["app"]["size_mb"] + images["proxy"]["size_mb"]
    seed = images["seed"]["size_mb"]
    base = images["python base"]["size_mb"]
    lines = [
        "| image | size | layers | build, this run (s) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in ("app", "proxy", "seed", "python base", "nginx base"):
        built = figures["build_s"].get(name)
        lines.append(f"| {name} | {images[name]['size_mb']:.0f} MB | {images[name]['layers']} | "
                     f"{'' if built is None else f'{built:.0f}'} |")
    added = images["app"]["size_mb"] - base
    lines += [
        "",
        f"Above the Python base, the app image adds {added:.0f} MB (target <= {ADDED_TARGET_MB} MB: "
        f"{'met' if added <= ADDED_TARGET_MB else '**not met**'}) and the seed's {seed - base:.0f} MB (nginx "
        f"and its packages, poetry, pip's caches, apt lists, the build context). app + proxy: {project:.0f} MB "
        f"(target <= {SIZE_TARGET_MB} MB on stand-in bases: {'met' if project <= SIZE_TARGET_MB else '**not met**'}"
        f"); the seed's one image: {seed:.0f} MB.",
        f"`podman run` to the first 200 from /healthz through nginx: project {figures['start_s']['project']:.1f} s "
        f"(app until its health check passes, then the proxy, as ECS orders them), seed "
        f"{figures['start_s']['seed']:.1f} s (its entrypoint migrates, collects static files, then starts).",
    ]
    lines.append("Build times are this run's: layers whose inputs did not change come from podman's cache.")
    if figures["stand_in_bases"]:
        lines.append("Built on stand-in bases (the registries were unreachable): sizes differ from the "
                     "official images' (see README, Images).")
    return "\n".join(lines)


def update_readme(text: str) -> bool:
    """Replaces the README's text between the images markers; False when there are none."""
    readme = ROOT / "README.md"
    content = readme.read_text(encoding="utf-8")
    start, end = "<!-- images:start -->", "<!-- images:end -->"
    if start not in content or end not in content:
        return False
    head, rest = content.split(start, 1)
    readme.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")
    return True


def main(rounds: int = 2) -> dict:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url.startswith("redis"):
        raise ImageError("the image bench needs DATABASE_URL (postgres://...) and REDIS_URL")
    figures = measure(database_url, redis_url, rounds)
    print(markdown(figures))
    return figures


if __name__ == "__main__":
    print(json.dumps(main()))
