#!/usr/bin/env bash
# Start N starviz replicas and nginx in front of them on one host; Ctrl-C (or TERM) stops them all.
#   deploy/serve.sh [REPLICAS] [PORT] [FIRST_REPLICA_PORT]
# e.g. deploy/serve.sh 2 8080 8501  ->  http://HOST:8080/, replicas on 127.0.0.1:8501 and :8502.
# Every replica serves the same data/star.duckdb (read-only; the builder swaps in new files) and the
# same .streamlit/ configuration and secrets. Environment (STARVIZ_ENV, STARVIZ_DB, ...) is passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
replicas=${1:-2}
port=${2:-8080}
first=${3:-8501}
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
nginx=${NGINX_BIN:-/usr/sbin/nginx}
unset NGINX  # nginx itself reads $NGINX (inherited sockets on a binary upgrade)
# The replicas listen on 127.0.0.1 only, behind this one nginx, which writes X-Forwarded-For and
# X-Forwarded-Proto: trust it, so sign-in is throttled per browser address (not per user name only)
# and the sign-in cookie is Secure when nginx serves HTTPS. A proxy in front of this nginx: raise it.
export STARVIZ_TRUSTED_PROXIES=${STARVIZ_TRUSTED_PROXIES:-1}
run=$(mktemp -d "${TMPDIR:-/tmp}/starviz-proxy.XXXXXX")

pids=()
stop() {
  [ -f "$run/nginx.pid" ] && kill "$(cat "$run/nginx.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap stop EXIT INT TERM

upstreams=""
for ((i = 0; i < replicas; i++)); do
  p=$((first + i))
  "$python" -m streamlit run serve.py --server.address 127.0.0.1 --server.port "$p" --server.headless true \
    >"$run/replica-$p.log" 2>&1 &
  pids+=($!)
  upstreams+="        server 127.0.0.1:$p max_fails=0;"$'\n'
done
sed -e "s#@RUN@#$run#g" -e "s#@PORT@#$port#g" deploy/nginx.conf.template |
  awk -v ups="$upstreams" '{ if ($0 == "@UPSTREAMS@") printf "%s", ups; else print }' >"$run/nginx.conf"
"$nginx" -t -q -c "$run/nginx.conf" -p "$run/" -e "$run/error.log"
"$nginx" -c "$run/nginx.conf" -p "$run/" -e "$run/error.log"
for ((i = 0; i < replicas; i++)); do
  p=$((first + i))
  for _ in $(seq 1 120); do
    "$python" -c "import socket,sys; socket.create_connection(('127.0.0.1', $p), 1)" 2>/dev/null && break
    sleep 0.5
  done
done
echo "starviz: http://127.0.0.1:$port/ -> $replicas replica(s) on 127.0.0.1:$first..$((first + replicas - 1)) (logs in $run)"
wait "${pids[@]}"
