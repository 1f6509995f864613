"""A patient's referral date and source now live on their referrals (referrals 0002 copied them).

Reversible: going back, each patient gets the date and source of the referral that carried them
(referrals 0002): the earliest referral received before its first course started, or with no
course; failing that (the date was the first course's start), the earliest referral.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

BATCH = 2_000


def restore_from_referrals(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    Referral = apps.get_model("referrals", "Referral")
    Course = apps.get_model("courses", "Course")
    first_start = Course.objects.filter(referral_id=OuterRef("pk")).order_by("started_on", "id").values("started_on")[:1]
    rows = (Referral.objects.annotate(first_start=Subquery(first_start))
            .order_by("patient_id", "received_on", "id")
            .values_list("patient_id", "received_on", "source", "first_start"))
    chosen = {}  # patient id → (date, source, carried); rows come patient by patient

    def flush():
        Patient.objects.bulk_update(
            [Patient(pk=pk, referral_date=date, referral_source=source) for pk, (date, source, _) in chosen.items()],
            ["referral_date", "referral_source"],
        )
        chosen.clear()

    for patient_id, received, source, started in rows.iterator(chunk_size=BATCH):
        carried = started is None or received < started
        if patient_id not in chosen:
            if len(chosen) >= BATCH:
                flush()
            chosen[patient_id] = (received, source, carried)
        elif carried and not chosen[patient_id][2]:
            chosen[patient_id] = (received, source, True)
    flush()


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_phone_numbers_e164"),
        ("referrals", "0002_referrals_from_existing_courses"),
        ("courses", "0003_contacts_and_courses_in_referrals"),
    ]

    operations = [
        migrations.AlterField(model_name="patient", name="referral_date", field=models.DateField(null=True)),
        migrations.AlterField(model_name="patient", name="referral_source", field=models.CharField(max_length=20, default="")),
        migrations.RunPython(migrations.RunPython.noop, restore_from_referrals, elidable=False),
        migrations.RemoveField(model_name="patient", name="referral_date"),
        migrations.RemoveField(model_name="patient", name="referral_source"),
    ]
