"""Every command, setting and endpoint is documented (DESIGN.md convention 11)."""

import re
from pathlib import Path

from django.core.management import get_commands
from django.urls import URLPattern, URLResolver, get_resolver

from gulian import settings as gulian_settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _gulian_commands() -> set[str]:
    return {name for name, app in get_commands().items() if app.startswith("gulian.")}


def test_every_gulian_command_has_a_section_in_cli_md():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^##\s+gulian\s+([\w-]+)", text, flags=re.M))
    missing = _gulian_commands() - documented
    assert not missing, f"docs/cli.md lacks sections for: {sorted(missing)}"


def test_every_environment_setting_is_documented():
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [name for name in gulian_settings.ENV_SETTINGS if f"`{name}`" not in text]
    assert not missing, f"docs/settings.md lacks: {missing}"


def _pattern_names(resolver, ns=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "api":
                continue
            yield from _pattern_names(p, f"{ns}{p.namespace}:" if p.namespace else ns)
        elif isinstance(p, URLPattern) and p.name:
            yield ns + p.name


def test_every_named_page_is_in_endpoints_md():
    text = (DOCS / "endpoints.md").read_text(encoding="utf-8")
    missing = [name for name in _pattern_names(get_resolver()) if f"`{name}`" not in text]
    assert not missing, f"docs/endpoints.md lacks: {missing}"


def test_every_api_route_is_in_api_md():
    from gulian.api import api

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    schema = api.get_openapi_schema()
    missing = []
    for path, ops in schema["paths"].items():
        for method in ops:
            # documented as e.g. `GET /api/registry/enterprises/{id}`
            if f"`{method.upper()} {path.rstrip('/')}`" not in text and f"`{method.upper()} {path}`" not in text:
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"docs/api.md lacks: {missing}"


def test_engine_md_is_assembled_from_its_sections():
    import importlib.util

    spec = importlib.util.spec_from_file_location("assemble", DOCS / "engine" / "assemble.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "engine.md").read_text() == module.assembled(), "run `make engine-doc`"
