"""The HTTP transport of the gateway client when the caller gives none: httpx's own, minus the
TLS set-up a plain-http gateway never uses.

httpx builds its default transport with a verifying TLS context (the CA bundle loaded) when a
client is created, ~30 ms of CPU in every `odplan` process, whether or not any request is
https. Against a local gateway (`http://127.0.0.1:…`) none is: `http://` requests here go
through a transport whose TLS context is never used (and, holding no CA certificate, would
refuse any https peer rather than trust it); the verifying transport is created on the first
`https://` request, exactly as httpx would have made it.
"""

from __future__ import annotations

import ssl

import httpx

__all__ = ["ByScheme"]


class ByScheme(httpx.AsyncBaseTransport):
    """`http://` through a TLS-less pool, `https://` through httpx's default verifying one."""

    def __init__(self) -> None:
        # PROTOCOL_TLS_CLIENT verifies certificates and host names by default; with no CA
        # loaded it trusts nobody. It only ever sees plain-http origins (pools are per origin).
        self._plain = httpx.AsyncHTTPTransport(
            verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), trust_env=False
        )
        self._tls: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return await self._plain.handle_async_request(request)
        if self._tls is None:
            self._tls = httpx.AsyncHTTPTransport(trust_env=False)
        return await self._tls.handle_async_request(request)

    async def aclose(self) -> None:
        await self._plain.aclose()
        if self._tls is not None:
            await self._tls.aclose()
