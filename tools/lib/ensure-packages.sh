# Installs the Debian packages Arbiter builds against, when missing. Sourced by tools/*.
ensure_system_packages() {
    local missing=()
    for package in libsodium-dev libsqlite3-dev pkg-config openssl; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "tools: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}
