#!/usr/bin/env bash
# Check that a hashed lock installs from wheels alone on Linux of each architecture the project
# runs on: CPython 3.11 with glibc 2.36 at most (python:3.11-slim-bookworm, the image's base,
# which has no compiler). The image build installs app/requirements.lock with --require-hashes
# on the tasks' architecture (ecs.cpu_architecture, ARM64 by default) and the release program
# deploy/requirements.lock on CodeBuild of it, so a package without a wheel of that
# architecture, or whose wheel's hash the lock lacks, would fail only there.
#
#   check-lock-wheels.sh PIP LOCK [ARCH ...]     ARCH: x86_64, aarch64 (default: both)
#
# Needs the package index (pip downloads into a temporary folder); `make lock` runs it.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 PIP LOCK [ARCH ...]" >&2
  exit 2
fi
pip="$1"
lock="$2"
shift 2
architectures=("$@")
if [[ ${#architectures[@]} -eq 0 ]]; then
  architectures=(x86_64 aarch64)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for arch in "${architectures[@]}"; do
  # pip matches the tags given, not older ones: list every manylinux up to glibc 2.36 and the
  # legacy aliases (manylinux1 = 2.5, manylinux2010 = 2.12, manylinux2014 = 2.17).
  platforms=()
  for minor in $(seq 5 36); do
    platforms+=(--platform "manylinux_2_${minor}_${arch}")
  done
  for alias in manylinux1 manylinux2010 manylinux2014; do
    platforms+=(--platform "${alias}_${arch}")
  done
  if ! "$pip" download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: --python-version 3.11 --implementation cp "${platforms[@]}" \
    --requirement "$lock" --dest "$tmp/$arch" >"$tmp/log" 2>&1; then
    grep '^ERROR' "$tmp/log" >&2 || cat "$tmp/log" >&2
    echo "$lock: some package has no Linux $arch wheel whose hash the lock holds" >&2
    exit 1
  fi
  echo "$lock: every package has a Linux $arch wheel"
done
