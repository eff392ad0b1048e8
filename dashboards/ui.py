"""What every page shares: the settings, the signed-in person, their API, reads cached per
session for a short time (cleared after the person's own change), and errors shown as the API's
message, never a traceback."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from dashboards import auth
from dashboards.api import Api, ApiError
from dashboards.settings import DashboardSettings, cached

T = TypeVar("T")
SIGNED_IN = "signed_in"
CACHE = "reads"


def settings() -> DashboardSettings:
    return cached()


def signed_in() -> auth.SignedIn | None:
    """The person signed in this session, their token refreshed when it is about to expire."""
    signed: auth.SignedIn | None = st.session_state.get(SIGNED_IN)
    if signed is None:
        return None
    try:
        current = auth.fresh(settings(), signed)
    except auth.SignInError as e:
        sign_out()
        st.warning(str(e))
        return None
    if current is not signed:
        st.session_state[SIGNED_IN] = current
    return current


def me() -> auth.SignedIn:
    signed = signed_in()
    if signed is None:
        st.stop()
    return signed


def sign_in(signed: auth.SignedIn) -> None:
    st.session_state[SIGNED_IN] = signed
    st.session_state.pop(CACHE, None)


def sign_out() -> None:
    st.session_state.pop(SIGNED_IN, None)
    st.session_state.pop(CACHE, None)


def api() -> Api:
    return me().api(settings())


RENDER = "render"


def new_render() -> None:
    """Called by the entry point at the start of every run: reads are shared within one run
    even with MENTORSHIPS_DASHBOARDS_CACHE_SECONDS=0."""
    st.session_state[RENDER] = st.session_state.get(RENDER, 0) + 1


def read(key: tuple[Any, ...], fetch: Callable[[], T]) -> T:
    """`fetch()`'s answer, reused within this run of the page and for
    MENTORSHIPS_DASHBOARDS_CACHE_SECONDS within this session."""
    store: dict[tuple[Any, ...], tuple[float, int, Any]] = st.session_state.setdefault(CACHE, {})
    hit = store.get(key)
    now = time.monotonic()
    render = st.session_state.get(RENDER, 0)
    if hit is not None and (hit[1] == render or now - hit[0] < settings().dashboards_cache_seconds):
        value: T = hit[2]
        return value
    value = fetch()
    store[key] = (now, render, value)
    return value


def changed() -> None:
    """After the person's own change: their next reads go to the API again."""
    st.session_state.pop(CACHE, None)


@contextmanager
def shown_errors(what: str = "") -> Iterator[None]:
    """An API refusal inside becomes an error box with its message (and stops nothing else)."""
    try:
        yield
    except ApiError as e:
        st.error(f"{what}: {e}" if what else str(e), icon=":material/error:")


def rows_or_stop(
    key: tuple[Any, ...], fetch: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """A read for the page; on a refusal its message is shown and the page stops there."""
    try:
        return read(key, fetch)
    except ApiError as e:
        st.error(str(e), icon=":material/error:")
        st.stop()


def now() -> dt.datetime:
    """The instant the rules read as now (`platform_now`: a frozen demo or test clock too)."""
    value = read(("platform_now",), lambda: api().rpc("platform_now", read=True))
    return dt.datetime.fromisoformat(str(value))
