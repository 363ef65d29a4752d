#!/usr/bin/env bash
# Restore benchmark: Pawket against nginx serving the same bytes from disk, on loopback.
#
#   npm run bench:restore [-- --duration 10 --connections 50 ...]
#
# Flags (or the environment variables in brackets):
#   --duration S        seconds per measured run                                  [BENCH_DURATION=10]
#   --warmup S          seconds of unmeasured load before each run                [BENCH_WARMUP=2]
#   --connections N     concurrent connections, both servers                     [BENCH_CONNECTIONS=50]
#   --rounds N          runs per server and resource, alternating; median shown  [BENCH_ROUNDS=1]
#   --threads N         wrk threads                                               [BENCH_THREADS=1]
#   --loadgen NAME      wrk (installed from Debian if missing) or autocannon      [BENCH_LOADGEN=wrk]
#   --packages N        ids in the feed                                           [BENCH_PACKAGES=1000]
#   --versions N        versions per id                                           [BENCH_VERSIONS=10]
#   --seed-concurrency N  pushes in flight while seeding                          [BENCH_SEED_CONCURRENCY=8]
#   --server-cpus LIST  pin Pawket and nginx to these CPUs (taskset -c LIST)      [BENCH_SERVER_CPUS=]
#   --loadgen-cpus LIST pin wrk to these CPUs                                     [BENCH_LOADGEN_CPUS=]
#   --results FILE      also write the results as JSON to FILE                    [BENCH_RESULTS=]
#   --keep              keep the work dir (feed, nginx docroot, logs) afterwards  [BENCH_KEEP=1]
#   --no-build          use dist/ as it is instead of running npm run build first [BENCH_NO_BUILD=1]
# Extra node arguments for the Pawket process (e.g. --cpu-prof --cpu-prof-dir=DIR): BENCH_PAWKET_NODE_ARGS.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) export BENCH_DURATION="$2"; shift 2 ;;
    --warmup) export BENCH_WARMUP="$2"; shift 2 ;;
    --connections) export BENCH_CONNECTIONS="$2"; shift 2 ;;
    --rounds) export BENCH_ROUNDS="$2"; shift 2 ;;
    --threads) export BENCH_THREADS="$2"; shift 2 ;;
    --loadgen) export BENCH_LOADGEN="$2"; shift 2 ;;
    --packages) export BENCH_PACKAGES="$2"; shift 2 ;;
    --versions) export BENCH_VERSIONS="$2"; shift 2 ;;
    --seed-concurrency) export BENCH_SEED_CONCURRENCY="$2"; shift 2 ;;
    --server-cpus) export BENCH_SERVER_CPUS="$2"; shift 2 ;;
    --loadgen-cpus) export BENCH_LOADGEN_CPUS="$2"; shift 2 ;;
    --results) export BENCH_RESULTS="$(realpath -m "$2")"; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    --no-build) export BENCH_NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/restore: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

export BENCH_LOADGEN="${BENCH_LOADGEN:-wrk}"
export BENCH_CLK_TCK="$(getconf CLK_TCK)"
SERVER_CPUS="${BENCH_SERVER_CPUS:-}"

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Debian packages, installed only when missing.
apt_install() {
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { as_root apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null; }
}

