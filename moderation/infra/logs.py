"""structlog set-up: JSON in production, readable in a terminal.

Context (item_id, task_id, provider) is bound with contextvars by the task
base class, so every line a task logs carries it without passing it around.
"""

from __future__ import annotations

import logging
import sys

import structlog

from moderation.infra import redact

_SECRET_KEYS = ("token", "secret", "password", "authorization", "credential", "signature")


def _redact(_logger, _name, event_dict):
    """Never log a secret, even if a caller passes one by mistake."""
    for key in list(event_dict):
        if any(word in key.lower() for word in _SECRET_KEYS):
            event_dict[key] = "[redacted]"
    return event_dict


def configure(fmt: str = "auto", level: str = "INFO", stream=None) -> None:
    stream = stream or sys.stderr
    json_output = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
        structlog.processors.format_exc_info,  # tracebacks as text, so the scrubber sees them too
        redact.Scrubber(),  # secrets inside values: presigned URLs, AWS keys from the environment
    ]
    # modq's own lines and libraries' stdlib logging (celery, botocore) leave through one
    # handler, whose lock keeps lines whole when worker threads log at the same time.
    structlog.configure(
        processors=[*processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer], foreign_pre_chain=processors))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def bind(**values) -> None:
    structlog.contextvars.bind_contextvars(**values)


def clear() -> None:
    structlog.contextvars.clear_contextvars()
