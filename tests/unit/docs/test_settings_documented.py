"""Every MODQ_* setting is documented in README.md or docs/*.md, and every MODQ_* name there is a setting.

Settings are read from the classes themselves (every pydantic-settings class in the ``config``
package: its fields under its ``env_prefix``, or a field's own alias), not from a file's text,
so the test holds however the settings are split across modules.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from pydantic_settings import BaseSettings

import config
from config.settings import Settings
from tests.unit.docs import pages

# MODQ_* names the docs use that are not settings: the test suite's own variables and the
# shell variables of examples. A docker-compose interpolation variable (${MODQ_...}) is allowed too.
NOT_SETTINGS = {"MODQ_TEST_PG_ADMIN", "MODQ_TEST_REDIS_DB", "MODQ_INGEST_TOKEN"}


def env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias or field.alias
        names.add((alias if isinstance(alias, str) else prefix + field_name).upper())
    return names


def declared_settings() -> set[str]:
    names: set[str] = set()
    for info in pkgutil.iter_modules(config.__path__):
        module = importlib.import_module(f"config.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
                names |= env_names(obj)
    return names


def compose_variables() -> set[str]:
    return set(re.findall(r"\$\{(MODQ_[A-Z0-9_]+)", (pages.REPO / "docker-compose.yml").read_text()))


def test_settings_are_found_in_every_module_of_the_config_package():
    declared = declared_settings()
    assert env_names(Settings) <= declared
    assert {"MODQ_DATABASE_URL", "MODQ_VIDEO_START_RETRY_SECONDS", "MODQ_API_PORT", "MODQ_S3_EVENTS_QUEUE_URL"} <= declared


def test_every_setting_is_documented():
    docs = pages.all_text()
    missing = sorted(n for n in declared_settings() if not re.search(rf"\b{n}\b", docs))
    assert not missing, (f"settings documented nowhere in README.md or docs/*.md: {', '.join(missing)}; "
                         "add each to the settings table of the page about its feature")


def test_every_modq_name_in_the_docs_is_a_setting():
    known = declared_settings() | NOT_SETTINGS | compose_variables()
    unknown = {}
    for page in pages.PAGES:
        for found in re.findall(r"\bMODQ_[A-Z0-9_]*[A-Z0-9]\b(?!_)", pages.text(page)):
            if found not in known:
                unknown.setdefault(found, pages.name(page))
    assert not unknown, f"MODQ_* names in the docs that no setting has (renamed or misspelled?): {unknown}"
