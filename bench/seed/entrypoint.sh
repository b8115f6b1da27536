#!/bin/sh
# The seed's entrypoint.sh. Differences: its wait for PostgreSQL (only when DATABASE=postgres,
# with nc, which the image lacks) is left out, and nginx starts directly: `service nginx start`
# would look for the pid file Debian's init script expects, not the one nginx.conf names.

poetry run python manage.py migrate
poetry run python manage.py collectstatic --no-input

# The seed's own construct, kept as written.
# shellcheck disable=SC2015
nginx -t && nginx || (nginx -t && exit 1)
exec poetry run gunicorn --workers 3 --bind 0.0.0.0:8000 config.wsgi:application
