# tools/bench --control: the control port's requests per second and latency under wrk, side by
# side in one run: one `arbiter serve` on SQLite, one on PostgreSQL, and two on PostgreSQL behind
# nginx (tools/cluster, whose first control port is also the "one on PostgreSQL"). Round by round,
# each endpoint on each setup in turn, so drift on a shared machine falls on all alike. Sourced by
# tools/bench after ensure-packages.sh and release-build.sh.

control_bench() {
    local seconds="${BENCH_CONTROL_DURATION:-10}" connections="${BENCH_CONTROL_CONNECTIONS:-32}" rounds="${BENCH_CONTROL_ROUNDS:-2}"
    ensure_packages wrk curl
    release_build --product arbiter
    local bin
    bin="$(swift build "${release_flags[@]}" --show-bin-path)"
    work="$(mktemp -d)"
    sqlite_pid=""
    cluster_pid=""
    # The cluster stops everything it started on SIGTERM; wait for it so nothing outlives us.
    trap '[ -n "$sqlite_pid" ] && kill -TERM "$sqlite_pid" 2> /dev/null; [ -n "$cluster_pid" ] && kill -TERM "$cluster_pid" 2> /dev/null; wait; rm -rf "$work"' EXIT
    # Cheap hashing and no registration limit: the run measures reads, not Argon2id.
    local serve_options=(--password-cost minimum --registrations-per-address 1000000)

    "$bin/arbiter" serve --udp 127.0.0.1:0 --http 127.0.0.1:0 --game-threads 1 --data-dir "$work/sqlite" "${serve_options[@]}" \
        > "$work/sqlite.log" 2>&1 &
    sqlite_pid=$!
    local sqlite_url=""
    for _ in $(seq 1 300); do
        sqlite_url="$(sed -n 's/^serve: ready .* http=\(http:[^ ]*\).*/\1/p' "$work/sqlite.log" | head -n 1)"
        [ -n "$sqlite_url" ] && break
        sleep 0.1
    done
    [ -n "$sqlite_url" ] || { cat "$work/sqlite.log"; exit 1; }

    tools/cluster --control 2 -- "${serve_options[@]}" > "$work/cluster.log" 2>&1 &
    cluster_pid=$!
    local balancer_url="" postgres_url=""
    for _ in $(seq 1 3000); do
        balancer_url="$(sed -n 's/^cluster: ready url=\([^ ]*\) .*/\1/p' "$work/cluster.log")"
        [ -n "$balancer_url" ] && break
        kill -0 "$cluster_pid" 2> /dev/null || break
        sleep 0.1
    done
    [ -n "$balancer_url" ] || { cat "$work/cluster.log"; exit 1; }
    postgres_url="$(sed -n 's/^cluster: control port 1 url=\([^ ]*\) .*/\1/p' "$work/cluster.log")"
    local postgres_version
    postgres_version="$(sed -n 's/^cluster: database .*(PostgreSQL \([^,]*\),.*/\1/p' "$work/cluster.log")"

    local labels=(sqlite postgres nginx)
    declare -A url=([sqlite]="$sqlite_url" [postgres]="$postgres_url" [nginx]="$balancer_url")
    declare -A token=()
    # A player to read as on each setup.
    for label in "${labels[@]}"; do
        token[$label]="$(curl -s -X POST "${url[$label]}/v1/accounts" \
            -d "{\"username\":\"bench-$label\",\"email\":\"bench-$label@example.com\",\"password\":\"correct horse\"}" \
            | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
    done
    local board_size
    board_size="$(curl -s "${url[sqlite]}/v1/leaderboards/global?limit=100" -H "Authorization: Bearer ${token[sqlite]}" \
        | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["leaderboard"]))')"

    local endpoints=(healthz me board)
    declare -A path=([healthz]="/healthz" [me]="/v1/me" [board]="/v1/leaderboards/global?limit=20")
    : > "$work/figures.txt"
    for round in $(seq 1 "$rounds"); do
        for endpoint in "${endpoints[@]}"; do
            for label in "${labels[@]}"; do
                local header=()
                [ "$endpoint" != healthz ] && header=(-H "Authorization: Bearer ${token[$label]}")
                echo "tools/bench: round $round, $endpoint on $label" >&2
                wrk -t 2 -c "$connections" -d "${seconds}s" --latency "${header[@]}" "${url[$label]}${path[$endpoint]}" > "$work/wrk.txt"
                python3 - "$work/wrk.txt" "$endpoint" "$label" >> "$work/figures.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
print(sys.argv[2], sys.argv[3], rate, p50, p99, failed.group(1) if failed else 0, (errors.group(1).replace(" ", "") if errors else "none"))
PY
            done
        done
    done

    python3 - "$work/figures.txt" "$rounds" > "$work/table.md" <<'PY'
import collections, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    endpoint, label, rate, p50, p99, failed, errors = line.split()
    rows[endpoint, label].append((float(rate), float(p50), float(p99), int(failed), errors))
names = {"healthz": "`GET /healthz`", "me": "`GET /v1/me` (authenticated)", "board": "`GET /v1/leaderboards/global?limit=20`"}
labels = ["sqlite", "postgres", "nginx"]
def mean(values): return sum(values) / len(values)
print("| | one instance, SQLite | one instance, PostgreSQL | nginx, two on PostgreSQL |")
print("|---|---|---|---|")
rates = {}
for endpoint in ["healthz", "me", "board"]:
    cells = []
    for label in labels:
        runs = rows[endpoint, label]
        rates[endpoint, label] = mean([r[0] for r in runs])
        cell = f"**{rates[endpoint, label]:,.0f}/s**, p50 {mean([r[1] for r in runs]):.2f} ms, p99 {mean([r[2] for r in runs]):.2f} ms"
        failed = sum(r[3] for r in runs)
        if failed:
            cell += f", {failed} non-2xx"
        errors = {r[4] for r in runs} - {"none"}
        if errors:
            cell += f", socket errors {','.join(sorted(errors))}"
        cells.append(cell)
    print(f"| {names[endpoint]} | " + " | ".join(cells) + " |")
print()
print("Authenticated read / `/healthz` (goal: at least 0.5): " + "; ".join(
    f"{name} `GET /v1/me` {rates['me', label] / rates['healthz', label]:.2f}, board {rates['board', label] / rates['healthz', label]:.2f}"
    for label, name in zip(labels, ["SQLite", "PostgreSQL", "nginx"])) + ".")
PY

    local section
    section="$(
        echo "<!-- tools/bench --control -->"
        echo
        echo "## Control port: requests per second (wrk)"
        echo
        echo "Written by \`tools/bench --control\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
        echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; wrk, the servers, PostgreSQL $postgres_version and nginx share the machine)."
        echo "wrk $(wrk -v 2>&1 | sed -n 's/^wrk \([^ ]*\).*/\1/p' | head -n 1), 2 threads, $connections connections, $seconds s per figure, mean of $rounds rounds taken"
        echo "in turn; release build, \`--password-cost minimum\`, one game thread per instance. The global board holds $board_size"
        echo "players (no match has ended: the page costs the session check and the board cache's read). \"One instance,"
        echo "PostgreSQL\" is the cluster's first control port, addressed directly; nginx round-robins over both."
        echo
        cat "$work/table.md"
        echo
        echo "<!-- /tools/bench --control -->"
    )"
    SECTION="$section" python3 - <<'PY'
import os, re
section = os.environ["SECTION"]
text = open("BENCHMARKS.md").read() if os.path.exists("BENCHMARKS.md") else "# Arbiter benchmarks\n"
pattern = re.compile(r"<!-- tools/bench --control -->.*?<!-- /tools/bench --control -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    if "<!-- measured by hand -->" not in text:
        text = text.rstrip("\n") + "\n\n<!-- measured by hand -->\n"
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
    cat "$work/table.md"
    echo "tools/bench: wrote the control-port section of BENCHMARKS.md" >&2
}
