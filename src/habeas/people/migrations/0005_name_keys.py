"""The staff search's transliterated words (``Person.name_keys``), filled for the people
already registered."""

from typing import Any

from django.db import migrations, models


def fill(apps: Any, schema_editor: Any) -> None:
    from habeas.people.names import search_text

    person = apps.get_model("people", "Person")
    batch = []
    for row in person.objects.only(
        "id", "given_names", "first_surname", "second_surname", "aliases"
    ).iterator(chunk_size=2000):
        row.name_keys = search_text(
            row.given_names, row.first_surname, row.second_surname, row.aliases or []
        )
        batch.append(row)
        if len(batch) == 2000:
            person.objects.bulk_update(batch, ["name_keys"])
            batch = []
    if batch:
        person.objects.bulk_update(batch, ["name_keys"])


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_drop_broad_match_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="name_keys",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
