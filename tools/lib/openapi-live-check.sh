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
