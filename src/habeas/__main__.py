"""The ``habeas`` command line: Django management commands behind one console script.

Exit codes (INTERFACES.md): 0 done; 1 a check failed; 2 bad input or refused, nothing
written; 3 internal error.

Before Django runs a command, this entry point:

- answers ``habeas``, ``habeas --help`` and ``habeas help`` with Habeas's own commands,
  grouped, one line each (``habeas help --all`` adds the framework's maintenance commands);
- refuses with exit 2 the framework commands that would empty, bypass or re-create the
  append-only ledger's database (``flush``, ``dbshell``, ``loaddata``, ``startproject``, …);
- refuses with exit 2 an unknown command, suggesting the nearest one;
- refuses with exit 2, creating nothing, a command that needs an initialised home
  (``HABEAS_HOME``) when there is none, and says to run ``habeas init``.
"""

from __future__ import annotations

import difflib
import os
import secrets
import sys
from pathlib import Path

# Commands that may run on a fresh home: they create it (or need no database at all).
SETUP_COMMANDS = frozenset(
    {
        "init",
        "demo",
        "serve",
        "check",
        "migrate",
        "makemigrations",
        "showmigrations",
        "sqlmigrate",
        "collectstatic",
        "compilemessages",
        "makemessages",
        "version",
        "help",
    }
)

# Commands (or `command subcommand`) that read only files: they need no home and no database.
FILE_ONLY = frozenset({("ledger", "witness"), ("ledger", "actions"), ("link",)})

# Framework commands refused: each would destroy, bypass or re-create what the ledger records.
REFUSED = {
    "flush": "it deletes every row, and the ledger is append-only",
    "sqlflush": "it prints the SQL that deletes every row, and the ledger is append-only",
    "dbshell": "it edits tables outside the services that write the ledger",
    "loaddata": "it writes rows that no ledger entry records",
    "remove_stale_contenttypes": "it deletes rows outside the ledger",
    "createsuperuser": "accounts are ledger events: use `habeas user`",
    "changepassword": "accounts are ledger events: use `habeas user`",
    "startproject": "it creates a new Django project, not a Habeas command",
    "startapp": "it creates a new Django application, not a Habeas command",
    "squashmigrations": "it rewrites the migrations a deployed database was built with",
}

# Habeas's commands by group, in the order `habeas --help` lists them; a command of a Habeas
# application not named here is listed under "Other".
GROUPS: list[tuple[str, list[str]]] = [
    ("Setting up", ["init", "apply", "demo", "serve", "user", "token", "unlock"]),
    ("Transfers", ["import-manifest", "accept-manifest", "admit", "link", "train-matcher"]),
    ("Custody", ["show", "release", "transfer", "check-custody", "erase"]),
    (
        "Housing and conditions",
        ["housing-plan", "roll-count", "alerts", "ingest-readings", "mqtt-listen"],
    ),
    ("Billing", ["invoice", "reconcile"]),
    ("Public information", ["locate", "stats"]),
    ("Ledger", ["verify-ledger", "ledger"]),
    ("Background work", ["worker"]),
]


def _home() -> Path:
    return Path(os.environ.get("HABEAS_HOME", "var")).resolve()


def _sqlite_path(home: Path) -> Path | None:
    """The embedded database's file, or None when ``DATABASE_URL`` selects another database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return home / "habeas.sqlite3"
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).resolve()
    return None


def _initialised_before_setup(home: Path) -> bool:
    """Without touching anything: the home exists and so does the embedded database file."""
    if not home.is_dir():
        return False
    path = _sqlite_path(home)
    return path is None or path.is_file()


def _initialised_database() -> bool:
    from django.db import connection

    from habeas.ledger.models import LedgerEntry

    return LedgerEntry._meta.db_table in connection.introspection.table_names()


def _first_line(text: str, width: int = 78) -> str:
    """The first sentence of a command's help, cut at a clause when it is long."""
    line = " ".join(str(text).split()).split(". ")[0].rstrip(".")
    if len(line) > width:
        line = line.split("; ")[0].split(" (")[0]
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def _habeas_commands() -> dict[str, str]:
    """Habeas's own commands (those of the ``habeas.*`` applications) and their apps."""
    from django.core.management import get_commands

    return {name: app for name, app in get_commands().items() if app.startswith("habeas.")}


def _print_help(show_all: bool) -> None:
    from django.core.management import get_commands, load_command_class

    own = _habeas_commands()
    listed: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for title, names in GROUPS:
        present = [n for n in names if n in own]
        seen.update(present)
        if present:
            listed.append((title, present))
    others = sorted(set(own) - seen)
    if others:
        listed.append(("Other", others))
    width = max(len(n) for n in own) + 2
    lines = [
        "usage: habeas <command> [options]     habeas <command> --help for its options",
        "",
        "Habeas: a custody registry and prison operations system. Commands:",
    ]
    for title, names in listed:
        lines.append("")
        lines.append(f"{title}:")
        for name in names:
            command = load_command_class(own[name], name)
            lines.append(f"  {name:<{width}}{_first_line(command.help)}")
    if show_all:
        framework = sorted(n for n in get_commands() if n not in own and n not in REFUSED)
        import textwrap

        lines += ["", "Framework maintenance commands:"]
        lines += textwrap.wrap(
            ", ".join(framework), 90, initial_indent="  ", subsequent_indent="  "
        )
    lines += [
        "",
        "Exit codes: 0 done; 1 a check failed; 2 bad input or refused (nothing written);",
        "3 internal error. `habeas help --all` also lists the framework's maintenance commands.",
    ]
    print("\n".join(lines))


def _refuse(message: str) -> None:
    print(f"habeas: {message}", file=sys.stderr)
    sys.exit(2)


def _dispatch(args: list[str]) -> None:
    import django

    command = args[0] if args else "help"
    wants_help = any(a in ("-h", "--help") for a in args[1:])
    if command in ("-h", "--help") or (command == "help" and len(args) <= 2):
        if len(args) == 2 and args[1] not in ("--all", "-a"):
            command, args, wants_help = args[1], [args[1], "--help"], True
        else:
            django.setup()
            _print_help(show_all=args[1:] in (["--all"], ["-a"]))
            return
    if command in REFUSED:
        _refuse(f"`{command}` is refused: {REFUSED[command]}.")
    home = _home()
    needs_home = (
        command not in SETUP_COMMANDS
        and not wants_help
        and not command.startswith("-")
        and not ({tuple(args[:1]), tuple(args[:2])} & FILE_ONLY)
    )
    from django.apps import apps

    # Called inside a process that already runs Django (its database configured): the
    # database check below decides alone.
    ready = apps.ready or _initialised_before_setup(home)
    if command in SETUP_COMMANDS:
        home.mkdir(parents=True, exist_ok=True)
    elif needs_home and not ready:
        # This process ends without running a command (an unknown one, or a home to
        # initialise first): it must not leave a secret key behind in the home.
        os.environ.setdefault("HABEAS_SECRET_KEY", secrets.token_urlsafe(50))
    django.setup()
    if not command.startswith("-"):
        from django.core.management import get_commands

        if command not in get_commands():
            near = difflib.get_close_matches(command, list(_habeas_commands()), n=1)
            hint = f" Did you mean `{near[0]}`?" if near else ""
            _refuse(f"unknown command `{command}`.{hint} `habeas --help` lists the commands.")
    if needs_home and not ready:
        _refuse(f"{home} is not an initialised Habeas home: run `habeas init` first.")
    if needs_home and not _initialised_database():
        _refuse(f"the database of {home} is not initialised: run `habeas init` first.")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["habeas", *args])


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "habeas.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        _dispatch(args)
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
