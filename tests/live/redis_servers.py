"""Private redis-server processes for live tests: a plain server (no persistence), a replica of one,
and a Sentinel watching a primary (the same binary in sentinel mode)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


class RedisServer:
    def __init__(self, port: int, workdir: Path, *, replica_of: int | None = None):
        self.port = port
        self.workdir = workdir
        self.replica_of = replica_of
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.workdir)]
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        self.process = subprocess.Popen(
            ["redis-server", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_ping(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL: the machine or the process dies without a word to its clients."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class SentinelServer:
    """One Sentinel with quorum 1, quick to act: down after 1 s, failover within a few seconds."""

    def __init__(self, port: int, workdir: Path, *, service: str, primary_port: int):
        self.port = port
        self.workdir = workdir
        self.service = service
        self.primary_port = primary_port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "sentinel.conf"  # Sentinel rewrites its own file as it learns
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.workdir}\n"
            f"sentinel monitor {self.service} 127.0.0.1 {self.primary_port} 1\n"
            f"sentinel down-after-milliseconds {self.service} 1000\n"
            f"sentinel failover-timeout {self.service} 5000\n"
            f"sentinel parallel-syncs {self.service} 1\n"
        )
        self.process = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_ping(self.port)

    def primary_port_now(self) -> int | None:
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            address = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
            return int(address[1]) if address else None
        finally:
            client.close()

    def replicas_known(self) -> int:
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            return len(client.execute_command("SENTINEL", "REPLICAS", self.service))
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def wait_for_ping(port: int, timeout: float = 10) -> None:
    client = redis.Redis(port=port)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server on {port} did not start")
    finally:
        client.close()
