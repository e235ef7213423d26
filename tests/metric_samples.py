"""Reading prometheus_client's default registry in tests: a sample's value, and what moved since."""

from __future__ import annotations

from prometheus_client import REGISTRY


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Snapshot:
    """Counter values now, to assert on what moved since."""

    def __init__(self, *keys: tuple[str, dict]):
        self.before = {self._key(n, lab): value(n, **lab) for n, lab in keys}

    @staticmethod
    def _key(name, labels):
        return name, tuple(sorted(labels.items()))

    def delta(self, name: str, **labels) -> float:
        return value(name, **labels) - self.before.get(self._key(name, labels), 0.0)
