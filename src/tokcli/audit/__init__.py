"""`tokcli audit`: lint prompt templates for cache-breaking structure, filler and unbounded output.

Layout: `findings.py` (Severity, Finding), `template.py` (reading a file into the prompt text the
rules see, with positions back into the file), `scan.py` (volatile and stable spans), `rules/`
(one module per rule, listed in `rules/__init__.py`), `settings.py` (config and options),
`suppression.py` (inline `tokcli: ignore[...]`), `engine.py` (runs it all), `formats.py` (json,
sarif, github, text, markdown). Core code: no typer, no printing.
"""
