#!/usr/bin/env bash
# Clone to first dashboard: clone the repository into an empty folder, run the README's run command
# (`make run`) and time until the app shows its sign-in form (seen through Streamlit's own protocol,
# as a browser would). Prints the install, first-run build and total seconds.
#   bench/clone_to_dashboard.sh [REPO] [PORT]
# A fresh machine has no pip/uv cache: STARVIZ_FRESH=1 (the default) runs with an empty one.
# ../shared is linked beside the clone, as on a developer's machine.
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
port=${2:-8625}
work=$(mktemp -d "${TMPDIR:-/tmp}/starviz-clone.XXXXXX")
app=""
cleanup() { [ -n "$app" ] && kill -- -"$app" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
if [ "${STARVIZ_FRESH:-1}" = "1" ]; then
  export PIP_CACHE_DIR="$work/pip-cache" UV_CACHE_DIR="$work/uv-cache"
fi
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"

start=$(date +%s.%N)
git clone -q "$repo" "$work/starviz"
cd "$work/starviz"
# The README's run command, on our port; its own process group so that it can be stopped whole.
STREAMLIT_SERVER_PORT=$port STREAMLIT_SERVER_HEADLESS=true setsid make run >"$work/run.log" 2>&1 &
app=$!
installed=""
while :; do
  now=$(date +%s.%N)
  if [ -z "$installed" ] && [ -f .venv/bin/.app ]; then installed=$now; fi
  if [ -n "$installed" ] && .venv/bin/python - "$port" <<'PY' 2>/dev/null; then break; fi
import asyncio, sys
from bench import loadgen
async def form():
    s = loadgen.Session(f"http://127.0.0.1:{sys.argv[1]}", timeout=900)  # through the first-run build
    run = await s.open()
    await s.close()
    return any(getattr(w, "label", "") == "Username" for w in run.widgets.values())
sys.exit(0 if asyncio.run(form()) else 1)
PY
  if ! kill -0 "$app" 2>/dev/null; then echo "make run stopped:"; tail -20 "$work/run.log"; exit 1; fi
  if (($(echo "$now - $start > 900" | bc))); then echo "no sign-in form after 900 s"; exit 1; fi
  sleep 1
done
end=$(date +%s.%N)
printf 'clone+install %.1f s, first-run build and start %.1f s, clone to sign-in form %.1f s\n' \
  "$(echo "$installed - $start" | bc)" "$(echo "$end - $installed" | bc)" "$(echo "$end - $start" | bc)"
