"""The OpenAPI schema covers this API only (not Wagtail's own admin API)."""

API_PREFIX = "/api/v1/"


def only_this_api(endpoints, **kwargs):
    """drf-spectacular preprocessing hook: keep the endpoints under /api/v1/."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(API_PREFIX)]
