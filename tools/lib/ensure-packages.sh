# Installs Debian packages when missing. Sourced by tools/*.
#   ensure_system_packages   what Arbiter builds against
#   ensure_packages P...     any others a tool needs
#   ensure_postgres_server   Debian's postgresql (initdb, pg_ctl), for tools/test's throwaway cluster
ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "tools: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

ensure_system_packages() {
    ensure_packages libsodium-dev libsqlite3-dev liburing-dev pkg-config openssl
}

# The store tests start a throwaway cluster of their own (never the system service): they need
# the server's binaries only. Debian keeps them in /usr/lib/postgresql/VERSION/bin.
ensure_postgres_server() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
    command -v initdb >/dev/null && return 0
    ensure_packages postgresql
}
