#!/usr/bin/env bash
# Installs what the build, the tests and the demo need on Debian 12: the apt packages listed in
# scripts/apt-packages.txt that are missing, then the npm test servers pinned in test/package-lock.json.
# Idempotent: a second run with everything in place changes nothing and touches no network.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list="$root/scripts/apt-packages.txt"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%%#*}
  read -r -a fields <<<"$line" || true
  [ "${#fields[@]}" -eq 0 ] && continue
  alternatives=${fields[0]}
  cmd=""
  for f in "${fields[@]:1}"; do
    case $f in
      cmd=*) cmd=${f#cmd=} ;;
      *) echo "setup.sh: unknown field '$f' in $list" >&2; exit 1 ;;
    esac
  done
  if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
    continue
  fi
  ok=0
  IFS='|' read -r -a alts <<<"$alternatives"
  for p in "${alts[@]}"; do
    if installed "$p"; then ok=1; break; fi
  done
  [ "$ok" -eq 1 ] || missing+=("${alts[0]}")
done <"$list"

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a concurrent apt/dpkg run instead of failing on its lock.
  lock=(-o DPkg::Lock::Timeout=600)
  "${sudo_cmd[@]}" apt-get "${lock[@]}" update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}"
fi

# npm test servers: reinstall when node_modules is missing or older than the lockfile.
testdir="$root/test"
if [ -f "$testdir/package-lock.json" ]; then
  if [ ! -d "$testdir/node_modules" ] || [ "$testdir/package-lock.json" -nt "$testdir/node_modules" ]; then
    echo "setup.sh: npm ci in test/" >&2
    (cd "$testdir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$testdir/node_modules"
  fi
fi
