"""OpenAI-style API errors: ``ApiError`` carries the status, message, type, code and parameter, and
renders the ``{"error": {...}}`` body that OpenAI clients expect."""

from __future__ import annotations

from aiohttp import web

__all__ = ["ApiError"]


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param

    def response(self) -> web.Response:
        return web.json_response({"error": {"message": self.message, "type": self.type, "param": self.param,
                                            "code": self.code}}, status=self.status)
