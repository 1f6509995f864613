"""Every row now belongs to a referral (filled by referrals 0002_referrals_from_existing_courses)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("questionnaires", "0003_links_in_referrals"),
        ("referrals", "0002_referrals_from_existing_courses"),
    ]

    operations = [
        migrations.AlterField(
            model_name="questionnairelink", name="referral",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="questionnaire_links", to="referrals.referral"),
        ),
    ]
