"""Every ``User.supervisor`` becomes a current individual supervision relationship (issue 15).

The relationship starts on **the day this migration runs** (the service's local date), not on
the supervisee's ``date_joined``: the single column never recorded when the supervisor was
assigned (it may have changed last week), and an invented earlier start would put supervision
into the history that nobody recorded — accreditation counts supervised cases by date. The day
of the migration is the earliest day on which the relationship is known to hold. It is in force
at once (``confirmed_at`` = now): it was already in force as the column.

The reverse (run before accounts 0007 is reversed, which restores the column) writes back each
account's current individual supervisor, the latest started if several; other kinds of
supervision and ended relationships have no place in the old column and are dropped with the table.
"""

from django.db import migrations
from django.db.models import F, Q
from django.utils import timezone


def forward(apps, schema_editor):
    user_model = apps.get_model("accounts", "User")
    relationship = apps.get_model("supervision", "SupervisionRelationship")
    day, now = timezone.localdate(), timezone.now()
    rows = [relationship(supervisor_id=supervisor_id, supervisee_id=pk, kind="individual", started=day,
                         confirmed_at=now)
            for pk, supervisor_id in user_model.objects.filter(supervisor__isnull=False)
            .exclude(supervisor_id=F("pk")).values_list("pk", "supervisor_id").order_by("pk")]
    relationship.objects.bulk_create(rows, batch_size=500)


def backward(apps, schema_editor):
    user_model = apps.get_model("accounts", "User")
    relationship = apps.get_model("supervision", "SupervisionRelationship")
    day = timezone.localdate()
    current = (relationship.objects.filter(kind="individual", confirmed_at__isnull=False, started__lte=day)
               .filter(Q(ended__isnull=True) | Q(ended__gt=day)).order_by("supervisee_id", "started", "pk"))
    latest = {}
    for supervisee_id, supervisor_id in current.values_list("supervisee_id", "supervisor_id"):
        latest[supervisee_id] = supervisor_id  # ordered by start: the last one wins
    for supervisee_id, supervisor_id in latest.items():
        user_model.objects.filter(pk=supervisee_id).update(supervisor_id=supervisor_id)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_caseload_handover"),
        ("supervision", "0001_relationships_and_log"),
    ]

    operations = [migrations.RunPython(forward, backward)]
