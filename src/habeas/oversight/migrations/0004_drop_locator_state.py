"""The locator index is kept by a listener in the transaction of each ``people.*`` event
(``habeas.oversight.events``) instead of being caught up by the first search after a change:
``LocatorState`` (the ledger size the index had caught up to) has nothing left to say.

The index is rebuilt once here, so that people registered since the last catch-up, and the
transliterated keys (names in every script), are in it."""

from typing import Any

from django.db import migrations


def rebuild(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM people_person LIMIT 1")
        if cursor.fetchone() is None:
            return  # a new database: nothing to index (and no later schema to guess)
    from habeas.oversight.services import locator_index_rebuild

    locator_index_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0003_locator_typo_key"),
        ("people", "0004_drop_broad_match_keys"),
    ]

    operations = [
        migrations.DeleteModel(name="LocatorState"),
        migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=True),
    ]
