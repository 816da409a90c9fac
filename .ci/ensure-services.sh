#!/usr/bin/env bash
# Makes sure Redis (and, with --postgres, PostgreSQL) are installed and running on this machine.
# Starts them when installed but stopped; installs them with apt-get when missing and we are root.
set -euo pipefail
want_pg=0
want_browser=0
want_nginx=0
for arg in "$@"; do
  case "$arg" in
    --postgres) want_pg=1 ;;
    --browser) want_browser=1 ;;
    --nginx) want_nginx=1 ;;
  esac
done

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  if ! command -v apt-get >/dev/null; then echo "Please install: $*" >&2; return 1; fi
  as_root apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null || { echo "Could not install $*; run: sudo apt-get install $*" >&2; return 1; }
}

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || apt_install redis-server redis-tools
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir "$(test -w /var/lib/redis && echo /var/lib/redis || echo /tmp)" \
    --logfile "$(test -w /var/log/redis && echo /var/log/redis/zhanye.log || echo /tmp/redis-zhanye.log)"
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null
echo "redis: up"

if [ "$want_pg" = 1 ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    version=$(ls /etc/postgresql | sort -V | tail -1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
    for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  # Tests connect as postgres over TCP; make sure that works without a password prompt.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    as_root su postgres -c "psql -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    export PGPASSWORD=postgres
  fi
  echo "postgresql: up"
fi

if [ "$want_browser" = 1 ]; then
  # Browser tests drive Debian's Chromium; a test tool's own browser download cannot work here.
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium fonts-noto-cjk
  fi
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"
fi

if [ "$want_nginx" = 1 ]; then
  # The cluster (make run-cluster, tests/live/test_cluster_faults.py) runs its own nginx from a run
  # directory; only the binary is needed, not Debian's nginx service.
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx
  echo "nginx: $( (command -v nginx || echo /usr/sbin/nginx) )"
fi
