"""`modq review prefs`: a reviewer's console preferences, or a tenant's defaults (issue 17.8-9), from a terminal.

Preferences belong to a token (the console and the API name a reviewer ``<name> (token <id>)``), so
``--token ID`` (as `modq tokens list` shows it) picks the reviewer; ``--tenant-defaults NAME`` a tenant's
defaults, set as the operator (``cli:<user>``, audited as ``review_defaults``). ``--set key=true|false`` changes
one setting and keeps the others (``key=default``: let the layer below decide); without ``--set`` it shows them.
"""

from __future__ import annotations

import json
from typing import Optional

import typer

from moderation.cli.common import fail, operator, runtime
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT
from moderation.review import preferences
from moderation.review.services import NotFound
from moderation.tenants import services as tenants


def prefs(token: Optional[int] = typer.Option(None, "--token", help="The reviewer's token id (`modq tokens list`)"),
          tenant_defaults: Optional[str] = typer.Option(None, "--tenant-defaults",
                                                        help="A tenant's defaults instead, by tenant name"),
          assignments: list[str] = typer.Option([], "--set", help="key=true|false|default (repeatable); keys: "
                                                + ", ".join(preferences.DEFAULTS))) -> None:
    """Show or change a reviewer's console preferences (--token) or a tenant's defaults (--tenant-defaults)."""
    if (token is None) == (tenant_defaults is None):
        fail("give --token ID (a reviewer's preferences) or --tenant-defaults TENANT, one of them")
    url = runtime().settings.database_url
    try:
        if token is not None:
            print(json.dumps(_reviewer(url, token, assignments), indent=2))
        else:
            print(json.dumps(_tenant(url, tenant_defaults, assignments), indent=2))
    except BadInput as exc:
        fail(str(exc))
    except NotFound as exc:
        fail(str(exc), 1)


def _reviewer(url: str, token: int, assignments: list[str]) -> dict:
    reviewer, tenant_id = preferences.of_token(url, token)
    if assignments:
        own = preferences.layers(url, reviewer, tenant_id)["own"]
        preferences.set_own(url, reviewer, preferences.changed(own, assignments))
    return {"reviewer": reviewer, **preferences.layers(url, reviewer, tenant_id)}


def _tenant(url: str, name: str, assignments: list[str]) -> dict:
    tenant_id = tenants.tenant_id(url, name)
    view = preferences.tenant_defaults(url, tenant_id, scope=EVERY_TENANT)
    if assignments:
        view = preferences.set_tenant_defaults(url, tenant_id, preferences.changed(view["settings"], assignments),
                                               operator(), admin=True, scope=EVERY_TENANT)
    return {"tenant": name, **view}
