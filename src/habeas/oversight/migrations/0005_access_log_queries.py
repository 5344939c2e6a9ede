"""The access log records probes of the registry too: manifest dry runs and identity matching
calls (``query``, ``subject``; no person). On SQLite the column changes rebuild the table, which
drops its append-only triggers (migration 0002): they are installed again here."""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TABLE = "oversight_accesslog"


def _triggers_again(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL keeps its trigger through ALTER TABLE
    for op in ("UPDATE", "DELETE"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op.lower()};")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'access log is append-only: {op} refused on {TABLE}'); END;"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('oversight', '0004_drop_locator_state'),
        ('people', '0006_erased_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='accesslog',
            name='query',
            field=models.CharField(blank=True, choices=[('', 'File view'), ('matching', 'Identity matching'), ('dry_run', 'Manifest dry run')], default='', max_length=16, verbose_name='query'),
        ),
        migrations.AddField(
            model_name='accesslog',
            name='subject',
            field=models.CharField(blank=True, default='', max_length=300, verbose_name='subject'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='person',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.person'),
        ),
        migrations.AddConstraint(
            model_name='accesslog',
            constraint=models.CheckConstraint(condition=models.Q(('person__isnull', False), models.Q(('query', ''), _negated=True), _connector='OR'), name='accesslog_file_or_query'),
        ),
        migrations.RunPython(_triggers_again, migrations.RunPython.noop),
    ]
