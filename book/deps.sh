#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the workbook needs and says which.
#
#   deps.sh PACKAGE... -- PACKAGE-WITHOUT-RECOMMENDS...
#
# Packages already installed are left alone. As root apt-get runs directly,
# otherwise through sudo. Without apt-get it names the packages to install.
set -u
with=() without=() target=with
for p in "$@"; do
    if [ "$p" = -- ]; then target=without; continue; fi
    if [ "$target" = with ]; then with+=("$p"); else without+=("$p"); fi
done

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$p"
    done
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: no apt-get here. Install these with your package manager:"
    echo "  ${with[*]} ${without[*]}"
    exit 0
fi

need_with=$(missing "${with[@]}")
need_without=$(missing "${without[@]}")
if [ -z "$need_with$need_without" ]; then
    echo "deps: every package is installed"
    exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "deps: missing packages, and no sudo to install them as $(id -un):"
        echo "  apt-get install $need_with $need_without"
        exit 1
    fi
    sudo=sudo
fi
echo "deps: installing $need_with$need_without"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || exit 1
if [ -n "$need_with" ]; then
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq $need_with || exit 1
fi
if [ -n "$need_without" ]; then
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $need_without || exit 1
fi
echo "deps: done"
