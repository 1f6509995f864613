"""No page of this service is kept by a browser or a proxy (issue #12).

Clinic PCs are shared: a page with a patient's record left in the browser's cache can be read
by the next person at the desk (the back button, the cache on disk), and a proxy must never
keep one. So every response that reaches Django carries ``Cache-Control: no-store`` with
``private``, ``no-cache``, ``must-revalidate`` and ``max-age=0`` (Django's ``never_cache``),
and ``Pragma: no-cache`` for HTTP/1.0 caches. Static files never get here: WhiteNoise, above
this middleware in ``MIDDLEWARE``, serves them with their own long-lived headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):  # a view's own no-store is kept as it is
            add_never_cache_headers(response)
        response.setdefault("Pragma", "no-cache")
        return response
