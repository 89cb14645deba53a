"""``noc-console token``: create, list and revoke API tokens.

The secret is printed once, at creation; the database keeps only its SHA-256,
so a lost token is revoked and replaced, never recovered.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from console.domain.roles import ROLES
from console.server.core.settings import default_db_url, normalise_db_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-commands of ``noc-console token``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        help="postgresql://… or a SQLite file path (default: server.db in the data folder)",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", parents=[common], help="create a token and print it (once)"
    )
    create.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="what the token may do (intake: a monitor posting alerts, nothing else)",
    )
    create.add_argument(
        "--name", required=True, help="who or what uses it, e.g. wall-display-1 or alice"
    )
    actions.add_parser("list", parents=[common], help="list tokens (never their secrets)")
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a token at once")
    revoke.add_argument("token", metavar="NAME_OR_ID", help="the token's name or id")


def run(args: argparse.Namespace) -> int:
    """Do the action; 0 on success, 1 when it cannot be done (the message says why)."""
    from console.server.core import auth
    from console.server.core.db import Database, DatabaseUnavailableError

    try:
        url = normalise_db_url(args.db) if args.db else default_db_url()
        db = Database(url, pool_size=1)
    except (ValueError, DatabaseUnavailableError) as exc:
        print(f"noc-console token: {exc}", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    try:
        if args.action == "create":
            with db.write_session() as session:
                secret, row = auth.create_token(
                    session=session, name=args.name, role=auth.Role.of(args.role), now=now
                )
                session.commit()
            print(secret)
            print(
                f"created {row.role} token {row.name!r} (id {row.id}); this is the only time "
                "the token is shown: store it now (the console keeps it in the OS keyring)",
                file=sys.stderr,
            )
        elif args.action == "list":
            with db.read_session() as session:
                tokens = auth.list_tokens(session=session)
            if not tokens:
                print("no tokens yet; create one with `noc-console token create`", file=sys.stderr)
            for token in tokens:
                status = (
                    f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
                )
                print(
                    f"{token.id}  {token.name:<24} {token.role:<10} "
                    f"created {token.created_at:%Y-%m-%d %H:%M}  {status}"
                )
        else:
            with db.write_session() as session:
                row = auth.revoke_token(session=session, name_or_id=args.token, now=now)
                session.commit()
            print(f"revoked token {row.name!r} (id {row.id}); it stops working at once")
    except auth.TokenError as exc:
        print(f"noc-console token: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0
