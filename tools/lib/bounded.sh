# Time bounds for tools/test's phases: a hang fails the run within minutes and says where,
# instead of holding a CI machine until its own limit. Sourced by tools/test.

# bounded MINUTES NAME COMMAND...: runs COMMAND in a process group of its own; if it is still
# running after MINUTES minutes, the whole group (servers and test processes it started
# included, which would otherwise hold the output pipe open) gets SIGTERM, then SIGKILL 30 s
# later, and the run fails with a message naming NAME. Returns COMMAND's status.
bounded() {
    local minutes="$1" name="$2"
    shift 2
    local expired
    expired="$(mktemp)"
    rm -f "$expired"
    setsid "$@" &
    local pid=$!
    (
        sleep "$((minutes * 60))"
        touch "$expired"
        # By session, not only by process group: swift test runs its test process in a group of
        # its own, which would outlive it holding the output open.
        pkill -TERM -s "$pid" 2>/dev/null || exit 0
        sleep 30
        pkill -KILL -s "$pid" 2>/dev/null || true
    ) >/dev/null 2>&1 </dev/null &
    local watchdog=$!
    local status=0
    wait "$pid" || status=$?
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
    if [ -e "$expired" ]; then
        rm -f "$expired"
        echo "tools/test: $name was still running after $minutes minutes and was stopped" >&2
        return 124
    fi
    return "$status"
}

# bounded_swift_test MINUTES ARGS...: `swift test ARGS...` under `bounded`, its output
# line-buffered and kept, so that on a time-out the tests still running are named.
bounded_swift_test() {
    local minutes="$1"
    shift
    local log status=0
    log="$(mktemp)"
    bounded "$minutes" "swift test" stdbuf -oL -eL swift test "$@" > >(tee "$log") 2>&1 || status=$?
    if [ "$status" = 124 ]; then
        echo "tools/test: tests started and not finished:" >&2
        python3 - "$log" >&2 <<'PY'
import re, sys
started, finished = [], set()
for line in open(sys.argv[1], errors="replace"):
    if m := re.match(r"◇ Test (?!run )(.+?) started\.$", line.rstrip()):
        started.append(m.group(1))
    elif m := re.match(r"[✔✘] Test (.+?) (?:with \d+ test cases? )?(?:passed|failed)", line):
        finished.add(m.group(1))
for name in started:
    if name not in finished:
        print("  " + name)
PY
    fi
    rm -f "$log"
    return "$status"
}
