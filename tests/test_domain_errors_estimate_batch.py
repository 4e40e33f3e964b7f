"""estimate, prompts' render limits, batch and the HTTP client raise errors in the library's
terms; the command line shows its flags (issue 18: "core errors speak the domain and the CLI
maps them to flags"). Old code: each message below spelt the flag inside the library."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from tokcli.cli.flags import error_text
from tokcli.errors import OptionError, TokcliError


def _raised(call) -> TokcliError:
    with pytest.raises(TokcliError) as caught:
        call()
    return caught.value


def _parse_at():
    from tokcli.estimate.call import parse_at

    parse_at("nope", dt.date(2026, 11, 1))


def _volume(per: str, days: int):
    from tokcli.estimate.volume import Volume

    return lambda: Volume(10, per, days)


def _baseline(tmp_path):
    from tokcli.estimate.gate import load_baseline

    return lambda: load_baseline(tmp_path / "none.json")


def _no_git(tmp_path, monkeypatch):
    from tokcli.estimate.gitbase import _git

    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    return lambda: _git(["rev-parse", "HEAD"], tmp_path)


def _render_limit(**given):
    from tokcli.prompts.renderers import RenderLimits

    return lambda: RenderLimits.resolve(environ={}, **given)


def _adopt_part():
    from tokcli.batch.engine import adopt

    job = SimpleNamespace(id="job-1", parts=[object()])
    adopt(None, job, 3, "batch_x")  # the part is checked before anything else is read


@pytest.fixture
def cases(tmp_path, monkeypatch):
    """(library message, command-line message) for each call."""
    return {
        "at": (
            _parse_at,
            "at: expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or HH:MM (UTC), got 'nope'",
            "--at: expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or HH:MM (UTC), got 'nope'",
        ),
        "per": (
            _volume("week", 30),
            "per: expected day or month, got 'week'",
            "--per: expected day or month, got 'week'",
        ),
        "days_per_month": (
            _volume("day", 0),
            "days_per_month must be a whole number > 0",
            "--days-per-month must be a whole number > 0",
        ),
        "baseline": (
            _baseline(tmp_path),
            f"{tmp_path / 'none.json'}: baseline: no such file",
            f"{tmp_path / 'none.json'}: --baseline: no such file",
        ),
        "base_ref": (
            _no_git(tmp_path, monkeypatch),
            "base_ref needs git, which is not installed",
            "--base-ref needs git, which is not installed",
        ),
        "max_rendered_chars": (
            _render_limit(chars_flag=0),
            "max_rendered_chars: expected a whole number > 0, got 0",
            "--max-rendered-chars: expected a whole number > 0, got 0",
        ),
        "max_render_seconds": (
            _render_limit(seconds_flag="soon"),
            "max_render_seconds: expected a number > 0, got 'soon'",
            "--max-render-seconds: expected a number > 0, got 'soon'",
        ),
        "part": (
            _adopt_part,
            "part: job-1 has parts 0 to 0",
            "--part: job-1 has parts 0 to 0",
        ),
    }


@pytest.mark.parametrize(
    "option",
    ["at", "per", "days_per_month", "baseline", "base_ref", "max_rendered_chars",
     "max_render_seconds", "part"],
)  # fmt: skip
def test_library_names_the_option_and_the_cli_its_flag(cases, option):
    call, library, command_line = cases[option]
    error = _raised(call)
    assert isinstance(error, OptionError)
    assert str(error) == library
    assert "--" not in str(error)
    assert error_text(error) == command_line


def test_a_limit_from_the_environment_keeps_its_variable_name():
    from tokcli.prompts.renderers import RenderLimits

    error = _raised(
        lambda: RenderLimits.resolve(environ={"TOKCLI_MAX_RENDERED_CHARS": "-1"}, config=None)
    )
    assert str(error) == error_text(error)
    assert str(error) == "TOKCLI_MAX_RENDERED_CHARS: expected a whole number > 0, got '-1'"


def test_a_git_failure_names_the_option_and_keeps_git_s_words(tmp_path):
    from tokcli.estimate.gitbase import _git

    error = _raised(lambda: _git(["rev-parse", "--verify", "no-such-ref"], tmp_path))
    assert str(error).startswith("base_ref: git rev-parse: ")
    assert error_text(error).startswith("--base-ref: git rev-parse: ")


class _HtmlServer:
    """127.0.0.1 answering every request 200 with an HTML page (a proxy, not the API)."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                body = b"<html>proxy</html>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def html_server():
    server = _HtmlServer()
    yield server
    server.close()


