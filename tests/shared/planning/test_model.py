"""Request validation: errors name the field and never echo the rejected value."""

from __future__ import annotations

import pytest

from shared.planning import InvalidPlanRequest, PlanRequest, parse_request


def _body(**overrides) -> dict:
    body = {"day": "2026-03-30", "timezone": "Europe/Paris",
            "tasks": [{"id": "a", "title": "Write", "estimate_minutes": 30}]}
    body.update(overrides)
    return body


def test_a_valid_body_parses():
    request = parse_request(_body(busy=[{"start": "2026-03-30T10:00:00+02:00", "end": "2026-03-30T11:00:00+02:00"}]))
    assert isinstance(request, PlanRequest) and request.tasks[0].estimate_minutes == 30


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"tasks": [{"id": "a", "title": "x"}, {"id": "a", "title": "y"}]}, "tasks"),
        ({"routines": [{"id": "r", "title": "x"}, {"id": "r", "title": "y"}]}, "routines"),
        ({"buffer_minutes": -5}, "buffer_minutes"),
        ({"granularity_minutes": 7}, "granularity_minutes"),
        ({"horizon_days": 30}, "horizon_days"),
        ({"busy": [{"start": "2026-03-30T10:00:00", "end": "2026-03-30T11:00:00+02:00"}]}, "busy.0.start"),
        ({"breaks": [{"start": "13:00", "end": "12:00"}]}, "breaks.0"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_invalid_fields_are_named(overrides, field):
    with pytest.raises(InvalidPlanRequest) as caught:
        parse_request(_body(**overrides))
    assert caught.value.field == field
    assert caught.value.status == 400 and caught.value.details() == {"field": field}
    assert "Olympus" not in caught.value.message
