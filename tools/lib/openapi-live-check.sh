# Starts the freshly built server on free ports with a throwaway data directory, checks it
# against its OpenAPI document (tools/openapi-check), and stops it. Sourced by tools/test.
openapi_live_check() {
    local binary="$1"
    local workdir
    workdir="$(mktemp -d)"
    "$binary" serve --udp 127.0.0.1:0 --http 127.0.0.1:0 --data-dir "$workdir/data" --password-cost minimum --registrations-per-address 1000000 \
        --seconds 900 > "$workdir/serve.log" 2>&1 &
    local pid=$!
    local url=""
    for _ in $(seq 1 300); do
        url="$(sed -n 's/^serve: ready .* http=\(http:[^ ]*\).*/\1/p' "$workdir/serve.log" | head -n 1)"
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$url" ]; then
        echo "tools/test: the server did not start:" >&2
        cat "$workdir/serve.log" >&2
        kill "$pid" 2>/dev/null || true
        return 1
    fi
    local status=0
    tools/openapi-check "$url" || status=$?
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if grep -q "unhandled error" "$workdir/serve.log"; then
        echo "tools/test: the server logged unhandled errors during the OpenAPI check:" >&2
        grep "unhandled error" "$workdir/serve.log" | sort | uniq -c | head -20 >&2
        status=1
    fi
    rm -rf "$workdir"
    return "$status"
}

# The same check against a control port on PostgreSQL: `tools/cluster --control 1` (a throwaway
# PostgreSQL of its own), straight to the control port, its log checked before the cluster stops.
# Fewer cases per operation than on SQLite (OPENAPI_CHECK_MAX_EXAMPLES, default 10 here): the
# routes are the same, what differs is the store underneath.
openapi_live_check_postgres() {
    local log
    log="$(mktemp)"
    ARBITER_RUN_CONFIGURATION="${ARBITER_RUN_CONFIGURATION:-debug}" setsid tools/cluster --control 1 --seconds 900 -- \
        --password-cost minimum --registrations-per-address 1000000 > "$log" 2>&1 &
    local pid=$!
    local ready="" url="" work=""
    for _ in $(seq 1 9000); do   # may install PostgreSQL and nginx first
        ready="$(grep -m 1 '^cluster: ready' "$log" || true)"
        [ -n "$ready" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    url="$(sed -n 's/^cluster: control port 1 url=\([^ ]*\).*/\1/p' "$log" | head -n 1)"
    work="$(sed -n 's/^cluster: control port 1 .* data=\([^ ]*\)\/control-1$/\1/p' "$log" | head -n 1)"
    if [ -z "$ready" ] || [ -z "$url" ] || [ -z "$work" ]; then
        echo "tools/test: the PostgreSQL-backed cluster did not start:" >&2
        cat "$log" >&2
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$log"
        return 1
    fi
    local status=0
    OPENAPI_CHECK_MAX_EXAMPLES="${OPENAPI_CHECK_MAX_EXAMPLES:-10}" tools/openapi-check "$url" || status=$?
    if grep -q "unhandled error" "$work/control-1.log"; then
        echo "tools/test: the PostgreSQL-backed server logged unhandled errors during the OpenAPI check:" >&2
        grep "unhandled error" "$work/control-1.log" | sort | uniq -c | head -20 >&2
        status=1
    fi
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || status=1
    rm -f "$log"
    return "$status"
}
