"""Tasks declare their reliability policy where a reader expects it."""

from moderation.domain.errors import TransientFault
from worker.app import app
from worker.tasks import moderate_image, publish_alert


def test_moderate_image_policy():
    assert moderate_image.acks_late is True
    assert TransientFault in moderate_image.autoretry_for
    assert moderate_image.retry_backoff and moderate_image.retry_jitter
    from config.settings import get_settings

    assert moderate_image.max_retries == get_settings().max_attempts - 1  # attempts = 1 + retries


def test_app_reliability_settings():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["max_connections"] >= 10
    assert conf.task_routes["modq.moderate_image"]["queue"] == "images"
    assert conf.task_routes["modq.publish_alert"]["queue"] == "alerts"


def test_publish_alert_retries_publish_errors():
    from moderation.alerts.services import PublishError

    assert PublishError in publish_alert.autoretry_for and publish_alert.acks_late


def test_the_memory_limit_per_pool_process_reaches_celery_in_kib():
    """MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB (default 512) reaches Celery in KiB; `modq worker` runs this same app."""
    from config.settings import get_settings
    from worker import app as modq_worker_app  # what `modq worker` starts (moderation/cli/main.py)

    assert get_settings().worker_max_memory_per_child_mb == 512
    assert app.conf.worker_max_memory_per_child == modq_worker_app.conf.worker_max_memory_per_child == 512 * 1024
