"""Operator command line: the only way to create an admin account (what admins then do through
the API is `user_management`).

    ADMIN_PASSWORD='…' python -m functions.auth.admin create-admin --contact admin@example.com --name 'Site Admin'

Without ADMIN_PASSWORD the password is asked for on the terminal (twice). Run from the project
root, it finds the database and secret of a running `make run` (in LOCAL_DATA_DIR, default
`.data/`, see core.config); variables set in the environment (MONGODB_URI / MONGODB_DB /
JWT_SECRET) always win over those files.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from pydantic import ValidationError
from pymongo.errors import PyMongoError

from functions.auth import accounts, schemas
from functions.core.config import ConfigError, get_settings
from functions.core.errors import AppError


def _password() -> str | None:
    from_env = os.environ.get("ADMIN_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("Password for the new admin (8-128 characters): ")
    if getpass.getpass("Repeat the password: ") != first:
        print("The passwords differ.", file=sys.stderr)
        return None
    return first


def create_admin(contact: str, name: str) -> int:
    password = _password()
    if not password:
        print("Set ADMIN_PASSWORD or run on a terminal to type the password.", file=sys.stderr)
        return 2
    try:
        body = schemas.RegisterIn.model_validate({"contact": contact, "name": name, "password": password})
        from functions.registry import ensure_indexes  # this command line is a composition root

        ensure_indexes()  # the unique contact index must exist before the insert
        user = accounts.create_admin(body)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            print(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}", file=sys.stderr)
        return 1
    except AppError as exc:
        details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
        print(f"{exc.message}{' (' + details + ')' if details else ''}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except PyMongoError as exc:
        print(f"Cannot reach the database ({type(exc).__name__}); is `make run` up?", file=sys.stderr)
        return 2
    print(f"Created admin {user['_id']} ({user['contact']}) in database {get_settings().mongodb_db!r}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.auth.admin", description="CureConnect operator tasks")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account")
    create.add_argument("--contact", required=True, help="e-mail address or phone number")
    create.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    return create_admin(args.contact, args.name)


if __name__ == "__main__":
    raise SystemExit(main())
