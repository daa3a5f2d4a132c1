#!/usr/bin/env bash
# Clone to first dashboard, as on a fresh machine: clone the repository into an empty folder, run the
# README's run command (`make run`) and time until a signed-in user sees the Overview with data (not
# merely the sign-in form: bench/first_dashboard.py opens the app as soon as the server answers, as a
# browser tab would, signs in as a demo user through the form and checks the Overview's cards, chart
# and table, reloading while they are not there yet). Prints the split and the total.
#   bench/clone_to_dashboard.sh [REPO] [PORT]
# STARVIZ_CACHE=cold (the default; a fresh machine) installs with empty pip and uv caches;
# STARVIZ_CACHE=warm keeps them in ~/.cache/starviz-clone-bench between runs (run once to fill it).
# This machine's own pip settings (a local wheel folder and index, constraints) are set aside so
# that every wheel comes from PyPI, as on a fresh machine. ../shared is linked beside the clone, as on
# a developer's machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)  # the bench's own code, whatever revision is measured
repo=${1:-$here}
port=${2:-8625}
cache=${STARVIZ_CACHE:-cold}
work=$(mktemp -d "${TMPDIR:-/tmp}/starviz-clone.XXXXXX")
app=""
cleanup() {
  [ -n "$app" ] && kill -- -"$app" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
case "$cache" in
  cold) caches="$work" ;;
  warm) caches="$HOME/.cache/starviz-clone-bench" ;;
  *) echo "STARVIZ_CACHE is cold or warm, not $cache" >&2; exit 2 ;;
esac
export PIP_CACHE_DIR="$caches/pip" UV_CACHE_DIR="$caches/uv" PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT UV_INDEX_URL UV_EXTRA_INDEX_URL
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"

elapsed() { echo "$(date +%s.%N) - $start" | bc; }
start=$(date +%s.%N)
git clone -q "$repo" "$work/starviz"
cloned=$(elapsed)
cd "$work/starviz"
# The README's run command, on our port; its own process group so that it can be stopped whole.
STREAMLIT_SERVER_PORT=$port STREAMLIT_SERVER_HEADLESS=true setsid make run >"$work/run.log" 2>&1 &
app=$!
venv=""
while [ ! -f .venv/bin/.app ]; do
  [ -z "$venv" ] && [ -x .venv/bin/python ] && venv=$(elapsed)
  if ! kill -0 "$app" 2>/dev/null; then echo "make run stopped:"; tail -20 "$work/run.log"; exit 1; fi
  if (($(echo "$(elapsed) > 900" | bc))); then echo "not installed after 900 s"; exit 1; fi
  sleep 0.1
done
installed=$(elapsed)
if ! clock=$(PYTHONPATH="$here" .venv/bin/python "$here/bench/first_dashboard.py" "$port" "$start"); then
  echo "no dashboard:"; tail -20 "$work/run.log"; exit 1
fi
.venv/bin/python - "$cache" "$cloned" "${venv:-$installed}" "$installed" "$clock" <<'PY'
import json, sys
cache, cloned, venv, installed = sys.argv[1], *map(float, sys.argv[2:5])
c = json.loads(sys.argv[5])
steps = [
    ("clone", 0.0, cloned),
    ("venv", cloned, venv),
    ("install", venv, installed),
    ("app start", installed, c["app_started"]),
    ("generate", c["app_started"], c.get("generated", c["app_started"])),
    ("build", c.get("generated", c["app_started"]), c.get("built", c["app_started"])),
    ("first page", max(c.get("built", 0.0), c["app_started"]), c["overview_with_data"]),
]
print(f"pip/uv cache: {cache}")
print(", ".join(f"{name} {end - begin:.1f} s" for name, begin, end in steps))
print(f"clone to sign-in form {c['sign_in_form']:.1f} s; clone to the Overview with data, signed in: {c['overview_with_data']:.1f} s")
print(json.dumps({"cache": cache, "clone": cloned, "venv": venv, "installed": installed, **c}))
PY
