from datetime import datetime

import pytest

from shared.localstack.cron import Cron


@pytest.mark.parametrize(
    ("expression", "moment", "expected"),
    [
        ("*/5 * * * *", datetime(2026, 11, 28, 12, 35), True),
        ("*/5 * * * *", datetime(2026, 11, 28, 12, 36), False),
        ("17 * * * *", datetime(2026, 11, 28, 3, 17), True),
        ("0 9 * * 1-5", datetime(2026, 11, 30, 9, 0), True),  # Monday
        ("0 9 * * 1-5", datetime(2026, 11, 29, 9, 0), False),  # Sunday
        ("0 9 * * 0", datetime(2026, 11, 29, 9, 0), True),
        ("0 9 * * 7", datetime(2026, 11, 29, 9, 0), True),
        ("0 0 1 * 1", datetime(2026, 12, 1, 0, 0), True),  # either day field matches
    ],
)
def test_cron_matches(expression, moment, expected):
    assert Cron(expression).matches(moment) is expected


@pytest.mark.parametrize("expression", ["* * * *", "60 * * * *", "*/0 * * * *", "5-1 * * * *"])
def test_cron_rejects_bad_expressions(expression):
    with pytest.raises(ValueError):
        Cron(expression)


def test_every_declared_scheduler_job_has_a_valid_schedule_and_target():
    import json
    from pathlib import Path

    jobs = json.loads((Path(__file__).resolve().parents[3] / "infra/scheduler.json").read_text())["jobs"]
    assert jobs
    for job in jobs:
        Cron(job["schedule"])
        assert job["function"] in {"oauth", "agent", "sync", "usage"}
        assert job["path"].startswith("/")
