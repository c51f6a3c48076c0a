#!/bin/sh
# install-deps.sh — install the Debian packages trig builds and tests with.
#
# Called by the Makefile before anything is built.  It asks dpkg which of the
# packages are missing and installs only those, so on a machine that already
# has them it does nothing and needs no privileges.  Installing needs root
# (or sudo); the script says so plainly when it cannot.
set -eu

# Build: compiler, generators, libraries.  Test: Check, the fuzzing runtime
# (clang), tzdata for zones; for the end-to-end scripts curl, python3 with
# PyJWT (tokens made by an independent library), openssl (signatures made
# independently) and git (fetch-repository against a real remote).
pkgs="build-essential pkg-config re2c bison libyaml-dev libssl-dev
libcurl4-openssl-dev libmicrohttpd-dev check tzdata curl python3 clang
libclang-rt-dev
python3-jwt python3-cryptography openssl git"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run this script as root to install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# apt-get update only when the package lists are absent or a first try fails.
# shellcheck disable=SC2086
$sudo apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
    $sudo apt-get update -qq
    $sudo apt-get install -y --no-install-recommends $missing
}
