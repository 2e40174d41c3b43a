"""The default transport: the standard library's HTTP client (the kit has no dependencies).

A transport is any ``Callable[[HttpRequest], HttpResponse]``; ``AsyncClient`` runs it in a
worker thread, so an application's event loop never blocks on the network."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from ogmint_client.core import HttpRequest, HttpResponse

Transport = Callable[[HttpRequest], HttpResponse]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # The API never redirects; following one could send the API key elsewhere.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def urllib_transport(timeout: float = 30.0) -> Transport:
    opener = urllib.request.build_opener(_NoRedirects)

    def send(request: HttpRequest) -> HttpResponse:
        req = urllib.request.Request(
            request.url, data=request.body, headers=request.headers, method=request.method
        )
        try:
            with opener.open(req, timeout=timeout) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                return HttpResponse(response.status, headers, response.read())
        except urllib.error.HTTPError as error:
            headers = {k.lower(): v for k, v in error.headers.items()}
            with error:
                return HttpResponse(error.code, headers, error.read())

    return send
