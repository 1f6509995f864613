"""Add the audit hash chain (issue 7) and compute it for existing events in id order."""

from django.db import migrations, models

from interpersonal.web.audit.chain import CONTENT_FIELDS, GENESIS, compute_hash


def build_chain(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    manager = AuditEvent._base_manager.using(schema_editor.connection.alias)
    previous = GENESIS
    rows = manager.order_by("id").values_list(*CONTENT_FIELDS).iterator(chunk_size=2000)
    batch = []
    for row in rows:
        digest = compute_hash(*row, previous)
        batch.append(AuditEvent(id=row[0], previous_hash=previous, hash=digest))
        previous = digest
        if len(batch) >= 1000:
            manager.bulk_update(batch, ["previous_hash", "hash"])
            batch = []
    if batch:
        manager.bulk_update(batch, ["previous_hash", "hash"])


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(build_chain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
