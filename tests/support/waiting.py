"""Wait for a condition with a deadline instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    condition: Callable[[], Awaitable[T]], *, timeout: float = ..., interval: float = ..., message: str = ...
) -> T: ...


@overload
async def eventually(
    condition: Callable[[], T], *, timeout: float = ..., interval: float = ..., message: str = ...
) -> T: ...


async def eventually(
    condition: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05, message: str = ""
) -> Any:
    """Poll `condition` (sync or async) until it returns something truthy, and return that.

    An exception raised by the condition counts as "not yet"; the last one is shown on timeout.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    last_error: BaseException | None = None
    while True:
        try:
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            last, last_error = value, None
            if value:
                return value
        except Exception as error:
            last_error = error
        if time.monotonic() > deadline:
            detail = f"last error: {last_error!r}" if last_error is not None else f"last value: {last!r}"
            raise AssertionError(f"condition not met within {timeout} s: {message}; {detail}") from last_error
        await asyncio.sleep(interval)
