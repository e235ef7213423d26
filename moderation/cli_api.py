"""`modq api`: serve the HTTP API and review console with uvicorn."""

from __future__ import annotations

from typing import Optional

import typer

from config.settings import get_settings
from moderation import logs


def api(host: Optional[str] = typer.Option(None, help="default MODQ_API_HOST (127.0.0.1)"),
        port: Optional[int] = typer.Option(None, help="default MODQ_API_PORT (8000)"),
        workers: Optional[int] = typer.Option(None, help="processes; default MODQ_API_WORKERS (1)")) -> None:
    """Serve the ingest/review API (OpenAPI at /docs) and the review console at /."""
    import uvicorn

    settings = get_settings()
    logs.configure(settings.log_format, settings.log_level)  # the CLI default hides INFO; a server wants it
    uvicorn.run("moderation.api.app:create_app", factory=True, host=host or settings.api_host,
                port=port or settings.api_port, workers=workers or settings.api_workers, log_config=None,
                proxy_headers=True, forwarded_allow_ips=settings.api_forwarded_allow_ips, server_header=False)