NGINX="$(command -v nginx || true)"
[[ -z "$NGINX" && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
if [[ -z "$NGINX" ]]; then
  echo "Installing nginx-light ..."
  apt_install nginx-light
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
fi
if [[ "$BENCH_LOADGEN" == wrk ]] && ! command -v wrk >/dev/null; then
  echo "Installing wrk ..."
  if ! apt_install wrk || ! command -v wrk >/dev/null; then
    echo "Could not install wrk; using autocannon instead (it may saturate before nginx does)."
    export BENCH_LOADGEN=autocannon
  fi
fi

if [[ "${BENCH_NO_BUILD:-}" != 1 ]]; then
  echo "Building ..."
  npm run build --silent
fi

WORK="$(mktemp -d -t pawket-bench.XXXXXX)"
# nginx workers drop privileges when started by root: let them read the docroot.
chmod 755 "$WORK"
export BENCH_WORK="$WORK"
PAWKET_PID=""
NGINX_PID=""

stop() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$NGINX_PID"
  stop "$PAWKET_PID"
  if [[ "${BENCH_KEEP:-}" == 1 ]]; then echo "Kept the work dir: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Waits until GET $1 answers 200, or fails after $2 seconds (the process $3 must stay alive).
wait_for() {
  node -e "
    const [url, seconds, pid] = process.argv.slice(1);
    const deadline = Date.now() + seconds * 1000;
    (async () => {
      for (;;) {
        try { process.kill(Number(pid), 0); } catch { console.error('the server exited; see its log'); process.exit(1); }
        try { if ((await fetch(url)).status === 200) process.exit(0); } catch {}
        if (Date.now() > deadline) { console.error('timed out waiting for ' + url); process.exit(1); }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();" "$1" "$2" "$3"
}

# Servers start as direct children (no function or subshell in between), so $! is the server's own pid.
PIN=()
[[ -n "$SERVER_CPUS" ]] && PIN=(taskset -c "$SERVER_CPUS")

echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), node $(node --version)," \
  "$("$NGINX" -v 2>&1 | sed 's/.*: //'), load generator: $BENCH_LOADGEN$([[ $BENCH_LOADGEN == wrk ]] && wrk --version 2>&1 | head -1 | awk '{print " " $2}')"

# --- Pawket ---------------------------------------------------------------------------------------------------------
PAWKET_PORT="$(free_port)"
export BENCH_PAWKET_URL="http://127.0.0.1:$PAWKET_PORT"
export BENCH_API_KEY="bench-$RANDOM$RANDOM$RANDOM"
# shellcheck disable=SC2086 # BENCH_PAWKET_NODE_ARGS is a list of arguments
PAWKET_API_KEY="$BENCH_API_KEY" "${PIN[@]}" node ${BENCH_PAWKET_NODE_ARGS:-} dist/cli/main.js serve \
  --host 127.0.0.1 --port "$PAWKET_PORT" --data-dir "$WORK/data" >"$WORK/pawket.log" 2>&1 &
PAWKET_PID=$!
export BENCH_PAWKET_PID="$PAWKET_PID"
wait_for "$BENCH_PAWKET_URL/v3/index.json" 30 "$PAWKET_PID" || { cat "$WORK/pawket.log" >&2; exit 1; }
echo "Pawket is up at $BENCH_PAWKET_URL (pid $PAWKET_PID)."

npx tsx bench/restore/seed.ts || { tail -n 20 "$WORK/pawket.log" >&2; exit 1; }
npx tsx bench/restore/snapshot.ts

# --- nginx: the same bytes from disk ---------------------------------------------------------------------------------
NGINX_PORT="$(free_port)"
export BENCH_NGINX_URL="http://127.0.0.1:$NGINX_PORT"
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
# Generated by bench/restore/run.sh: a minimal static server for the benchmark.
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  open_file_cache max=30000 inactive=120s;
  open_file_cache_valid 120s;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  types { application/json json; application/octet-stream nupkg; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
    location ~ \.json\$ {
      add_header Cache-Control "public, max-age=0, must-revalidate";
      add_header Vary Accept-Encoding;
    }
    location ^~ /v3/registration-gz-semver2/ {
      gzip_static on;
      add_header Cache-Control "public, max-age=0, must-revalidate";
      add_header Vary Accept-Encoding;
    }
    location ~ \.nupkg\$ {
      add_header Cache-Control "public, max-age=31536000, immutable";
    }
  }
}
EOF
"${PIN[@]}" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" >"$WORK/nginx/out.log" 2>&1 &
NGINX_PID=$!
export BENCH_NGINX_PID="$NGINX_PID"
first_url="$(head -n 1 "$WORK/urls-flat.txt")"
wait_for "$BENCH_NGINX_URL$first_url" 10 "$NGINX_PID" || { cat "$WORK/nginx/error.log" >&2; exit 1; }
echo "nginx is up at $BENCH_NGINX_URL (pid $NGINX_PID, 1 worker)."

# --- load ------------------------------------------------------------------------------------------------------------
npx tsx bench/restore/measure.ts
