#!/usr/bin/env bash
# The README's test command: installs what is missing, builds into build/, runs every Meson test
# suite (unit and integration) and ends with one plain line "tests: N passed, M failed, K skipped".
# Exits non-zero when the build fails or any test failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
builddir=${MRSI_BUILDDIR:-build}

bash scripts/setup.sh

if [ -f "$builddir/build.ninja" ]; then
  meson setup --reconfigure "$builddir"
else
  meson setup "$builddir"
fi
meson compile -C "$builddir"

rc=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 || rc=$?

/usr/bin/python3 - "$builddir/meson-logs/testlog.json" <<'PY' || rc=$((rc == 0 ? 1 : rc))
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            result = json.loads(line).get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
except FileNotFoundError:
    print(f"test.sh: {sys.argv[1]} missing: no test ran", file=sys.stderr)
    failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
exit "$rc"
