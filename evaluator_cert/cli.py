"""``python -m evaluator_cert``: admin commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from evaluator_cert.config import ConfigError, Settings, get_settings
from evaluator_cert.content.loader import ContentError
from evaluator_cert.credentials.keys import SigningKeyError
from evaluator_cert.db.engine import DatabaseUnavailableError
from evaluator_cert.errors import DomainError
from evaluator_cert.runtime import AppContext

T = TypeVar("T")


class CommandError(Exception):
    """A command failed for a reason the operator can act on (printed, exit 1)."""


def progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """A progress bar on stderr for long commands (quiet when stderr is not a terminal)."""
    show = sys.stderr.isatty()
    width = 30
    step = max(1, total // 200)
    for i, item in enumerate(items, 1):
        if show and (i % step == 0 or i == total):
            done = int(width * i / max(total, 1))
            bar = "#" * done + "-" * (width - done)
            sys.stderr.write(f"\r{label} [{bar}] {i}/{total}")
            sys.stderr.flush()
        yield item
    if show:
        sys.stderr.write("\n")


def _open(settings: Settings) -> AppContext:
    return AppContext.open(settings)


# ------------------------------------------------------------------------------ commands


def cmd_init_db(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services.cohort import backfill_rolling
    from evaluator_cert.services.setup import ensure_admin

    ctx = _open(settings)
    with ctx.session() as session:
        password = ensure_admin(session, settings)
        # Trainees whose summary row a migration dropped, or who predate it.
        rebuilt = backfill_rolling(session, ctx.catalog())
    print(f"Database ready: {ctx.engine.url.render_as_string(hide_password=True)}")
    if rebuilt:
        print(f"Rebuilt the rolling agreement of {rebuilt} trainees.")
    if password:
        print("Created the admin account. Note this password now; it is not shown again:")
        print(f"  username: admin\n  password: {password}")
    return 0


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services.demo import seed_demo

    ctx = _open(settings)
    summary = seed_demo(
        ctx,
        trainees=args.trainees,
        answers_per_trainee=args.answers_per_trainee,
        progress=progress,
    )
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.security import generate_password
    from evaluator_cert.services import accounts

    ctx = _open(settings)
    password = args.password or generate_password()
    with ctx.session() as session:
        accounts.create_user(
            session,
            settings,
            username=args.username,
            password=password,
            role=args.role,
            display_name=args.name,
            email=args.email,
            cohort=args.cohort,
        )
    print(f"Created {args.role} {args.username}.")
    if not args.password:
        print(f"Password (shown once): {password}")
    return 0


def cmd_set_role(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services import accounts

    ctx = _open(settings)
    with ctx.session() as session:
        accounts.set_role(session, None, args.username, args.role)
    print(f"{args.username} is now {args.role}.")
    return 0


def cmd_validate_content(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.content.validate import run_validate_cli

    root = Path(args.root) if args.root else settings.content_dir
    return run_validate_cli(root, as_json=args.json, strict=args.strict)


def cmd_import_content(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.content.importers import main as import_main

    return import_main(args.rest)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services.export import export_annotations

    ctx = _open(settings)
    out = Path(args.output)
    with ctx.session() as session:
        count = export_annotations(session, out, fmt=args.format, progress=progress)
    print(f"Wrote {count} annotations to {out}.")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services.backup import backup

    ctx = _open(settings)
    print(backup(ctx, Path(args.output)))
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services.backup import restore

    print(restore(settings, Path(args.input)))
    return 0


def cmd_credentials_list(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services import credentials

    ctx = _open(settings)
    with ctx.session() as session:
        frame = credentials.list_credentials(session, None, args.search, status=args.status)
    if args.json:
        print(frame.to_json(orient="records", date_format="iso", indent=2))
    elif frame.empty:
        print("No credentials.")
    else:
        shown = frame[["id", "username", "level", "status", "issued_at", "valid_until"]]
        print(shown.to_string(index=False))
    return 0


def cmd_credentials_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from evaluator_cert.services import credentials

    ctx = _open(settings)
    with ctx.session() as session:
        row = credentials.revoke_credential(session, None, args.id, args.reason)
    print(f"Revoked {row.id}; the status list shows it from now on.")
    return 0


def cmd_credentials_verify(args: argparse.Namespace, settings: Settings) -> int:
    import json
    from datetime import UTC, datetime

    from evaluator_cert.credentials import verify_offline

    now = datetime.now(UTC)
    if args.jwks:
        # offline: signature and dates against the saved key set; revocation is not known
        result = verify_offline(args.token, args.jwks, now=now)
    else:
        from evaluator_cert.services import credentials

        source = Path(args.token)
        try:
            is_file = source.is_file()
        except (OSError, ValueError):  # a token longer than a file name can be
            is_file = False
        try:
            token = (source.read_text(encoding="utf-8") if is_file else args.token).strip()
            if token.startswith("{"):  # a saved answer of the credentials API
                token = str(json.loads(token).get("credential_jwt") or "")
        except (OSError, ValueError, AttributeError) as exc:
            raise CommandError(f"The credential could not be read: {exc}") from None
        ctx = _open(settings)
        with ctx.session() as session:
            result = credentials.verify_token(session, settings, token, now)
    for name, check in result.checks.items():
        mark = "ok  " if check["ok"] else "FAIL"
        print(f"{mark} {name:<11} {check['detail']}")
    if result.credential:
        print(f"id: {result.credential.get('id')}")
    print("VALID" if result.valid else f"INVALID: {result.reason}")
    return 0 if result.valid else 1


# --------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluator_cert",
        description="Administer an evaluator-cert installation. Settings come from "
        "EVALUATOR_CERT_* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[..., int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    add("init-db", cmd_init_db, "Create or migrate the database; create an admin if none exists.")
    p = add("seed-demo", cmd_seed_demo, "Add demo accounts, a demo cohort and credentials.")
    p.add_argument("--trainees", type=int, default=8, help="trainees in the cohort (default 8)")
    p.add_argument(
        "--answers-per-trainee", type=int, default=None, help="synthetic answers per trainee"
    )
    p = add("create-user", cmd_create_user, "Create an account.")
    p.add_argument("username")
    p.add_argument("--role", default="trainee", choices=["trainee", "instructor", "admin"])
    p.add_argument("--name", help="display name")
    p.add_argument("--email")
    p.add_argument("--cohort")
    p.add_argument("--password", help="initial password (generated and printed if omitted)")
    p = add("set-role", cmd_set_role, "Change an account's role.")
    p.add_argument("username")
    p.add_argument("role", choices=["trainee", "instructor", "admin"])
    p = add("validate-content", cmd_validate_content, "Check curriculum and item banks.")
    p.add_argument("--root", help="folder holding curriculum/ and assessments/")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.add_argument("--strict", action="store_true", help="treat shipped-bank targets as errors")
    p = add(
        "import-content",
        cmd_import_content,
        "Import a Label Studio export or CSV/JSONL rows into an item set file "
        "(see `import-content -- --help`).",
    )
    p.add_argument("rest", nargs=argparse.REMAINDER, help="{label-studio|rows} FILE --out SET ...")
    p = add("export", cmd_export, "Export attempts and annotations as CSV or JSONL.")
    p.add_argument("output", help="file to write")
    p.add_argument("--format", choices=["csv", "jsonl"], default=None)
    p = add("backup", cmd_backup, "Back up the database (SQLite online backup).")
    p.add_argument("output", help="backup file to write")
    p = add("restore", cmd_restore, "Restore a backup into an empty database.")
    p.add_argument("input", help="backup file to read")

    p = sub.add_parser(
        "credentials", help="List, revoke and verify credentials.", description="Credentials."
    )
    csub = p.add_subparsers(dest="credentials_command", required=True, metavar="ACTION")
    c = csub.add_parser("list", help="List issued credentials.")
    c.set_defaults(func=cmd_credentials_list)
    c.add_argument("--json", action="store_true", help="print JSON records")
    c.add_argument("--search", help="part of an id, username or name")
    c.add_argument("--status", choices=["active", "revoked", "expired"])
    c = csub.add_parser("revoke", help="Revoke a credential (published at once).")
    c.set_defaults(func=cmd_credentials_revoke)
    c.add_argument("id", help="credential id: urn:uuid:... or the bare uuid")
    c.add_argument("--reason", required=True, help="shown to the holder and to verifiers")
    c = csub.add_parser(
        "verify",
        help="Verify a credential JWT; exit 0 if valid, 1 if not.",
        description="Verify a credential JWT (or a file holding it). With --jwks, offline "
        "against a saved key set (revocation cannot be checked); without, against this "
        "installation's keys and revocation status.",
    )
    c.set_defaults(func=cmd_credentials_verify)
    c.add_argument("token", metavar="FILE|JWT", help="the JWT, or a file holding it")
    c.add_argument("--jwks", metavar="FILE|URL", help="published key set (jwks.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        return int(args.func(args, settings))
    except (DomainError, CommandError, ConfigError, DatabaseUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ContentError, SigningKeyError) as exc:
        # The content's problems are one per line (file:line: message); keys: one sentence.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
