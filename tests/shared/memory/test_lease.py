"""The per-tenant writer lease on the SQLite document store, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.memory.errors import LeaseBusy
from shared.memory.lease import LEASE_PATH, LeaseManager
from shared.store.sqlite import SqliteDocumentStore
from tests.shared.memory.conftest import FakeClock


@pytest.fixture
def setup(tmp_path):
    clock = FakeClock()
    store = SqliteDocumentStore(tmp_path / "leases.sqlite3", clock=clock)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds=seconds)

    def manager(**options) -> LeaseManager:
        return LeaseManager(store, ttl=timedelta(seconds=60), wait=options.get("wait", 3.0), poll=1.0,
                            clock=clock, sleep=sleep)

    yield store, clock, manager, sleeps
    store.close()


def test_one_holder_at_a_time_per_tenant(setup):
    store, clock, manager, sleeps = setup
    first = manager().acquire(tenant_id="tenant-a")
    assert store.get(LEASE_PATH, tenant_id="tenant-a")["holder"] == first.holder
    with pytest.raises(LeaseBusy):
        manager().acquire(tenant_id="tenant-a")
    assert sleeps == [1.0, 1.0, 1.0]  # bounded polling, then give up
    other_tenant = manager().acquire(tenant_id="tenant-b")  # other tenants are independent
    assert other_tenant.holder != first.holder


def test_an_expired_lease_is_taken_and_the_old_holder_cannot_renew_or_release_it(setup):
    store, clock, manager, _ = setup
    old = manager().acquire(tenant_id="tenant-a")
    clock.advance(seconds=61)
    new = manager(wait=0).acquire(tenant_id="tenant-a")
    assert old.renew() is False
    old.release()  # must not free the new holder's lease
    assert store.get(LEASE_PATH, tenant_id="tenant-a")["holder"] == new.holder
    assert new.renew() is True
    new.release()
    assert store.get(LEASE_PATH, tenant_id="tenant-a") is None


def test_waiting_writer_gets_the_lease_when_it_is_released_or_expires(setup):
    store, clock, manager, sleeps = setup
    manager().acquire(tenant_id="tenant-a")
    # Nobody releases it: the waiter's polls move the clock past the expiry (60 s).
    waiter = manager(wait=90.0).acquire(tenant_id="tenant-a")
    assert store.get(LEASE_PATH, tenant_id="tenant-a")["holder"] == waiter.holder
    assert 60 <= sum(sleeps) <= 62


def test_renew_extends_the_expiry(setup):
    store, clock, manager, _ = setup
    lease = manager().acquire(tenant_id="tenant-a")
    clock.advance(seconds=50)
    assert lease.renew()
    clock.advance(seconds=50)  # 100 s after taking it, 50 s after renewing
    with pytest.raises(LeaseBusy):
        manager(wait=0).acquire(tenant_id="tenant-a")
