"""``linewatch demo`` (``make demo``): the whole simulated pilot line on localhost.

Starts Kafka (``runtime.broker``, own work folder), creates the topics, migrates the store,
trains an initial model if the registry is empty, then runs the simulator, the scorer, the
persist stage and the API as child processes (each in its own process group, logs in
``<work>/logs``), creates the first admin login if there is none, prints the URL and that
login, and waits for the first live score. Ctrl-C (or SIGTERM) stops everything it started:
children by their process-group id, the broker by its pid.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import time
from pathlib import Path

import typer
from rich.console import Console

from runtime import broker
from runtime.admin import ensure_topics
from runtime.settings import LineWatchSettings
from services.cli.children import Children, linewatch_argv, wait_for

console = Console()
# (name, argv after `linewatch`). Children get all settings through the environment
# (LINEWATCH_*), so only options the documented commands take appear here.
PIECES = [
    ("simulate", ["simulate", "--speed", "{speed}", "--seed", "{seed}", "--metrics-port", "{metrics_port}"]),
    ("score", ["score", "--metrics-port", "{metrics_port}"]),
    ("persist", ["persist", "--metrics-port", "{metrics_port}"]),
    ("serve", ["serve"]),
]
# ``--maintain predictive``: the pilot's predictive policy acts on the alerts (``linewatch maintain``).
MAINTAINER = ("maintain", ["maintain", "--policy", "{maintain}", "--metrics-port", "{metrics_port}"])
HISTORY_DAYS = 20
# Training history comes from another seed than the live line, so the first model is judged
# on draws it never saw (the same seed would replay the same random draws, shifted in time).
HISTORY_SEED_OFFSET = 1000


def _free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _registry_empty(path: Path) -> bool:
    try:
        from pipelines.models.registry import Registry
    except ImportError:
        return not (path / "index.json").exists()
    return not Registry(path).list()


def _first_admin(store_url: str, login_file: Path) -> tuple[str, str | None]:
    """Create the first admin if there is none; returns (user, password or None if it existed)."""
    from contracts.settings import StoreSettings
    from store import Store
    from store.credentials import Role, new_password
    from store.repos.auth import create_user, user_count

    store = Store.open(StoreSettings(url=store_url))
    try:
        with store.engine.begin() as conn:
            if user_count(conn, Role.ADMIN) > 0:
                return "admin", None
            password = new_password()
            create_user(conn, "admin", password, Role.ADMIN, "First administrator (linewatch demo)")
    finally:
        store.close()
    login_file.write_text(f"user: admin\npassword: {password}\n")
    login_file.chmod(stat.S_IRUSR | stat.S_IWUSR)  # the demo's own login, readable by its owner only
    return "admin", password


def _score_count(store_url: str) -> int:
    from contracts.settings import StoreSettings
    from store import Store
    from store.repos import scores

    try:
        store = Store.open(StoreSettings(url=store_url), upgrade=False)
    except Exception:  # noqa: BLE001 - a store that cannot open yet counts as "no score yet"
        return 0
    try:
        with store.engine.connect() as conn:
            return scores.count(conn)
    except Exception:  # noqa: BLE001 - table not there yet counts as "no score yet"
        return 0
    finally:
        store.close()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def _train_if_empty(registry: Path, env: dict[str, str], work: Path, seed: int) -> None:
    """Simulated history (another seed than the live line) -> ``linewatch train --quick``,
    only when the registry has no champion yet."""
    import subprocess

    if not _registry_empty(registry):
        console.print(f"model registry [bold]{registry}[/] has models: no training needed")
        return
    history = work / "history"
    history_seed = seed + HISTORY_SEED_OFFSET
    console.print(f"registry empty: simulating {HISTORY_DAYS} days of history (seed {history_seed}), "
                  "then [bold]linewatch train --quick[/]")
    steps = [linewatch_argv("simulate", "history", "--days", str(HISTORY_DAYS), "--out", str(history),
                            "--seed", str(history_seed)),
             linewatch_argv("train", "--quick", "--data", str(history))]
    for argv in steps:  # foreground, inheriting the terminal, so their progress bars show
        done = subprocess.run(argv, env=env, check=False)
        if done.returncode != 0:
            raise typer.Exit(done.returncode)


def command(work: Path = typer.Option(Path("var/demo"), help="State folder: broker, store, logs, first login."),
            port: int = typer.Option(8000, min=1024, max=65535, help="API/UI port (a free one if taken)."),
            speed: float = typer.Option(3600.0, min=1.0, help="Simulated seconds per real second."),
            seed: int = typer.Option(7, help="Simulator seed."),
            run_for: float = typer.Option(0.0, min=0.0, help="Stop after this many seconds (0: until Ctrl-C)."),
            train: bool = typer.Option(True, help="Train an initial model if the registry is empty."),
            maintain: str = typer.Option("none", help="none (only operators' work orders send commands) or "
                                                      "predictive: `linewatch maintain` acts on the alerts as "
                                                      "the pilot's predictive arm does.")) -> None:
    """Run the simulated pilot line end to end: Kafka, simulator, training, scoring, store, API and UI."""
    if maintain not in ("none", "predictive"):
        from contracts.errors import ConfigError

        raise ConfigError(f"--maintain {maintain!r}: choose none or predictive")
    began = time.monotonic()
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    base = LineWatchSettings()
    store_url = os.environ.get("LINEWATCH_STORE__URL") or f"sqlite:///{work / 'linewatch.db'}"
    registry = Path(os.environ.get("LINEWATCH_REGISTRY_DIR") or base.registry_dir).resolve()
    # `kill <pid>` cleans up like Ctrl-C; SIGINT is set explicitly because a shell starting the
    # demo in the background leaves it ignored, and then Python would never raise KeyboardInterrupt.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    kafka_work = work / "kafka"
    children: Children | None = None
    try:
        info = broker.start(kafka_work)
        console.print(f"kafka running at [bold]{info.bootstrap}[/] (pid {info.pid}, {info.started_s}s)")
        settings = LineWatchSettings(kafka={"bootstrap_servers": info.bootstrap})
        created = ensure_topics(settings.kafka)
        console.print(f"topics: {', '.join(created) or 'all exist'}")
        api_port = _free_port(port)
        env = {**os.environ, "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": info.bootstrap, "LINEWATCH_STORE__URL": store_url,
               "LINEWATCH_REGISTRY_DIR": str(registry), "LINEWATCH_HOST": "127.0.0.1", "LINEWATCH_PORT": str(api_port),
               "PYTHONUNBUFFERED": "1"}
        from contracts.settings import StoreSettings
        from store import Store

        Store.open(StoreSettings(url=store_url)).close()  # migrate once, before any child races to it
        if train:
            _train_if_empty(registry, env, work, seed)
        children = Children(work / "logs", env)
        start_pieces(children, speed, seed, maintain)
        url = f"http://127.0.0.1:{api_port}/"
        if not wait_for(lambda: _http_ok(f"{url}api/v1/auth/me"), 120, children):
            raise typer.Exit(1)
        user, password = _first_admin(store_url, work / "first-login.txt")
        console.print(f"\n[bold]LineWatch is running:[/] {url}")
        console.print(f"login: [bold]{user}[/] / [bold]{password}[/]" if password else
                      f"login: [bold]{user}[/] (created earlier; see {work / 'first-login.txt'})")
        deadline = began + run_for if run_for else None
        _wait_first_score(store_url, children, began, deadline)
        console.print(f"logs: {work / 'logs'} · Ctrl-C stops everything")
        while deadline is None or time.monotonic() < deadline:
            children.check()
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("\nstopping…")
    finally:
        if children is not None:
            names = children.stop_all()
            console.print(f"stopped: {', '.join(names) or 'no children'}")
        if broker.stop(kafka_work):
            console.print("kafka stopped")


def start_pieces(children: Children, speed: float, seed: int, maintain: str = "none") -> None:
    """Start the demo's children (``PIECES``, plus the maintainer unless ``maintain`` is ``none``)."""
    for name, args in PIECES + ([MAINTAINER] if maintain != "none" else []):
        metrics_port = _free_port(0)
        argv = linewatch_argv(*[a.format(speed=speed, seed=seed, metrics_port=metrics_port, maintain=maintain)
                                for a in args])
        child = children.start(name, argv, {"LINEWATCH_METRICS_PORT": str(metrics_port)})
        console.print(f"started {name} (pid {child.proc.pid}, log {child.log})")


def _wait_first_score(store_url: str, children: Children, began: float, deadline: float | None) -> None:
    timeout = 300.0 if deadline is None else max(0.0, min(300.0, deadline - time.monotonic()))
    if wait_for(lambda: _score_count(store_url) > 0, timeout, children, step_s=1.0):
        console.print(f"first live score stored [bold]{time.monotonic() - began:.1f} s[/] after start")
    else:
        console.print(f"[yellow]no score stored after {timeout:.0f} s: see the score and persist logs[/]")
