"""Check a Rekognition response against botocore's real service model.

botocore's own validator checks required keys, types, unknown keys and
``min`` only (see ../shared/REKOGNITION.md §6); the ranges it skips
(confidence 0..100, taxonomy level 1..3, enums) are checked here too, so a
fake that drifts from AWS fails loudly.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.validate import ParamValidator

_model = botocore.session.get_session().get_service_model("rekognition")
_ENUMS = {"JobStatus": {"IN_PROGRESS", "SUCCEEDED", "FAILED"}}


class ShapeError(AssertionError):
    pass


def validate_output(operation: str, response: dict[str, Any]) -> None:
    """Raise ``ShapeError`` if ``response`` is not a valid ``operation`` output."""
    shape = _model.operation_model(operation).output_shape
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    if report.has_errors():
        raise ShapeError(f"{operation} response does not match botocore's model:\n{report.generate_report()}")
    _check_ranges(body, operation)


def _check_ranges(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}"
            if key == "Confidence" and not 0 <= value <= 100:
                raise ShapeError(f"{path}={value} is outside 0..100")
            if key == "TaxonomyLevel" and not 1 <= value <= 3:
                raise ShapeError(f"{path}={value} is outside 1..3")
            if key in _ENUMS and value not in _ENUMS[key]:
                raise ShapeError(f"{path}={value!r} is not one of {sorted(_ENUMS[key])}")
            _check_ranges(value, path)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _check_ranges(item, f"{where}[{i}]")
