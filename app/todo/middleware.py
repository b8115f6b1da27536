from django.conf import settings

from todo import health


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before anything reads the Host header.

    The ALB's health checks carry the task's private IP as Host, which ALLOWED_HOSTS rightly
    rejects; placed first in MIDDLEWARE, this answers them without host validation, HTTPS
    redirect, sessions or CSRF. Nothing else is reachable this way.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths = {path.rstrip("/") for path in settings.HEALTH_CHECK_PATHS}

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        if path in self.paths and request.method in ("GET", "HEAD"):
            return health.liveness() if path == "/healthz" else health.readiness()
        return self.get_response(request)
