"""System check accounts.E001: every URL pattern and API operation must declare an access rule."""
from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string

from .access import MissingRule, is_api_operation_view, rule_of_view


def iter_patterns(resolver=None, prefix=""):
    """Yield (route, pattern) for every URL pattern, depth first."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from iter_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def iter_api_operations():
    """Yield (route, method, operation) for every django-ninja operation. The API instance is named
    by a setting (API_INSTANCE): the project's wiring sits above every app, so no app imports it."""
    api = import_string(settings.API_INSTANCE)
    # django-ninja lists a router mounted on another one (routers' actions) in _routers only once
    # the API is bound, which serving the first request does: bind it here, or a check run before
    # any request would pass over those operations.
    api._get_bound_routers()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    route = "/".join(p.strip("/") for p in ("api", prefix, path) if p.strip("/"))
                    yield "/" + route, method, operation


def operation_rule(operation):
    rules = [getattr(cb, "rule", None) for cb in operation.auth_callbacks]
    if len(rules) != 1 or rules[0] is None:
        return None
    return rules[0]


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_access_rules(app_configs=None, **kwargs):
    errors = []
    for route, pattern in iter_patterns():
        if is_api_operation_view(pattern.callback) or rule_of_view(pattern.callback):
            continue
        errors.append(checks.Error(
            f"URL '{route}' ({pattern.name or pattern.lookup_str}) has no access rule",
            hint="Decorate the view with accounts.access.access(rule)",
            id="accounts.E001",
        ))
    for route, method, operation in iter_api_operations():
        if any(isinstance(cb, MissingRule) for cb in operation.auth_callbacks) or not operation_rule(operation):
            errors.append(checks.Error(
                f"API operation {method} {route} has no access rule",
                hint="Pass auth=api_access(rule) to the router decorator",
                id="accounts.E001",
            ))
    return errors
