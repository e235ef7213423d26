import io
import json

import structlog

from moderation.infra import logs


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_json_when_not_a_terminal_with_bound_context():
    stream = io.StringIO()
    logs.configure("auto", "INFO", stream=stream)
    logs.bind(item_id="item-1", task_id="task-9", provider="rekognition")
    structlog.get_logger("t").info("decided", verdict="flagged", api_token="s3cr3t")
    logs.clear()
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "decided" and line["verdict"] == "flagged"
    assert (line["item_id"], line["task_id"], line["provider"]) == ("item-1", "task-9", "rekognition")
    assert line["api_token"] == "[redacted]" and "s3cr3t" not in stream.getvalue()


def test_readable_on_a_terminal():
    stream = FakeTTY()
    logs.configure("auto", "INFO", stream=stream)
    structlog.get_logger("t").info("hello", item_id="abc")
    out = stream.getvalue()
    assert "hello" in out and "item_id" in out
    try:
        json.loads(out.strip())
        raise AssertionError("terminal output should not be JSON")
    except json.JSONDecodeError:
        pass


def test_stdlib_logging_goes_through_the_same_renderer():
    import logging

    stream = io.StringIO()
    logs.configure("json", "INFO", stream=stream)
    logging.getLogger("celery.worker").warning("from celery")
    assert json.loads(stream.getvalue().strip().splitlines()[-1])["event"] == "from celery"
