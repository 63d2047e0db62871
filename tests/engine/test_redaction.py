"""Secrets never survive into an error text, in whatever spelling the vendor echoed them."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest

from agentstate_etl.errors import VendorError
from agentstate_etl.redaction import MAX_DETAIL, REDACTED, Secrets, redact

USER, PASSWORD = "etl-user", "p@ss:w0rd/+&=secret"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJhcHBJZCI6InNpbS1hcHAiLCJpYXQiOjE3NzMwMDAwMDB9."
    "q1w2e3r4t5y6u7i8o9p0-_a1s2d3f4g5h6j7k8l9z0x"
)


def forms_of_basic(user: str, password: str) -> list[str]:
    pair = f"{user}:{password}".encode()
    std, url = base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode()
    return [password, quote(password, safe=""), quote_plus(password), std, url, std.rstrip("=")]


def test_known_secrets_go_in_every_spelling() -> None:
    secrets = Secrets()
    secrets.add_basic(USER, PASSWORD)
    echoed = " | ".join(f"seen {form} here" for form in forms_of_basic(USER, PASSWORD))
    text = secrets.redact(echoed)
    for form in forms_of_basic(USER, PASSWORD):
        assert form not in text
    assert text.count(REDACTED) == len(forms_of_basic(USER, PASSWORD))


@pytest.mark.parametrize(
    "leak",
    [
        "Authorization: Basic ZXRsLXVzZXI6c29tZXRoaW5nLWVsc2U=",
        "authorization: bearer 0a1b2c3d4e5f.token-value",
        f"auth: {JWT}",
        f"token {JWT[:60]}",  # a JWT cut short still goes
        "grant_type=client_credentials&client_secret=s3cr3t-value&scope=x",
        '{"password": "hunter two", "user": "x"}',
        "{'client_secret': 'abc'}",
        '"access_token":"opaque-token-1"',
    ],
)
def test_credential_shaped_text_goes_without_knowing_the_value(leak: str) -> None:
    text = redact(f"gateway said: {leak} (request id 42)")
    for secret in ("ZXRsLXVzZXI6", "0a1b2c3d4e5f", JWT[:40], "s3cr3t", "hunter", "abc", "opaque"):
        assert secret not in text
    assert text.startswith("gateway said:") and text.endswith("(request id 42)")


def test_text_is_bounded_and_on_one_line() -> None:
    text = redact("line one\nline two\t" + "x" * 10_000)
    assert "\n" not in text and text.startswith("line one line two x")
    assert len(text) < MAX_DETAIL + 40 and text.endswith("more characters)")


def test_a_secret_past_the_bound_is_still_removed_before_cutting() -> None:
    # the bound never cuts a secret in half and leaves its head
    secrets = Secrets()
    secrets.add("0123456789-very-long-secret-value")
    text = secrets.redact("x" * (MAX_DETAIL - 10) + "0123456789-very-long-secret-value")
    assert "0123456789" not in text


def test_a_short_secret_is_only_removed_as_a_whole_word() -> None:
    secrets = Secrets()
    secrets.add_basic("u", "p")
    assert secrets.redact("kept changing; password p was rejected") == (
        f"kept changing; password {REDACTED} was rejected"
    )


def test_vendor_error_redacts_what_it_is_given() -> None:
    error = VendorError(
        f"request rejected: echo auth: {JWT}",
        vendor="koreai",
        url="http://api.test/x?client_secret=shh-value",
        partition="koreai/2026-03-08",
        status=400,
    )
    assert JWT[:40] not in str(error) and "shh-value" not in str(error)
    assert "shh-value" not in error.url and "partition=koreai/2026-03-08" in str(error)


@pytest.mark.parametrize(
    "echo",
    [
        PASSWORD.replace("&", "&amp;"),  # HTML-escaped
        PASSWORD.replace("&", "\\u0026").replace("+", "\\u002b"),  # .NET's JSON escapes
        quote(PASSWORD, safe="").lower(),  # percent-encoded in lowercase hex
        # a folded `Authorization: Basic` header: the base64 of user:password, cut mid-way
        base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()[6:],
        # the pair inside a longer base64 text, at each alignment
        base64.b64encode(f"x{USER}:{PASSWORD}".encode()).decode(),
        base64.b64encode(f"xy{USER}:{PASSWORD}".encode()).decode(),
    ],
)
def test_every_encoding_of_an_echoed_secret_goes(echo: str) -> None:
    secrets = Secrets()
    secrets.add_basic(USER, PASSWORD)
    text = secrets.redact(f"upstream said: {echo} (trace 7)")
    assert REDACTED in text and text.endswith("(trace 7)"), text
    assert "w0rd" not in text and "c2VjcmV0" not in text[-30:]


def test_the_word_basic_alone_is_not_a_secret() -> None:
    message = "HTTP 401: Basic authentication failed; use Bearer tokens instead"
    assert redact(message) == message
