"""Events join the chain after their transaction commits (log.seal_pending): ``seq`` records
each event's place, and ``previous_hash`` is empty (NULL) until then. Events chained by 0002
were chained in id order, so their places follow their ids."""

from django.db import migrations, models


def number_chain(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    manager = AuditEvent._base_manager.using(schema_editor.connection.alias)
    ids = manager.exclude(hash="").order_by("id").values_list("id", flat=True).iterator(chunk_size=5000)
    batch = []
    for seq, event_id in enumerate(ids, start=1):
        batch.append(AuditEvent(id=event_id, seq=seq))
        if len(batch) >= 1000:
            manager.bulk_update(batch, ["seq"])
            batch = []
    if batch:
        manager.bulk_update(batch, ["seq"])


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_hash_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.RunPython(number_chain, migrations.RunPython.noop),
    ]
