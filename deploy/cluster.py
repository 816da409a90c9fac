"""The deployment shape on one machine: nginx in front of N web processes and M supervised RQ workers,
on PostgreSQL and Redis. `make run-cluster` runs it for a newcomer to see; tests/live/test_cluster_faults.py
and bench/soak.py start it to break it and to load it. Also renders deploy/nginx/zhanye.conf.in for a
real host (`python -m deploy.cluster render-nginx ...`).

Everything it writes (rendered nginx config, pid file, logs, shared secrets) stays in its run directory;
nginx listens on a port above 1024, so no root is needed (as root, its workers run as root too)."""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = Path(__file__).resolve().parent / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def upstream_lines(ports: list[int], host: str = "127.0.0.1") -> str:
    # max_fails=0: nginx never marks a process down by itself. It always counts a slow answer (a read
    # timeout) as a failure, whatever proxy_next_upstream says, so on a saturated machine every process
    # was marked down at once and everyone got 502 "no live upstreams". A dead process refuses the
    # connect at once and the request goes to the next one (proxy_next_upstream error), which costs
    # nothing on the same host or LAN.
    return "\n".join(f"    server {host}:{p} max_fails=0;" for p in ports)


def render(template: Path, values: dict[str, str]) -> str:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise ValueError(f"{template.name}: unfilled placeholder near {text[text.index('{{') :][:40]!r}")
    return text


