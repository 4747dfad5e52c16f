#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and the benchmarks: private data directory under
# /tmp, private port, trust authentication on 127.0.0.1, removed afterwards.
#
#   scripts/pg-cluster.sh run [--durable] -- COMMAND [ARG...]
#       start a cluster, run COMMAND with LEGATO_TEST_POSTGRES_URL (a database URL) and
#       LEGATO_TEST_POSTGRES_DIR (the cluster's directory) set, then stop and remove the
#       cluster whatever COMMAND did; exits with COMMAND's status.
#   scripts/pg-cluster.sh start [--durable] DIR    create and start a cluster in DIR (new or
#                                                  empty); prints its URL
#   scripts/pg-cluster.sh stop DIR                 stop the cluster in DIR (data kept)
#   scripts/pg-cluster.sh resume DIR               start the stopped cluster in DIR again
#   scripts/pg-cluster.sh remove DIR               stop it and delete DIR
#   scripts/pg-cluster.sh install                  install PostgreSQL if it is missing
#
# Test clusters trade durability for speed (fsync=off); --durable keeps PostgreSQL's default
# durability (fsync, synchronous_commit) for benchmarks. Debian's `postgresql` package is
# installed with apt-get when no PostgreSQL is found (root only). PostgreSQL refuses to run as
# root: as root, the cluster runs as the `postgres` user the package creates.
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$dir" ]]; then
        local sudo=""
        if [[ $(id -u) -ne 0 ]]; then
            command -v sudo >/dev/null 2>&1 \
                || die "PostgreSQL is not installed (apt-get install postgresql, as root)"
            sudo="sudo"
        fi
        echo "pg-cluster: installing Debian's postgresql package" >&2
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        $sudo env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends postgresql >&2
        dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
        [[ -n "$dir" ]] || die "no PostgreSQL binaries after installing the package"
    fi
    echo "$dir"
}

# Run a PostgreSQL program as the cluster's owner (the postgres user when we are root).
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd_start() {
    local durable=0
    if [[ "${1:-}" == "--durable" ]]; then durable=1; shift; fi
    local dir=${1:?usage: start [--durable] DIR}
    local bin port
    bin=$(pg_bindir)
    mkdir -p "$dir"
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
    mkdir -p "$dir/data"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
        chown -R postgres "$dir"
        chmod 755 "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    port=$(free_port)
    {
        echo "port = $port"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 300"
        echo "shared_buffers = 128MB"
        echo "log_min_messages = warning"
        echo "log_min_error_statement = panic"
        if [[ $durable -eq 0 ]]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } >>"$dir/data/postgresql.conf"
    echo "$port" >"$dir/port"
    echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
    echo "$bin" >"$dir/bindir"
    cmd_resume "$dir" >/dev/null
    cat "$dir/url"
}

cmd_resume() {
    local dir=${1:?usage: resume DIR}
    local bin
    bin=$(cat "$dir/bindir")
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { tail -n 20 "$dir/server.log" >&2 || true; die "PostgreSQL did not start"; }
    cat "$dir/url"
}

cmd_stop() {
    local dir=${1:?usage: stop DIR}
    [[ -f "$dir/bindir" ]] || return 0
    local bin
    bin=$(cat "$dir/bindir")
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
            || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}

cmd_remove() {
    local dir=${1:?usage: remove DIR}
    cmd_stop "$dir"
    rm -rf "$dir"
}

cmd_run() {
    local flags=()
    while [[ $# -gt 0 && "$1" != "--" ]]; do flags+=("$1"); shift; done
    [[ "${1:-}" == "--" ]] || die "usage: run [--durable] -- COMMAND..."
    shift
    if ! (pg_bindir >/dev/null); then
        echo "pg-cluster: no PostgreSQL: running without it (its tests are skipped)" >&2
        "$@"
        return
    fi
    local url status=0
    RUN_DIR=$(mktemp -d /tmp/legato-pg.XXXXXX)
    local dir=$RUN_DIR
    trap 'cmd_remove "$RUN_DIR"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    url=$(cmd_start "${flags[@]}" "$dir")
    echo "pg-cluster: PostgreSQL at $url (data in $dir)" >&2
    LEGATO_TEST_POSTGRES_URL="$url" LEGATO_TEST_POSTGRES_DIR="$dir" "$@" || status=$?
    return $status
}

what=${1:-}
shift || true
case "$what" in
    run) cmd_run "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    resume) cmd_resume "$@" ;;
    remove) cmd_remove "$@" ;;
    install) (pg_bindir >/dev/null) || echo "pg-cluster: PostgreSQL is missing: its tests will skip" >&2 ;;
    *) die "usage: $0 run|start|stop|resume|remove|install ... (see the header of this script)" ;;
esac
