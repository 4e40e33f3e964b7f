"""Build a provider client from the environment: key, base URL, retry tuning."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from tokcli.batch.provider import Provider
from tokcli.errors import OptionError, TokcliError

KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}
# The official SDKs read these too, so a gateway configured for them works here unchanged.
BASE_URL_ENV = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GOOGLE_GEMINI_BASE_URL",
}


def default_base_url(provider: str, environ: Mapping[str, str]) -> str:
    from tokcli.batch import anthropic, gemini, openai

    default = {"openai": openai.DEFAULT_BASE_URL, "anthropic": anthropic.DEFAULT_BASE_URL,
               "gemini": gemini.DEFAULT_BASE_URL}[provider]  # fmt: skip
    return (environ.get(BASE_URL_ENV[provider]) or default).rstrip("/")


def read_key(provider: str, environ: Mapping[str, str], key_file: Path | None) -> str:
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise TokcliError(f"{key_file}: cannot read the API key file: {exc.strerror}") from None
        if not key:
            raise TokcliError(f"{key_file}: the API key file is empty")
        return key
    key = (environ.get(KEY_ENV[provider]) or "").strip()
    if not key:
        raise OptionError("{env} is not set (or give {api_key_file})", env=KEY_ENV[provider])
    return key


def open_provider(
    provider: str,
    *,
    base_url: str,
    key: str,
    environ: Mapping[str, str],
    on_retry: Callable[[str], None] | None = None,
) -> Provider:
    from tokcli.batch.anthropic import API_VERSION, AnthropicBatches
    from tokcli.batch.openai import OpenAIBatches
    from tokcli.http import HttpClient, RetryPolicy

    policy = RetryPolicy()
    # Tuning for tests and impatient gateways: TOKCLI_HTTP_BACKOFF (base seconds) and
    # TOKCLI_HTTP_ATTEMPTS (cap).
    if environ.get("TOKCLI_HTTP_BACKOFF"):
        policy.base_delay = float(environ["TOKCLI_HTTP_BACKOFF"])
    if environ.get("TOKCLI_HTTP_ATTEMPTS"):
        policy.max_attempts = max(1, int(environ["TOKCLI_HTTP_ATTEMPTS"]))
    if provider == "openai":
        client = HttpClient(
            base_url, auth_headers={"Authorization": f"Bearer {key}"}, policy=policy,
            on_retry=on_retry,
        )  # fmt: skip
        return OpenAIBatches(client)
    if provider == "gemini":
        from tokcli.batch.gemini import INLINE_MAX_BYTES, GeminiBatches

        client = HttpClient(
            base_url, auth_headers={"x-goog-api-key": key}, policy=policy, on_retry=on_retry
        )
        # TOKCLI_GEMINI_INLINE_MAX: parts up to this many bytes go inline (default 20 MB).
        inline = int(environ.get("TOKCLI_GEMINI_INLINE_MAX") or INLINE_MAX_BYTES)
        return GeminiBatches(client, inline_max_bytes=inline)
    client = HttpClient(
        base_url,
        auth_headers={"x-api-key": key},
        headers={"anthropic-version": API_VERSION},
        policy=policy,
        on_retry=on_retry,
    )
    return AnthropicBatches(client)
