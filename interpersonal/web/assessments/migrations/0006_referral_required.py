"""Every row now belongs to a referral (filled by referrals 0002_referrals_from_existing_courses)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0005_measures_and_alerts_in_referrals"),
        ("referrals", "0002_referrals_from_existing_courses"),
    ]

    operations = [
        migrations.AlterField(
            model_name="measurement", name="referral",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="measurements", to="referrals.referral"),
        ),
        migrations.AlterField(
            model_name="riskalert", name="referral",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="risk_alerts", to="referrals.referral"),
        ),
    ]
