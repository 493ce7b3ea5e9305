"""The shared page kit on its own: CSRF tokens, the rate limit and the form reader (catalogues: tests/i18n)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from shared.web.csrf import CSRF_COOKIE, CsrfProtection
from shared.web.i18n import translate
from shared.web.pages import FormTooLarge, choose_language, read_form
from shared.web.ratelimit import SlidingWindowLimiter


def request(cookies: dict[str, str] | None = None, query: str = "", body: bytes = b"",
            content_type: str = "application/x-www-form-urlencoded") -> Request:
    cookie_header = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    headers = [(b"cookie", cookie_header.encode()), (b"content-type", content_type.encode())]
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": query.encode(), "headers": headers}
    return Request(scope, receive)


def test_the_existing_translate_api_still_answers_with_page_messages() -> None:
    import shared.web.pages  # noqa: F401 - registers the kit's catalog

    assert translate("page.skip-to-content", "nn") == "Hopp til hovudinnhaldet"
    assert translate("problem.round-closed", "nb") == "Runden er stengt"


def test_language_comes_from_the_query_then_the_cookie_then_the_region() -> None:
    assert choose_language(request(query="lang=en", cookies={"kp_lang": "nb"}), "nn") == "en"
    assert choose_language(request(cookies={"kp_lang": "nb"}), "nn") == "nb"
    assert choose_language(request(), "nn") == "nn"
    assert choose_language(request(query="lang=xx"), None) == "nb"


def test_csrf_token_is_accepted_only_with_its_own_cookie() -> None:
    csrf = CsrfProtection("a-secret-that-is-long-enough-for-tests-0123")
    token = csrf.token_for("cookie-value-1234567890abcdef")
    assert csrf.verify(request({CSRF_COOKIE: "cookie-value-1234567890abcdef"}), token)
    assert not csrf.verify(request({CSRF_COOKIE: "another-cookie-1234567890abcdef"}), token)
    assert not csrf.verify(request(), token)
    assert not csrf.verify(request({CSRF_COOKIE: "cookie-value-1234567890abcdef"}), None)
    forged = CsrfProtection("another-secret-that-is-long-enough-0123").token_for("cookie-value-1234567890abcdef")
    assert not csrf.verify(request({CSRF_COOKIE: "cookie-value-1234567890abcdef"}), forged)


def test_sliding_window_refuses_the_eleventh_post_in_a_minute_and_forgets_old_ones() -> None:
    limiter = SlidingWindowLimiter(limit=10, window_seconds=60)
    assert all(limiter.hit("10.0.0.1", now=float(i)) is None for i in range(10))
    retry_after = limiter.hit("10.0.0.1", now=10.0)
    assert retry_after == pytest.approx(50.0)
    assert limiter.hit("10.0.0.2", now=10.0) is None  # per client
    assert limiter.hit("10.0.0.1", now=60.5) is None  # the first hit has left the window


async def test_form_reader_refuses_a_body_over_the_limit() -> None:
    values = await read_form(request(body=b"a=1&b=%C3%B8&b=2"), max_bytes=100)
    assert values.get("a") == "1" and values.getlist("b") == ["ø", "2"]
    with pytest.raises(FormTooLarge):
        await read_form(request(body=b"x=" + b"y" * 200), max_bytes=100)
