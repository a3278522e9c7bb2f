"""Each step carries its escalation's authority (an index of an authority's steps awaiting
a response, by deadline: the QA manager's "Overdue across the authority").

The column is filled from the escalation in one statement per table, the historical
steps included so that their history reads the same. It copies a fact the record
already holds rather than changing the record, so it adds no history rows of its own.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('escalations', '0014_escalation_raised_listed'),
        ('policies', '0006_statement_wanted_label'),
        ('staff', '0004_partners_addressees_clocks'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalstep',
            name='authority',
            field=models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='policies.localauthority'),
        ),
        migrations.AddField(
            model_name='step',
            name='authority',
            field=models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='policies.localauthority'),
        ),
        migrations.RunSQL(
            [
                f"UPDATE {table} SET authority_id = (SELECT e.authority_id FROM "
                f"escalations_escalation e WHERE e.id = {table}.escalation_id)"
                for table in ("escalations_step", "escalations_historicalstep")
            ],
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='step',
            name='authority',
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='policies.localauthority'),
        ),
        migrations.AddIndex(
            model_name='step',
            index=models.Index(models.F('authority'), django.db.models.functions.comparison.Least(django.db.models.functions.comparison.Coalesce('due_on', 'cap_due_on'), django.db.models.functions.comparison.Coalesce('cap_due_on', 'due_on'), output_field=models.DateField()), condition=models.Q(('closed_at__isnull', True), ('responded_at__isnull', True)), name='step_awaiting_by_authority'),
        ),
    ]
