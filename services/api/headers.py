"""Security headers on every response, and the API docs page under a strict CSP.

The operator UI loads only its own files (no inline script or style, ECharts vendored), so
its Content-Security-Policy allows nothing but ``'self'``; styles the UI computes at run time
are set through the CSSOM (``element.style``), which a CSP does not block. Framing is refused
(``frame-ancestors 'none'``), MIME sniffing off, no referrer leaves the page. API answers are
``Cache-Control: no-store`` (they carry plant data and tokens). The Swagger page at
``/api/v1/docs`` loads Swagger UI from its CDN, so its CSP names that host and the hash of its
one inline script (computed from the page itself).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}
SWAGGER_CDN = "https://cdn.jsdelivr.net"


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task or body buffering): adds ``HEADERS`` unless the
    route set its own, and ``Cache-Control: no-store`` on ``/api/`` answers without one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if api:
                    headers.setdefault("cache-control", "no-store")
                if scope.get("scheme") == "https":
                    headers.setdefault("strict-transport-security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def docs_page(title: str, openapi_url: str) -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url=openapi_url, title=title)
    html = bytes(page.body).decode()
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in re.findall(r"<script>(.*?)</script>", html, flags=re.S))
    csp = (f"default-src 'self'; script-src 'self' {SWAGGER_CDN} {hashes}; style-src 'self' {SWAGGER_CDN}; "
           f"img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'")
    page.headers["content-security-policy"] = csp
    return page


def install(app: FastAPI, docs_url: str, openapi_url: str, cors_origins: list[str]) -> None:
    """Security headers on every answer, the docs page, and CORS only for configured origins."""

    async def docs(_: Request) -> HTMLResponse:
        return docs_page(f"{app.title} - Swagger UI", openapi_url)

    app.router.add_route(docs_url, docs, methods=["GET"], include_in_schema=False)
    if cors_origins:  # off by default: the UI is served from the API's own origin
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type"])
    app.add_middleware(SecurityHeaders)
