"""The ``habeas`` command line: Django management commands behind one console script.

Exit codes (INTERFACES.md): 0 done; 1 a check failed; 2 bad input or refused, nothing
written; 3 internal error.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        execute_from_command_line(["habeas", *args])
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        print(f"habeas: internal error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        if os.environ.get("HABEAS_DEBUG") == "1":
            raise
        sys.exit(3)


if __name__ == "__main__":
    main()