@pytest.mark.parametrize("idempotent", [True, False])
def test_a_body_that_is_not_json_asks_about_the_base_url_option(html_server, idempotent):
    from tokcli.http import HttpClient, HttpError

    client = HttpClient(html_server.url, sleep=lambda _: None)
    with pytest.raises(HttpError) as caught:
        client.request_json("POST", "/v1/batches", json_body={}, idempotent=idempotent)
    error = caught.value
    tail = "" if idempotent else "; the request may have been acted on"
    assert str(error).endswith(f"(text/html, 18 bytes): is base_url the provider's API?{tail}")
    assert error_text(error).endswith(
        f"(text/html, 18 bytes): is --base-url the provider's API?{tail}"
    )
    assert error.status == 200


def test_two_errors_told_as_one_keep_each_option_for_the_cli():
    from tokcli.batch.engine import _BothErrors

    joined = _BothErrors(OptionError("{part}: bad"), TokcliError("lookup failed"))
    assert str(joined) == "part: bad; lookup failed"
    assert error_text(joined) == "--part: bad; lookup failed"


def test_the_command_line_still_shows_the_flags(cli, tmp_path):
    """(tests/test_estimate_render_limits.py shows the render-limit flags.)"""
    estimate = ("estimate", "--input-tokens", "10", "-m", "gpt-4o")
    shown = {
        ("--at", "nope"): "--at: expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or HH:MM (UTC)",
        ("--requests", "5", "--per", "week"): "--per: expected day or month, got 'week'",
        ("--baseline", tmp_path / "none.json"): f"{tmp_path / 'none.json'}: --baseline: no such",
    }
    for args, message in shown.items():
        result = cli(*estimate, *args)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith(f"tokcli: error: {message}"), result.stderr


def _undefined_variable(tmp_path):
    from tokcli.estimate.prompt import measure_source
    from tokcli.prompts import load_prompt

    path = tmp_path / "ask.j2"
    path.write_text("Hello {{ name }}\n")
    return lambda: measure_source(load_prompt(path, path.read_text()), {})


def test_a_missing_template_variable_hints_at_the_vars_option(tmp_path):
    from tokcli.errors import InputError

    error = _raised(_undefined_variable(tmp_path))
    assert isinstance(error, InputError) and error.path and error.line == 1
    assert str(error).endswith("'name' is undefined (give it in front matter or vars)")
    assert error_text(error).endswith("'name' is undefined (give it in front matter or --vars)")


def test_the_render_budget_hint_names_the_limit_options(tmp_path):
    from tokcli.errors import InputError
    from tokcli.estimate.prompt import measure_source
    from tokcli.prompts import load_prompt
    from tokcli.prompts.renderers import RenderLimits

    path = tmp_path / "big.j2"
    path.write_text("{{ 'a' * 50 }}\n")
    error = _raised(
        lambda: measure_source(load_prompt(path, path.read_text()), {}, RenderLimits(10, 5.0))
    )
    assert isinstance(error, InputError)
    assert "; raise with max_rendered_chars / max_render_seconds, TOKCLI_" in str(error)
    assert "; raise with --max-rendered-chars / --max-render-seconds, TOKCLI_" in error_text(error)
    assert error_text(error).endswith("[templates] max_rendered_chars / max_render_seconds)")


def test_prompts_left_out_of_a_folder_still_show_the_flag(cli, tmp_path):
    """Per-file errors reach the warnings and the JSON document as text: the CLI spells them."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "ask.j2").write_text("Hello {{ name }}\n")
    (folder / "fine.txt").write_text("Hello\n")
    result = cli("estimate", folder, "-m", "gpt-4o", "-f", "json")
    assert result.exit_code == 0, result.stderr
    hint = "(give it in front matter or --vars)"
    assert f"{hint}: not priced, left out" in result.stderr
    (left_out,) = result.json()["left_out"]
    assert left_out["error"].endswith(hint) and left_out["line"] == 1


def test_an_unknown_rule_to_ignore_names_the_option(cli, tmp_path, monkeypatch):
    from tokcli.audit.settings import build_settings

    error = _raised(lambda: build_settings({}, {"ignore": ["nope"]}))
    assert str(error) == "ignore: unknown rule 'nope' (see `tokcli audit --list-rules`)"
    monkeypatch.chdir(tmp_path)
    run = cli("audit", ".", "--ignore", "nope")
    assert run.exit_code == 2
    assert run.stderr == (
        "tokcli: error: --ignore: unknown rule 'nope' (see `tokcli audit --list-rules`)\n"
    )
