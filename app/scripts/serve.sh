#!/usr/bin/env bash
# The production stack without containers: nginx (the proxy image's config, rendered for this
# machine) in front of gunicorn (the app image's config). Foreground; Ctrl-C or SIGTERM stops
# both. Unlike the containers it migrates and collects static files first, for convenience.
set -euo pipefail

# shellcheck source=scripts/local-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/local-env.sh"
cd "$APP_DIR"

# Debian installs nginx in /usr/sbin, which is not on every user's PATH.
NGINX="${NGINX:-$(PATH="$PATH:/usr/sbin" command -v nginx || true)}"
if [[ -z "$NGINX" || ! -x "$NGINX" ]]; then
    echo "serve: nginx is not installed (apt-get install -y nginx)" >&2
    exit 127
fi

# As in the app image: log lines leave the process when written, not when a buffer fills.
export PYTHONUNBUFFERED=1

GUNICORN_PORT="${GUNICORN_PORT:-8000}"
export GUNICORN_BIND="127.0.0.1:$GUNICORN_PORT"
STATIC_ROOT="${STATIC_ROOT:-$APP_DIR/staticfiles}"
export STATIC_ROOT

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/todo-serve.XXXXXX")"

# Started as root (CI, a dev container), nginx's workers would drop to `nobody` and could not
# read a static root or temp dir inside a private home or temp folder: keep this user.
NGINX_GLOBALS="daemon off;"
if [[ "$(id -u)" == "0" ]]; then
    NGINX_GLOBALS+=" user root;"
fi

# Only the machine-specific values change (gunicorn's liveness listener is on its port + 1); the rest is the file the proxy image ships.
sed -e "s|listen 8080 |listen $PORT |" \
    -e "s|server 127.0.0.1:8000;|server 127.0.0.1:$GUNICORN_PORT;|" \
    -e "s|server 127.0.0.1:8001;|server 127.0.0.1:$((GUNICORN_PORT + 1));|" \
    -e "s|/srv/static/|$STATIC_ROOT/|" \
    -e "s|/tmp/nginx.pid|$RUN_DIR/nginx.pid|" \
    -e "s|/tmp/nginx_|$RUN_DIR/|" \
    nginx/nginx.conf >"$RUN_DIR/nginx.conf"

if [[ "${SERVE_RENDER_ONLY:-0}" == "1" ]]; then
    # For `make lint-app`: print where the rendered config is and stop.
    echo "$RUN_DIR/nginx.conf"
    exit 0
fi

pids=()
cleanup() {
    trap - INT TERM EXIT
    if ((${#pids[@]})); then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        # gunicorn finishes in-flight requests (graceful_timeout); past that, force it.
        for _ in {1..60}; do
            alive=0
            for pid in "${pids[@]}"; do
                kill -0 "$pid" 2>/dev/null && alive=1
            done
            ((alive)) || break
            sleep 0.5
        done
        kill -KILL "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "${SERVE_SKIP_SETUP:-0}" != "1" ]]; then
    "$PYTHON" manage.py migrate --no-input
    "$PYTHON" manage.py collectstatic --no-input --verbosity 0
fi

"$PYTHON" -m gunicorn --config gunicorn.conf.py &
pids+=("$!")
"$NGINX" -e stderr -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -g "$NGINX_GLOBALS" &
pids+=("$!")

echo "serve: http://localhost:$PORT/ (nginx -> gunicorn on 127.0.0.1:$GUNICORN_PORT)" >&2
# Whichever stops first stops the other: a half-running stack only hides the failure.
wait -n "${pids[@]}"
