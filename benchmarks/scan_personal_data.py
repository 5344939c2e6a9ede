"""Scan a Habeas database's ledger for personal data in clear (issue acceptance: "a scan of
every ledger row of the full demo finds no name, date of birth, phone, e-mail, injury or
complaint text in clear").

Usage: ``HABEAS_HOME=DIR python benchmarks/scan_personal_data.py`` on a database loaded with
``habeas demo --scale full --no-serve``. Prints how many values were searched in how many
entries, the time taken, and any finding (exit 1 if there is one).
"""

from __future__ import annotations

import os
import sys
import time


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
    import django

    django.setup()
    from habeas.oversight.personal_scan import scan

    started = time.perf_counter()
    searched, read, findings = scan()
    took = time.perf_counter() - started
    print(f"searched {searched:,} personal values in {read:,} ledger entries in {took:.1f} s")
    for f in findings:
        print(f"  entry {f.entry}: {f.kind} in clear: {f.value!r}")
    print("no personal data in clear" if not findings else f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
