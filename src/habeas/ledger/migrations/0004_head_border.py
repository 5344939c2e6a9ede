"""The ledger head keeps the tree's right border (performance, RFC 9162 §2.1): the hashes of
the perfect subtrees of [0, size), largest first. Existing ledgers get it from the stored
tree (level 0 from the entries' leaf hashes, higher levels from the nodes, or from the two
halves below when a node is not stored)."""

import hashlib
from typing import Any

from django.db import migrations, models

SHIFT = 48


def _border_keys(size: int) -> list[tuple[int, int]]:
    keys = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def _fill(apps: Any, schema_editor: Any) -> None:
    alias = schema_editor.connection.alias
    head_model = apps.get_model("ledger", "LedgerHead")
    entry_model = apps.get_model("ledger", "LedgerEntry")
    node_model = apps.get_model("ledger", "LedgerNode")
    head = head_model.objects.using(alias).filter(pk=1).first()
    if head is None or head.size == 0:
        return
    leaves = entry_model.objects.using(alias).values_list("leaf_hash", flat=True)
    nodes = node_model.objects.using(alias).values_list("hash", flat=True)

    def subtree(level: int, idx: int) -> bytes:
        if level == 0:
            return bytes.fromhex(leaves.get(index=idx))
        found = nodes.filter(key=(level << SHIFT) | idx).first()
        if found is not None:
            return bytes(found)
        # not stored (levels below 4 since migration 0005): hash the two halves
        left, right = subtree(level - 1, 2 * idx), subtree(level - 1, 2 * idx + 1)
        return hashlib.sha256(b"\x01" + left + right).digest()

    border = b"".join(subtree(level, idx) for level, idx in _border_keys(head.size))
    head_model.objects.using(alias).filter(pk=1).update(border=border)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_refuse_truncate")]
    operations = [
        migrations.AddField(
            model_name="ledgerhead",
            name="border",
            field=models.BinaryField(
                default=b"",
                help_text=(
                    "hashes of the perfect subtrees of [0, size), largest first, 32 bytes each"
                ),
            ),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
    ]
