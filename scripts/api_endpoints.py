"""Print the endpoint tables of docs/api.md from the API's own OpenAPI schema (the schema is
the source: the tables are regenerated, never edited by hand).

Usage: ``HABEAS_HOME=$(mktemp -d) .venv/bin/python scripts/api_endpoints.py > /tmp/endpoints.md``
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
    import django

    django.setup()
    from habeas.api import api

    schema = api.get_openapi_schema()
    groups: dict[str, list[str]] = {}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            tag = (op.get("tags") or ["other"])[0]
            query = [
                f"`{p['name']}`" + (" (required)" if p.get("required") else "")
                for p in op.get("parameters", [])
                if p.get("in") == "query"
            ]
            answers = sorted(str(k) for k in op.get("responses", {}))
            ok = ", ".join(a for a in answers if a.startswith("2"))
            errors = ", ".join(a for a in answers if not a.startswith("2")) or "—"
            body = "—"
            if op.get("requestBody"):
                kind = next(iter(op["requestBody"]["content"]))
                body = "JSON" if kind == "application/json" else "form (file)"
            summary = str(op.get("summary", "")).replace("|", "\\|")
            short = path.removeprefix("/api/v1")
            groups.setdefault(tag, []).append(
                f"| `{method.upper()}` | `{short}` | {summary} | {', '.join(query) or '—'} "
                f"| {body} | {ok}; {errors} |"
            )
    for tag, rows in groups.items():
        print(f"\n### {tag}\n")
        print("| method | path | what | query | body | answers |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
