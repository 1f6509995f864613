"""A risk alert may be raised before its measurement exists (a patient's saved, unsent answer)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_instrument(apps, schema_editor):
    RiskAlert = apps.get_model("assessments", "RiskAlert")
    for alert in RiskAlert.objects.select_related("measurement").filter(instrument=""):
        alert.instrument = alert.measurement.instrument
        alert.save(update_fields=["instrument"])


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_measurement_questionnaire_link"),
        ("questionnaires", "0002_one_scheduled_link_per_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskalert",
            name="instrument",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(fill_instrument, migrations.RunPython.noop),
        migrations.AddField(
            model_name="riskalert",
            name="questionnaire_link",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="risk_alerts",
                to="questionnaires.questionnairelink",
            ),
        ),
        migrations.AlterField(
            model_name="riskalert",
            name="measurement",
            field=models.OneToOneField(
                blank=True, help_text="Empty while the risk answer is in a patient's unsent questionnaire (raised as soon as it is saved).",
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="risk_alert", to="assessments.measurement",
            ),
        ),
    ]
