"""Request bodies: a JSON object read strictly, and a 422 (SV422) naming the field (`details`, a
dotted path) and the form it takes (`hint`) when it is anything else.

    body = await bodies.read(request, CheckoutRequest)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from sync.errors import ApiError, printable, quoted

# The UUID the database's own messages show (private.uuid_arg).
EXAMPLE_UUID = "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b"
UUID_FORM = f'a UUID such as "{EXAMPLE_UUID}"'
# Python reads longer integers only on request (sys.set_int_max_str_digits).
_MAX_DIGITS = 4300


class JsonBody(BaseModel):
    """A request body: a JSON object of these keys and no others (a misspelt optional key would
    otherwise be dropped without a word: `promocode` would buy at full price)."""

    model_config = ConfigDict(extra="forbid")

    # The form each field takes, for messages ("a UUID such as ..."), and a whole body to send.
    forms: ClassVar[dict[str, str]] = {}
    example: ClassVar[str] = "{}"


Body = TypeVar("Body", bound=JsonBody)


class _LongNumber:
    """A JSON integer too long for Python to read: the model refuses it, describe() says so."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


class _NotJson(ValueError):
    pass


class _Duplicate(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _int(text: str) -> int | _LongNumber:
    digits = len(text.lstrip("-"))
    return _LongNumber(digits) if digits > _MAX_DIGITS else int(text)


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise _Duplicate(key)
        value[key] = item
    return value


def describe(value: Any) -> str:
    """What came, in a few words, quoting at most 60 characters of it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _LongNumber):
        return f"a number of {value.digits} digits"
    if isinstance(value, int | float):
        text = repr(value)
        return f"the number {text}" if len(text) <= 60 else f"a number of {len(text)} digits"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        return f"a string of {_count(len(value), 'character')} ({quoted(value)})"
    if isinstance(value, list):
        return f"a list of {_count(len(value), 'item')}" if value else "an empty list"
    if isinstance(value, dict):
        return f"an object of {_count(len(value), 'key')}" if value else "an empty object"
    return f"a {type(value).__name__}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _body_refusal(model: type[JsonBody], got: str) -> ApiError:
    return ApiError.message(
        422,
        f"body: expected a JSON object such as {model.example}: got {got}",
        details="body",
        hint=f"Send a JSON object such as {model.example}.",
    )


async def read(request: Request, model: type[Body]) -> Body:
    """The request's body as `model`; an ApiError (415, 422) naming what is wrong otherwise."""
    content_type = request.headers.get("content-type")
    if not _is_json(content_type):
        got = quoted(content_type) if content_type else "none"
        raise ApiError.message(
            415,
            f"Content-Type: expected application/json: got {got}",
            details="Content-Type",
            hint=f"Send a JSON object such as {model.example} with Content-Type: application/json.",
        )
    raw = await request.body()
    if not raw.strip():
        raise _body_refusal(model, "an empty body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _body_refusal(model, f"bytes that are not UTF-8 (at byte {e.start})") from e
    try:
        value = json.loads(
            text, parse_constant=_constant, parse_int=_int, object_pairs_hook=_object
        )
    except json.JSONDecodeError as e:
        raise _body_refusal(
            model, f"text that is not JSON ({e.msg} at line {e.lineno} column {e.colno})"
        ) from e
    except _NotJson as e:
        raise _body_refusal(model, f"text that is not JSON ({e})") from e
    except _Duplicate as e:
        key = printable(e.key, 60)
        raise ApiError.message(
            422,
            f"{key}: the key appears more than once",
            details=key,
            hint=f"Send each key once, as in {model.example}.",
        ) from e
    except RecursionError as e:
        raise _body_refusal(model, "JSON nested too deeply to read") from e
    if not isinstance(value, dict):
        raise _body_refusal(model, describe(value))
    try:
        return model.model_validate(value)
    except ValidationError as e:
        raise refusal(list(e.errors()), model) from e


def refusal(errors: Sequence[Any], model: type[JsonBody] | None = None) -> ApiError:
    """The 422 for the first of pydantic's (or FastAPI's) validation errors: the field as a dotted
    path (FastAPI's "body" prefix dropped; "query.limit" for a query parameter), the form it
    takes, what came instead."""
    error = errors[0]
    loc = [str(part) for part in error.get("loc", ())]
    if loc[:1] == ["body"]:
        loc = loc[1:]
    path = ".".join(printable(part, 60) for part in loc) or "body"
    forms = model.forms if model else {}
    example = model.example if model else None
    kind = error.get("type")
    hint: str | None
    if kind == "json_invalid":  # FastAPI read the body itself
        path = "body"
        message = "body: expected JSON: got text that is not JSON"
        hint = f"Send a JSON object such as {example}." if example else "Send JSON."
    elif kind == "extra_forbidden":
        keys = " and ".join(forms) if forms else "the documented keys"
        message = f"{path}: unknown key: expected only {keys}"
        hint = f"Send only {keys}, as in {example}." if example else f"Send only {keys}."
    else:
        form = forms.get(loc[0]) if len(loc) == 1 else None
        got = "nothing (the key is missing)" if kind == "missing" else describe(error.get("input"))
        if form:
            message = f"{path}: expected {form}: got {got}"
            hint = f"Send {path} as {form}."
        else:  # a parameter FastAPI validated: pydantic's words ("Input should be ...")
            said = printable(str(error.get("msg") or "invalid"), 200)
            message = f"{path}: {said[:1].lower()}{said[1:]}: got {got}"
            hint = None
    return ApiError.message(422, message, details=path, hint=hint)


def openapi(model: type[JsonBody]) -> dict[str, Any]:
    """The route's OpenAPI request body (the route reads the body itself, so FastAPI cannot
    infer it)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
