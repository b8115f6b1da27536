"""Django settings, read from the environment only (twelve-factor).

Unset DATABASE_URL / REDIS_URL give the embedded defaults (SQLite, local memory), so the app
runs with no service at all; production sets them. DEBUG is off unless asked for.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

from config.env import Env, parse_database_url
from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

DEBUG = env.bool("DEBUG", False)
# The region that AWS request signatures (database and cache IAM tokens) are made for.
_aws_region = env.str("AWS_REGION", "") or env.str("AWS_DEFAULT_REGION", "")

# Production must bring its own key: a default there would sign sessions with a public value.
SECRET_KEY = env.str("SECRET_KEY", None)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-key-never-used-with-debug-off"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # This project's app comes first: its `migrate` command (advisory lock) must shadow
    # Django's, and for management commands the first app in this list wins.
    "todo",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Third-party
    "axes",  # login throttling on every authentication path (see todo/auth_lockout.py)
    "csp",  # the Content-Security-Policy header ("Security" below)
]

MIDDLEWARE = [
    # First: answers the ALB's health checks, whose Host header is the task's private IP,
    # before SecurityMiddleware (HTTPS redirect) and CommonMiddleware (host validation).
    "todo.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that may answer early (CommonMiddleware's 400 for a bad host).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused login into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ---- Database ----
# A connection is kept for CONN_MAX_AGE seconds and checked before reuse, so a database
# failover or an idle-timeout close costs one reconnect instead of a 500.
_database_url = env.str("DATABASE_URL", "")
if _database_url:
    _default_db = parse_database_url(_database_url, password=env.str("DATABASE_PASSWORD", None))
else:
    _data_dir = Path(env.str("DATA_DIR", str(BASE_DIR / ".data")))
    _default_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_data_dir / "db.sqlite3")}
if _default_db["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, plus credentials that never sit in the environment (config/db/base.py):
    # the app's tasks sign a short-lived IAM token per connection (DATABASE_IAM_AUTH); the
    # migration task reads RDS's rotating master credentials from Secrets Manager
    # (DATABASE_CREDENTIALS_ARN) and, as master, creates the app's role (DATABASE_URL's user).
    _default_db["ENGINE"] = "config.db"
    _credentials_arn = env.str("DATABASE_CREDENTIALS_ARN", "")
    _iam_auth = env.bool("DATABASE_IAM_AUTH", False)
    if _credentials_arn and _iam_auth:
        raise ImproperlyConfigured(
            "Set DATABASE_IAM_AUTH (the app) or DATABASE_CREDENTIALS_ARN (the migration task), "
            "not both."
        )
    if _credentials_arn:
        if len(_credentials_arn.split(":")) < 7 or not _credentials_arn.startswith("arn:"):
            raise ImproperlyConfigured(
                f"DATABASE_CREDENTIALS_ARN={_credentials_arn!r} is not a Secrets Manager ARN."
            )
        _default_db["CREDENTIALS_ARN"] = _credentials_arn
        _default_db["CREDENTIALS_TTL"] = env.int("DATABASE_CREDENTIALS_TTL", 300)
    if _iam_auth:
        # The token is a bearer credential for 15 minutes: only to a server whose certificate
        # and host name check out against the CA bundle (RDS's, shipped in the image).
        _tls = _default_db["OPTIONS"]
        if _tls.get("sslmode") != "verify-full" or not _tls.get("sslrootcert"):
            raise ImproperlyConfigured(
                "DATABASE_IAM_AUTH needs sslmode=verify-full and sslrootcert=<CA bundle> in "
                "DATABASE_URL."
            )
        if not _aws_region:
            raise ImproperlyConfigured(
                "DATABASE_IAM_AUTH needs AWS_REGION (the region that signs the token)."
            )
        _default_db["IAM_AUTH"], _default_db["IAM_REGION"] = True, _aws_region
    # A vanished primary (an RDS failover moves the endpoint; the old address answers nothing)
    # must fail a request in seconds, not hang it until gunicorn kills the worker (30 s):
    # - connect_timeout bounds a new connection;
    # - tcp_user_timeout (ms) bounds a query on a pooled connection whose packets go
    #   unacknowledged: libpq then drops it instead of retransmitting for ~15 minutes;
    # - TCP keepalives find an idle pooled connection dead within 10 + 3 x 5 s, so its next
    #   use fails at once. A DATABASE_URL query parameter of the same name wins over these.
    # Worst case for one request: tcp_user_timeout + connect_timeout (15 s) < gunicorn's 30 s.
    # https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS
    _tcp_options = {
        "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", 5),
        "tcp_user_timeout": 1000 * env.int("DATABASE_TCP_TIMEOUT", 10),
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    for _name, _value in _tcp_options.items():
        _default_db["OPTIONS"].setdefault(_name, _value)
    # After a connection attempt finds no server, new connections are refused at once (a 503
    # page without the wait) for about this long before one tries again (config/db/circuit.py).
    _default_db["RETRY_SECONDS"] = env.int("DATABASE_RETRY_SECONDS", 5)
    _default_db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", 60)
    _default_db["CONN_HEALTH_CHECKS"] = True
    _default_db["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", None)}
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The `migrate` command's limits on its own session (todo/management/commands/migrate.py): an
# ALTER that waits longer than MIGRATION_LOCK_TIMEOUT for a busy table fails (and the release
# with it) instead of queueing every query behind its lock request; no statement runs longer
# than MIGRATION_STATEMENT_TIMEOUT. Seconds; 0 turns a limit off.
MIGRATION_LOCK_TIMEOUT = env.int("MIGRATION_LOCK_TIMEOUT", 5)
MIGRATION_STATEMENT_TIMEOUT = env.int("MIGRATION_STATEMENT_TIMEOUT", 600)
if min(MIGRATION_LOCK_TIMEOUT, MIGRATION_STATEMENT_TIMEOUT) < 0:
    raise ImproperlyConfigured(
        "MIGRATION_LOCK_TIMEOUT and MIGRATION_STATEMENT_TIMEOUT must be 0 (off) or more."
    )

# ---- Cache and sessions ----
_redis_url = env.str("REDIS_URL", "")
if _redis_url:
    CACHES = {
        "default": {
            # Django's RedisCache, except that an unreachable Redis reads as a miss instead of
            # a 500: pages keep working on the database alone (config/cache.py).
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", "todo"),
            # After a failure, Redis is left alone this long before the next attempt.
            "RETRY_AFTER": env.int("REDIS_RETRY_SECONDS", 5),
            # Timeouts keep a dead Redis from hanging requests and the readiness check.
            "OPTIONS": {
                "socket_connect_timeout": env.int("REDIS_CONNECT_TIMEOUT", 3),
                "socket_timeout": env.int("REDIS_SOCKET_TIMEOUT", 3),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", "todo"),
        }
    }
# The release this process runs (the image's commit, baked in at build time; "local" elsewhere).
# Cached markup is keyed by it, so tasks of two releases side by side during a rollout never
# serve each other's HTML. Only the markup: sessions and login counters outlive a release.
RELEASE_ID = env.str("RELEASE_ID", "") or "local"
# Reads come from the cache, the database keeps sessions across a cache flush or failover.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# ---- Cache authentication ----
# ElastiCache with IAM: each new connection authenticates as REDIS_IAM_USER with a token
# signed for the replication group REDIS_IAM_CACHE_NAME (config/cache_auth.py); no password.
_redis_iam_user = env.str("REDIS_IAM_USER", "")
if _redis_iam_user:
    from config.cache_auth import ElastiCacheIAMProvider

    _cache_name = env.str("REDIS_IAM_CACHE_NAME", "")
    if not (_redis_url.startswith("rediss://") and _cache_name and _aws_region):
        raise ImproperlyConfigured(
            "REDIS_IAM_USER needs a TLS REDIS_URL (rediss://), REDIS_IAM_CACHE_NAME (the "
            "replication group ID) and AWS_REGION."
        )
    CACHES["default"].setdefault("OPTIONS", {})["credential_provider"] = ElastiCacheIAMProvider(
        _redis_iam_user, _cache_name, _aws_region
    )

# ---- Authentication ----
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "todo:list"
LOGOUT_REDIRECT_URL = "login"
# Password guessing, on every path that authenticates (the login page, /admin/login/): the
# axes backend comes first, so each attempt takes its ticket before any password is checked.
# Then Django's ModelBackend reading the session's user from the cache (todo/auth_backend.py);
# the plain ModelBackend last only resolves sessions made before the cached one was listed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "todo.auth_backend.CachedModelBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Per window of LOGIN_LOCKOUT_SECONDS: LOGIN_MAX_FAILURES attempts per (user name, client
# address), LOGIN_MAX_FAILURES_PER_ADDRESS per address whatever the user name (an office
# behind one NAT address holds several users). A successful login gives its attempt back.
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("LOGIN_MAX_FAILURES_PER_ADDRESS", 4 * LOGIN_MAX_FAILURES)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", 900)
if min(LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS, LOGIN_LOCKOUT_SECONDS) < 1:
    raise ImproperlyConfigured(
        "LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS and LOGIN_LOCKOUT_SECONDS must be 1 "
        "or more."
    )
AXES_HANDLER = "todo.auth_lockout.TicketCacheHandler"
AXES_CACHE = "default"  # Redis in production: one count across every task
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_USERNAME_CALLABLE = "todo.auth_lockout.normalised_username"
AXES_CLIENT_IP_CALLABLE = "todo.auth_lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "todo.auth_lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_ENABLE_ADMIN = False  # the attempt tables stay empty: counts live in the cache
AXES_VERBOSE = False  # no start-up banner; todo.auth_lockout logs each event as one JSON line
# How many proxies append to X-Forwarded-For in front of gunicorn (ALB + nginx = 2); 0 trusts
# none and uses the socket address, so a client cannot forge its IP by sending the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0)

# ---- Internationalisation ----
LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# ---- Static files ----
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Hashed names let nginx serve /static/ as immutable for a year.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ---- Security ----
HEALTH_CHECK_PATHS = ("/healthz", "/readyz")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Is the site served over HTTPS? An environment without a domain has an HTTP-only load
# balancer: there, a redirect to HTTPS would loop, HSTS would lock browsers out, and secure
# cookies would never come back, so login could not work. Everything else stays on.
HTTPS = env.bool("HTTPS", True)
if not DEBUG:
    SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", True)
    # The ALB probes over plain HTTP; a redirect there would mark every task unhealthy.
    SECURE_REDIRECT_EXEMPT = [rf"^{path.lstrip('/')}/?$" for path in HEALTH_CHECK_PATHS]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31_536_000) if HTTPS else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading is a commitment browsers keep for months after it is withdrawn, for every
    # subdomain: the owner of the domain opts in (SECURE_HSTS_PRELOAD=1), it is never a default.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
    # `check --deploy` asks for preloading (security.W021); not asking is the decision above.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SESSION_COOKIE_SECURE = HTTPS
    CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
# Only this origin's own files run or style a page: no inline script or style, no plugin, no
# other origin; an injected <script> or style attribute does nothing. The templates hold no
# inline code (tests/test_csp.py parses every page for it).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "object-src": [csp.NONE],
    }
}

# ---- Logging ----
LOGGING = logging_config(env.str("LOG_LEVEL", "INFO"))
