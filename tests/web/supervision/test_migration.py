"""The move from ``User.supervisor`` to supervision relationships (supervision 0002, accounts 0007),
on a populated database, forward and back, with the migration executor."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("accounts", "0006_caseload_handover"), ("supervision", None)]


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)
    executor = MigrationExecutor(connection)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_each_supervisor_becomes_a_current_individual_relationship_and_back():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE)
        user = old.get_model("accounts", "User")
        boss = user.objects.create(username="mig.boss", role="supervisor")
        tess = user.objects.create(username="mig.tess", role="therapist", supervisor=boss)
        solo = user.objects.create(username="mig.solo", role="therapist")

        new = _migrate(latest)
        relationship = new.get_model("supervision", "SupervisionRelationship")
        rows = list(relationship.objects.values_list("supervisor_id", "supervisee_id", "kind", "started", "ended"))
        assert rows == [(boss.pk, tess.pk, "individual", timezone.localdate(), None)]
        assert relationship.objects.get().confirmed_at is not None

        back = _migrate(BEFORE)
        restored = back.get_model("accounts", "User")
        assert restored.objects.get(pk=tess.pk).supervisor_id == boss.pk
        assert restored.objects.get(pk=solo.pk).supervisor_id is None
    finally:
        _migrate(latest)  # the transactional test's flush then empties the tables
