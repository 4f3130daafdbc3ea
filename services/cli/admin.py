"""``linewatch admin``: the first admin credential, users and API keys, from the shell."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console

app = typer.Typer(help="Users and API keys: first admin (shown once), users, scoped keys.", no_args_is_help=True)
console = Console()


def _store():  # type: ignore[no-untyped-def]
    from services.api.settings import ApiSettings
    from store import Store

    settings = ApiSettings()
    return settings, Store.open(settings.store)


@app.command()
def init(username: str = typer.Option("admin", help="Name of the first administrator")) -> None:
    """Create the first admin with a random password, printed once. Refuses if an admin exists."""
    from store.credentials import Role, new_password
    from store.repos.auth import create_user, user_count

    _, store = _store()
    try:
        with store.engine.begin() as conn:
            if user_count(conn, Role.ADMIN):
                console.print("[red]error:[/] an admin already exists; ask them to create users (POST /api/v1/users)")
                raise typer.Exit(2)
            password = new_password()
            create_user(conn, username, password, Role.ADMIN, "First administrator")
    finally:
        store.close()
    console.print(f"admin user: [bold]{username}[/]\npassword:   [bold]{password}[/]\n"
                  "This password is shown once and stored only as a scrypt hash. Keep it safe.")


@app.command("create-user")
def create_user_cmd(username: str, role: str = typer.Option("operator", help="viewer|operator|engineer|admin"),
                    line: list[str] | None = typer.Option(None, help="Line the user may see (repeat); none = all"),
                    ) -> None:
    """Create a user with a random password (printed once)."""
    from store.credentials import Role, new_password
    from store.repos.auth import create_user

    _, store = _store()
    password = new_password()
    try:
        with store.engine.begin() as conn:
            create_user(conn, username, password, Role(role), lines=line or [])
    finally:
        store.close()
    console.print(f"user [bold]{username}[/] ({role}, lines {sorted(line) if line else 'all'}) password: "
                  f"[bold]{password}[/] (shown once)")


@app.command("create-key")
def create_key(name: str, role: str = typer.Option("viewer", help="viewer|operator|engineer|admin"),
               line: list[str] | None = typer.Option(None, help="Line the key may see (repeat); none = all"),
               expires: datetime | None = typer.Option(None, help="Expiry, UTC")) -> None:
    """Create a scoped API key for an integrator (printed once)."""

    from store.credentials import Role
    from store.repos.auth import create_key as create

    settings, store = _store()
    try:
        with store.engine.begin() as conn:
            key, row = create(conn, settings.token_pepper.get_secret_value(), name, Role(role), line or [], "cli",
                              expires.replace(tzinfo=UTC) if expires else None)
    finally:
        store.close()
    console.print(f"key id {row['key_id']} ({role}, lines {row['scopes'] or 'all'}):\n[bold]{key}[/]\n(shown once)")