def render_site(
    *,
    web_ports: list[int],
    listen: str,
    server_name: str = "_",
    pwa_dist: Path = ROOT / "pwa" / "dist",
    access_log: str = "/var/log/nginx/zhanye.access.log",
    login_rate: str = "30r/m",
) -> str:
    return render(
        NGINX_DIR / "zhanye.conf.in",
        {
            "UPSTREAMS": upstream_lines(web_ports),
            "LISTEN": listen,
            "SERVER_NAME": server_name,
            "PWA_DIST": str(pwa_dist),
            "ACCESS_LOG": access_log,
            "LOGIN_RATE": login_rate,
        },
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(
    url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    import requests

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{process.args} exited with {process.returncode}: {tail}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


@dataclass
class Cluster:
    """nginx + `web` web processes + `workers` supervised RQ workers. `env` holds at least
    DATABASE_URL and REDIS_URL (an already migrated database); the rest is filled in here."""

    env: dict[str, str]
    web: int = 3
    workers: int = 2
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="zhanye-cluster-")))
    port: int = 0
    login_rate: str = "30r/m"
    web_ports: list[int] = field(default_factory=list)
    web_procs: list[subprocess.Popen] = field(default_factory=list)
    worker_procs: list[subprocess.Popen] = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        env.setdefault("VAR_DIR", str(self.run_dir / "var"))
        env.update(
            {
                "PUBLIC_URL": self.url,
                "TRUSTED_PROXIES": "1",  # nginx
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            }
        )
        env.update(extra)
        return env

    def start(self) -> Cluster:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.web_ports = [free_port() for _ in range(self.web)]
        # Every process must sign sessions and encrypt with the same keys: make them once, here,
        # before any process could race to make its own (on a host they sit in the env file).
        subprocess.run(
            [sys.executable, "-c", "from server.config import load_settings; load_settings()"],
            env=self._env(),
            cwd=ROOT,
            check=True,
        )
        for i in range(self.web):
            self.web_procs.append(self._start_web(i))
        for i in range(self.workers):
            self.worker_procs.append(self._start_worker(i))
        self._start_nginx()
        for i, proc in enumerate(self.web_procs):
            wait_http(f"http://127.0.0.1:{self.web_ports[i]}/healthz", 60, proc, self.log(f"web{i}"))
        wait_http(self.url + "/healthz", 15, self.nginx, self.run_dir / "nginx-error.log")
        return self

    def log(self, name: str) -> Path:
        return self.run_dir / f"{name}.log"

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        with self.log(name).open("ab") as out:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def _start_web(self, i: int) -> subprocess.Popen:
        env = self._env(PORT=str(self.web_ports[i]), HOST="127.0.0.1", ASYNC_MODE="eventlet")
        return self._spawn(f"web{i}", [sys.executable, str(ROOT / "wsgi.py")], env)

    def _start_worker(self, i: int) -> subprocess.Popen:
        # The Procfile's worker line: RQ under the tiny supervisor (systemd's Restart=always on a host).
        rq = str(Path(sys.executable).parent / "rq")
        argv = [sys.executable, "-m", "tasks.supervise", rq, "worker", "--with-scheduler"]
        # No fixed -n name: after a kill -9 the dead worker's name stays registered until its TTL.
        argv += ["-c", "tasks.rq_settings", "-w", "tasks.worker.Worker"]
        return self._spawn(f"worker{i}", argv, self._env())

    def _start_nginx(self) -> None:
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / sub).mkdir(exist_ok=True)
        site = render_site(
            web_ports=self.web_ports,
            listen=f"127.0.0.1:{self.port}",
            server_name="localhost",
            pwa_dist=Path(self._env().get("PWA_DIST") or ROOT / "pwa" / "dist"),  # as the processes see it
            access_log=f"{self.run_dir}/nginx-access.log",
            login_rate=self.login_rate,
        )
        (self.run_dir / "zhanye.conf").write_text(site)
        user = pwd.getpwuid(os.getuid()).pw_name
        main = render(
            NGINX_DIR / "local.conf.in",
            {"RUN_DIR": str(self.run_dir), "USER_LINE": f"user {user};" if os.getuid() == 0 else ""},
        )
        (self.run_dir / "nginx.conf").write_text(main)
        conf = str(self.run_dir / "nginx.conf")
        check = subprocess.run([NGINX, "-t", "-q", "-c", conf, "-p", str(self.run_dir)], capture_output=True)
        if check.returncode:
            raise RuntimeError(f"nginx -t: {check.stderr.decode()}")
        self.nginx = self._spawn("nginx", [NGINX, "-c", conf, "-p", str(self.run_dir)], dict(os.environ))

    # --- faults ------------------------------------------------------------------------------------

    def kill_web(self, i: int) -> None:
        """kill -9 of one web process: no goodbye to its sockets, no cleanup."""
        self.web_procs[i].send_signal(signal.SIGKILL)
        self.web_procs[i].wait(10)

    def restart_web(self, i: int) -> None:
        self.web_procs[i] = self._start_web(i)
        wait_http(f"http://127.0.0.1:{self.web_ports[i]}/healthz", 60, self.web_procs[i], self.log(f"web{i}"))

    def worker_pids(self, i: int) -> list[int]:
        """The RQ worker under supervisor `i` and its work horse, if one is running."""
        found: list[int] = []
        frontier = [self.worker_procs[i].pid]
        while frontier:
            pid = frontier.pop()
            path = Path(f"/proc/{pid}/task/{pid}/children")
            kids = [int(p) for p in path.read_text().split()] if path.exists() else []
            found += kids
            frontier += kids
        return found

    def kill_worker(self, i: int) -> list[int]:
        """kill -9 of the RQ worker and its work horse (a machine's worker dying mid-job); its
        supervisor starts a new worker, as systemd's Restart=always does on a host."""
        pids = self.worker_pids(i)
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU of each process so far (its children included: a worker's horses)."""
        import psutil

        out: dict[str, float] = {}
        named = [(f"web{i}", p) for i, p in enumerate(self.web_procs)]
        named += [(f"worker{i}", p) for i, p in enumerate(self.worker_procs)]
        if self.nginx:
            named.append(("nginx", self.nginx))
        for name, proc in named:
            try:
                root = psutil.Process(proc.pid)
                total = 0.0
                for p in [root, *root.children(recursive=True)]:
                    t = p.cpu_times()
                    total += t.user + t.system + t.children_user + t.children_system
                out[name] = total
            except psutil.Error:
                out[name] = float("nan")
        return out

    def stop(self, grace: float = 15) -> None:
        procs = [p for p in [self.nginx, *self.web_procs, *self.worker_procs] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()  # nginx: fast shutdown; web: exit; supervisor: passes it on
        deadline = time.time() + grace
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def ensure_database(url: str) -> None:
    """Creates the database named by `url` if it is missing (PostgreSQL), then migrates it."""
    from sqlalchemy import create_engine, text

    from server.config import sqlalchemy_url

    pg = sqlalchemy_url(url)
    if pg.startswith("postgresql"):
        name = pg.rsplit("/", 1)[1]
        admin = create_engine(pg.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "upgrade", "head"], env=env, cwd=ROOT, check=True
    )


def _run(args: argparse.Namespace) -> int:
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DEMO_MODE": "true",
        "VAR_DIR": str(ROOT / "var" / "cluster"),
    }
    ensure_database(args.database_url)
    demo_env = dict(os.environ, **env)
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run(
        [flask, "--app", "server", "demo", "load", "--if-empty"], env=demo_env, cwd=ROOT, check=True
    )
    subprocess.run([sys.executable, "-m", "tasks.schedule"], env=demo_env, cwd=ROOT, check=True)
    run_dir = Path(args.run_dir) if args.run_dir else None
    cluster = Cluster(env=env, web=args.web, workers=args.workers, port=args.port)
    if run_dir:
        cluster.run_dir = run_dir
    stop = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    cluster.start()
    print("")
    print(
        f"  展业 Zhanye cluster: {cluster.url}  (nginx -> {args.web} web processes, {args.workers} workers)"
    )
    print(f"  web processes on ports {', '.join(map(str, cluster.web_ports))}; logs in {cluster.run_dir}")
    print(
        "  Demo logins (password demo1234): rm_newcomer rm_general rm_excellent rm_super rm_veteran lead risk admin"
    )
    print("  Ctrl-C stops everything.")
    print("", flush=True)
    try:
        while not stop:
            dead = [
                p.args
                for p in [cluster.nginx, *cluster.web_procs, *cluster.worker_procs]
                if p and p.poll() is not None
            ]
            if dead:
                print(f"stopped: {dead[0]} exited (see {cluster.run_dir})", file=sys.stderr)
                return 1
            time.sleep(0.5)
    finally:
        cluster.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="nginx + web x N + workers x M on this machine, until Ctrl-C")
    run.add_argument("--web", type=int, default=3)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", "8080")))
    run.add_argument(
        "--database-url",
        default=os.environ.get("CLUSTER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/zhanye_cluster"),
    )
    run.add_argument("--redis-url", default=os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/2"))
    run.add_argument("--run-dir", default="")
    site = sub.add_parser("render-nginx", help="print deploy/nginx/zhanye.conf.in filled in for a host")
    site.add_argument("--web-ports", default="5001,5002,5003", help="comma-separated ports on --web-host")
    site.add_argument("--web-host", default="127.0.0.1")
    site.add_argument("--listen", default="80")
    site.add_argument("--server-name", default="_")
    site.add_argument("--pwa-dist", default="/opt/zhanye/pwa/dist")
    site.add_argument("--login-rate", default="30r/m")
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    text = render(
        NGINX_DIR / "zhanye.conf.in",
        {
            "UPSTREAMS": "\n".join(
                upstream_lines([int(p)], h)
                for h in args.web_host.split(",")
                for p in args.web_ports.split(",")
            ),
            "LISTEN": args.listen,
            "SERVER_NAME": args.server_name,
            "PWA_DIST": args.pwa_dist,
            "ACCESS_LOG": "/var/log/nginx/zhanye.access.log",
            "LOGIN_RATE": args.login_rate,
        },
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
