"""Credentials out of every error text built from what a vendor (or httpx) said.

A gateway that echoes the request puts our own credentials into its error body, and httpx's
exception texts can carry a proxy URL with a password. Known secret values are removed in
every spelling they travel in (as is, URL-encoded, JSON-escaped, inside Basic's base64), then
anything shaped like a credential, and the result is bounded: an error is read by a person,
so it never needs more than a few hundred characters of what the vendor sent.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

import orjson

REDACTED = "[redacted]"
MAX_DETAIL = 500
# how much of a body is searched for secrets before it is cut to MAX_DETAIL: a secret cut in
# half by the bound would no longer match
SCAN_CHARS = 64 * 1024
# a secret spelling shorter than this is redacted only as a whole word (see `_as_pattern`)
SHORT_SECRET = 8

# credential-shaped text, whoever it belongs to: (pattern, what to keep before REDACTED)
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # a credential after the scheme: 8 characters or more with a digit or a base64 sign, so
    # the words of "basic authentication failed" stay
    (
        re.compile(
            r"\b(Basic|Bearer)(\s+)(?=[A-Za-z0-9._~+/=-]*[0-9+/=_-])[A-Za-z0-9._~+/=-]{8,}",
            re.IGNORECASE,
        ),
        r"\1\2",
    ),
    # a JWT (three base64url parts) or what is left of one: `eyJ` is base64 of `{"`
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){0,2}"), ""),
    (
        re.compile(
            r"""(["']?\b(?:client_secret|password|passwd|pwd|secret|api_?key|"""
            r"""(?:access|refresh|id)_token|authorization)\b["']?\s*[:=]\s*)"""
            r"""(?!\[redacted\])("[^"]*"|'[^']*'|[^\s&,;"'}\]]+)""",
            re.IGNORECASE,
        ),
        r"\1",
    ),
)


# what .NET and other JSON writers escape besides JSON's own: HTML-sensitive characters
_JSON_HTML_SAFE = {"&": "\\u0026", "<": "\\u003c", ">": "\\u003e", "'": "\\u0027", "+": "\\u002b"}


def _base64_cores(raw: bytes) -> set[str]:
    """What any base64 text holding `raw` contains, wherever `raw` starts in the encoded
    bytes (3 alignments, both alphabets): the characters its own bytes alone decide. A folded
    `Authorization: Basic` header cut anywhere still shows one of these."""
    cores = set()
    for offset in range(3):
        padded = b"\0" * offset + raw
        whole = len(padded) // 3 * 4  # characters of complete groups
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(padded).decode()
            core = text[4 if offset else 0 : whole]
            if len(core) >= SHORT_SECRET:
                cores.add(core)
    return cores


def spellings(secret: str) -> set[str]:
    """The forms a secret value takes on the wire and in echoes of it: as is, URL-encoded
    (either hex case, `+` for spaces or not), JSON- and .NET-escaped, HTML-escaped, and inside
    base64 at any alignment."""
    if not secret:
        return set()
    percent = quote(secret, safe="")
    json_text = orjson.dumps(secret).decode()[1:-1]
    forms = {
        secret,
        percent,
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), percent),
        quote_plus(secret),
        json_text,
        "".join(_JSON_HTML_SAFE.get(c, c) for c in json_text),
        html.escape(secret),
        html.escape(secret, quote=False),
        html.escape(secret).replace("&#x27;", "&#39;"),
    }
    raw = secret.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms |= {text, text.rstrip("=")}
    forms |= _base64_cores(raw)
    return {form for form in forms if form}


def _as_pattern(form: str) -> str:
    """A long value anywhere; a short one only as a whole token (a one-letter password must
    not take every such letter out of the message)."""
    if len(form) >= SHORT_SECRET:
        return re.escape(form)
    return rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])"


def redact(text: str, secrets: Iterable[str] = (), *, limit: int = MAX_DETAIL) -> str:
    """`text` without the given secrets (in any spelling) or credential-shaped parts, on one
    line and at most `limit` characters (plus a note of how much was cut)."""
    text = text[:SCAN_CHARS]
    forms = sorted(
        {form for secret in secrets for form in spellings(secret)}, key=len, reverse=True
    )
    if forms:
        text = re.sub("|".join(map(_as_pattern, forms)), REDACTED, text)
    for pattern, keep in _SHAPES:
        text = pattern.sub(keep + REDACTED, text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters)"
    return text


class Secrets:
    """The credentials one client sends, collected as it sends them, to redact its errors."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def __repr__(self) -> str:
        return f"Secrets({len(self._values)} values)"

    def add(self, *values: str | None) -> None:
        self._values.update(v for v in values if v)

    def add_basic(self, user: str, password: str) -> None:
        """HTTP Basic: the password, and `user:password` (whose base64 is the header)."""
        self.add(password, f"{user}:{password}")

    def add_header(self, value: str) -> None:
        """An auth header's value, and its credential without the scheme (`Bearer <token>`)."""
        scheme, _, credential = value.partition(" ")
        self.add(value, credential.strip() if credential else scheme)

    def redact(self, text: str, *, limit: int = MAX_DETAIL) -> str:
        return redact(text, self._values, limit=limit)
