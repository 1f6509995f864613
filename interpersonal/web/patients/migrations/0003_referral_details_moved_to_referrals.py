"""A patient's referral date and source now live on their referrals (referrals 0002 copied them).

Reversible: going back, each patient's earliest referral gives the date and source again.
"""

from django.db import migrations, models


def restore_from_referrals(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    Referral = apps.get_model("referrals", "Referral")
    for referral in Referral.objects.order_by("patient_id", "-received_on", "-id").iterator():
        # The last write per patient wins: the earliest referral (ordered last).
        Patient.objects.filter(pk=referral.patient_id).update(referral_date=referral.received_on,
                                                               referral_source=referral.source)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_phone_numbers_e164"),
        ("referrals", "0002_referrals_from_existing_courses"),
    ]

    operations = [
        migrations.AlterField(model_name="patient", name="referral_date", field=models.DateField(null=True)),
        migrations.AlterField(model_name="patient", name="referral_source", field=models.CharField(max_length=20, default="")),
        migrations.RunPython(migrations.RunPython.noop, restore_from_referrals, elidable=False),
        migrations.RemoveField(model_name="patient", name="referral_date"),
        migrations.RemoveField(model_name="patient", name="referral_source"),
    ]
