"""`modq api`: serve the HTTP API and review console with uvicorn."""

from __future__ import annotations

from typing import Optional

import typer

from config.settings import get_settings
from moderation.api import server
from moderation.cli.common import fail
from moderation.domain.errors import ConfigError
from moderation.infra import logs


def api(host: Optional[str] = typer.Option(None, help="default MODQ_API_HOST (127.0.0.1)"),
        port: Optional[int] = typer.Option(None, help="default MODQ_API_PORT (8000)"),
        workers: Optional[int] = typer.Option(None, help="processes; default MODQ_API_WORKERS (1)")) -> None:
    """Serve the ingest/review API (OpenAPI at /docs) and the review console at /."""
    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)  # the CLI default hides INFO; a server wants it
    try:
        server.serve(settings, host=host or settings.api_host, port=port or settings.api_port,
                     workers=workers or settings.api_workers)
    except ConfigError as exc:  # the open-file limit cannot hold MODQ_API_MAX_CONNECTIONS
        fail(str(exc))
