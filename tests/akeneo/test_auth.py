"""Redaction: every form of a secret out of a text, short secrets only as whole words."""

from __future__ import annotations

import pytest

from feed_export.akeneo.auth import MIN_SUBSTRING, redact_text, secret_forms

CASES = [
    # id, text, secrets -> redacted
    ("one-letter-inside-words", "404 Not Found", ["d"], "404 Not Found"),
    ("one-letter-alone", '{"password":"d"}', ["d"], '{"password":"***"}'),
    ("short-in-a-word", "sandboxes", ["sandbox"], "sandboxes"),
    ("short-alone", "user sandbox refused", ["sandbox"], "user *** refused"),
    ("long-inside-anything", "xSECRET-TOKEN-1x", ["SECRET-TOKEN-1"], "x***x"),
    ("bearer", "Authorization: Bearer abcdefghijklmnop", ["abcdefghijklmnop"],
     "Authorization: Bearer ***"),
    ("longest-first", "pw=hunter22hunter22", ["hunter22", "hunter22hunter22"], "pw=***"),
    ("empty-secret-ignored", "text", [""], "text"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "secrets", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_redact_text(text: str, secrets: list[str], expected: str) -> None:
    assert redact_text(text, secrets) == expected


def test_every_form_of_a_short_password_is_redacted_where_it_stands_alone() -> None:
    forms = secret_forms("client", "s3cr/t", "d")
    body = '{"client_secret":"s3cr\\/t","password":"d"} 404 Not Found'
    redacted = redact_text(body, forms)
    assert "s3cr" not in redacted and '"password":"***"' in redacted
    assert redacted.endswith("404 Not Found")
    assert MIN_SUBSTRING == 8
