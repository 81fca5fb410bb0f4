"""OpenAI-style API errors: ``ApiError`` carries the status, message, type, code and parameter, and
renders the ``{"error": {...}}`` body that OpenAI clients expect. ``error_middleware`` makes that the
only error shape the router answers with: aiohttp's own errors (404, 405) are rendered the same way,
and an unexpected exception in a handler is logged once, counted, and answered with a JSON 500;
never a plain-text 500 or a traceback in the response."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["ApiError", "error_middleware"]

log = logging.getLogger("tara_router")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param

    def body(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status)


def error_middleware(on_internal_error: Callable[[], None]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """The outermost middleware: ``ApiError`` and aiohttp's HTTP errors as OpenAI-style JSON; any other
    exception logged with its traceback (its message withheld: it may quote the request), passed to
    ``on_internal_error`` and answered with a JSON 500."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return ApiError(exc.status, exc.reason, code=exc.reason.lower().replace(" ", "_")).response()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the last resort: whatever else a handler raises becomes a JSON 500
            on_internal_error()
            log.error("internal error on %s %s: %s (message withheld)\n%s", request.method, request.path,
                      type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)).rstrip())
            return ApiError(500, "internal error in the router; it has been logged", type_="internal_error",
                            code="internal_error").response()

    return middleware
