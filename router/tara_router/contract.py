"""The request contract: pydantic models of the OpenAI chat-completions and completions requests the
router accepts, and of the error body it answers with. ``/openapi.json`` is generated from them.

Why a closed contract. Everything the router forwards to llama-server has been checked here first,
so a bad request is a 400 that names its parameter instead of llama-server's error (or its plain
500). The models are strict (``"1"`` is not a number, ``1`` is not a boolean) and forbid unknown
fields, like OpenAI's own API ("Unrecognized request argument supplied"):

- fields llama-server reads but the router owns are refused, not passed through: ``lora`` (the
  router selects the adapter; the crisis path must not be overridable), ``n_predict`` (it would
  bypass the ``max_tokens`` cap), ``id_slot``, ``n_keep``, ``grammar`` and the like;
- a few harmless llama-server sampling extras are part of the contract, typed: ``top_k``,
  ``min_p``, ``typical_p``, ``repeat_penalty``, ``repeat_last_n``, ``cache_prompt``.

Decisions recorded in the models: ``n`` must be 1 (llama-server's limit is its ``--parallel``, which
the router cannot see); ``max_tokens`` (or ``max_completion_tokens``) must be at least 1 and is lowered
to the router's ``TARA_ROUTER_MAX_TOKENS`` (``RouterSettings.max_tokens``), which is also what a
request without one gets, so no answer is unbounded; content parts are text only; a completion's
``prompt`` is one non-empty string. The JSON depth and size limits are enforced before these models
see a body (``validation``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

__all__ = ["AssistantMessage", "ChatRequest", "CompletionRequest", "ErrorBody", "ErrorDetail", "Message", "TextPart"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TextPart(_Strict):
    """One part of a message's content. Only text: the served models read no images, audio or files."""

    type: Literal["text"] = Field(description="Always 'text'; other part types are refused.")
    text: str

    @field_validator("type", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if value != "text":
            raise PydanticCustomError("unsupported_part", "only content parts of type 'text' are supported, not {got}",
                                      {"got": repr(value)[:40]})
        return value


Content = Annotated[str | Annotated[list[TextPart], Field(min_length=1)],
                    Field(description="A string, or an array of text parts (joined with spaces).")]


class _MessageBase(_Strict):
    name: str | None = Field(default=None, max_length=256, description="The author's name (passed to the chat template).")

    def text(self) -> str:
        """The message's text: the string, or its text parts joined with spaces."""
        content = getattr(self, "content", None)
        if isinstance(content, list):
            return " ".join(part.text for part in content)
        return content or ""


class SystemMessage(_MessageBase):
    role: Literal["system"]
    content: Content


class DeveloperMessage(_MessageBase):
    role: Literal["developer"]
    content: Content


class UserMessage(_MessageBase):
    role: Literal["user"]
    content: Content


class AssistantMessage(_MessageBase):
    role: Literal["assistant"]
    content: Content | None = Field(default=None, description="May be null or absent when the message has tool calls.")
    tool_calls: list[dict[str, Any]] | None = Field(default=None, description="Earlier tool calls, as OpenAI returns them.")


class ToolMessage(_MessageBase):
    role: Literal["tool"]
    content: Content
    tool_call_id: str


Message = Annotated[SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage, Discriminator("role")]


class StreamOptions(_Strict):
    include_usage: StrictBool | None = None


class ResponseFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = Field(default=None, description="For 'json_schema': {name, schema, strict}.")
    schema_: dict[str, Any] | None = Field(default=None, alias="schema", description="llama-server's form for 'json_object'.")


class FunctionDef(_Strict):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = Field(default=None, description="A JSON schema of the arguments.")
    strict: StrictBool | None = None


class Tool(_Strict):
    type: Literal["function"]
    function: FunctionDef


class _Sampling(_Strict):
    """Parameters both endpoints share. Every field may be null, meaning the default."""

    model: str | None = Field(default=None, description="tara-auto (default), tara-<domain> or tara-base; see GET /v1/models.")
    max_tokens: int | None = Field(default=None, ge=1, description="Most tokens to generate; lowered to the router's cap "
                                   "(TARA_ROUTER_MAX_TOKENS), which is also the default.")
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=1, description="Only 1: one answer per request.")
    stream: StrictBool | None = Field(default=None, description="Server-sent events; a stream that breaks ends with an error event.")
    stream_options: StreamOptions | None = None
    stop: str | Annotated[list[str], Field(max_length=16)] | None = Field(default=None, description="Up to 16 stop strings.")
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    logit_bias: dict[str, Annotated[float, Field(ge=-100, le=100)]] | None = Field(default=None, max_length=1024)
    user: str | None = Field(default=None, max_length=256)
    # llama-server's own sampling extras (harmless, typed)
    top_k: int | None = Field(default=None, ge=0, le=1_000_000, description="Beyond the vocabulary it changes nothing.")
    min_p: float | None = Field(default=None, ge=0, le=1)
    typical_p: float | None = Field(default=None, ge=0, le=1)
    repeat_penalty: float | None = Field(default=None, ge=0.1, le=10, description="1 = off; llama.cpp divides logits by it.")
    repeat_last_n: int | None = Field(default=None, ge=0, le=65_536,
                                      description="llama.cpp allocates a buffer of this many tokens per request.")
    cache_prompt: StrictBool | None = None

    def upstream_fields(self, max_tokens: int) -> dict[str, Any]:
        """What llama-server gets of this request: the fields the client set, nulls (defaults) and
        ``model`` left out, ``max_tokens`` capped at ``max_tokens`` (and set when absent)."""
        body = {k: v for k, v in self.model_dump(by_alias=True, exclude_unset=True).items() if v is not None}
        body.pop("model", None)
        asked = body.pop("max_completion_tokens", None) or body.get("max_tokens") or max_tokens
        body["max_tokens"] = min(asked, max_tokens)
        return body


class ChatRequest(_Sampling):
    """POST /v1/chat/completions."""

    messages: list[Message] = Field(min_length=1, description="The conversation, oldest first.")
    max_completion_tokens: int | None = Field(default=None, ge=1, description="OpenAI's newer name for max_tokens.")
    logprobs: StrictBool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[Tool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    parallel_tool_calls: StrictBool | None = None

    def user_turns(self) -> list[str]:
        """The text of the user's messages, oldest first: what routing and the crisis check read."""
        return [m.text() for m in self.messages if m.role == "user"]

    def upstream_messages(self) -> list[dict[str, Any]]:
        """The messages as llama-server gets them: the fields the client set, nulls left out except an
        assistant message's content (llama-server wants content or tool calls on each)."""
        out = []
        for m in self.messages:
            d = {k: v for k, v in m.model_dump(exclude_unset=True).items() if v is not None}
            if m.role == "assistant" and "content" not in d and "tool_calls" not in d:
                d["content"] = ""
            out.append(d)
        return out


class CompletionRequest(_Sampling):
    """POST /v1/completions."""

    prompt: str = Field(min_length=1, description="One prompt string.")
    logprobs: int | None = Field(default=None, ge=0, le=20, description="Top log-probabilities per token.")

    def user_turns(self) -> list[str]:
        return [self.prompt]


class ErrorDetail(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error, upstream_error, upstream_unavailable or internal_error.")
    param: str | None = Field(description="The offending parameter, e.g. messages[0].content[1].type.")
    code: str | None


class ErrorBody(BaseModel):
    """Every error response: OpenAI's shape."""

    error: ErrorDetail
