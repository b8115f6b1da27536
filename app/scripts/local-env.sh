# shellcheck shell=bash
# Defaults for running the production settings on this machine (make serve / make manage):
# DEBUG stays off as in production; only what plain-HTTP localhost needs is relaxed.
# Sourced, not run. Anything already set in the environment wins.

APP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export APP_DIR
export DATA_DIR="${DATA_DIR:-$APP_DIR/.data}"
mkdir -p "$DATA_DIR"

# A key kept across restarts so sessions survive them; never committed (.data/ is ignored).
if [[ -z "${SECRET_KEY:-}" ]]; then
    if [[ ! -s "$DATA_DIR/secret_key" ]]; then
        (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n=' >"$DATA_DIR/secret_key")
    fi
    SECRET_KEY="$(cat "$DATA_DIR/secret_key")"
fi
export SECRET_KEY

export PORT="${PORT:-8080}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}"
# No TLS terminator in front locally: the site is plain HTTP. HTTPS=0 keeps the session and
# CSRF cookies non-Secure (a client that is not a browser treating localhost as secure, such as
# curl or a load generator, never sends a Secure cookie back over http) and HSTS off; the
# redirect to https would make the site unreachable.
export HTTPS="${HTTPS:-0}"
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-0}"
export PYTHON="${PYTHON:-$APP_DIR/.venv/bin/python}"
