#!/usr/bin/env bash
# Restore benchmark: Pawket against nginx serving the same bytes from disk, on loopback.
#
#   npm run bench:restore [-- --duration 10 --connections 50 ...]
#
# Flags (or the environment variables in brackets):
#   --duration S        seconds per measured run                                  [BENCH_DURATION=10]
#   --warmup S          seconds of unmeasured load before each run                [BENCH_WARMUP=2]
#   --idle S            seconds after the load before the idle memory is read     [BENCH_IDLE=10]
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
#   --backend NAME      sqlite (SQLite + packages on disk) or postgres-s3 (a temporary
#                       PostgreSQL cluster and s3rver, started by backends.ts)    [BENCH_BACKEND=sqlite]
#   --nodes N           1, or 2: two Pawket processes on the same backend (for sqlite,
#                       the same data dir) behind nginx as a round-robin balancer [BENCH_NODES=1]
#   --front nginx       put nginx with the configuration of `pawket nginx-config` in front of
#                       the node (materialize on): restore is answered from the materialized
#                       files, and measured against the plain static nginx reference  [BENCH_FRONT=]
#   --compare-modes     run sqlite 1 node, postgres-s3 1 node and postgres-s3 2 nodes,
#                       seeding once per backend, and print a comparison table    [BENCH_COMPARE_MODES=1]
#   --baseline REF      also build git revision REF (e.g. a release tag, main~5) and measure it
#                       beside the working tree's build, alternating rounds, against
#                       the same seeded feed (sqlite, 1 node only)                [BENCH_BASELINE=]
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
    --idle) export BENCH_IDLE="$2"; shift 2 ;;
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
    --backend) export BENCH_BACKEND="$2"; shift 2 ;;
    --nodes) export BENCH_NODES="$2"; shift 2 ;;
    --front) export BENCH_FRONT="$2"; shift 2 ;;
    --compare-modes) export BENCH_COMPARE_MODES=1; shift ;;
    --baseline) export BENCH_BASELINE="$2"; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    --no-build) export BENCH_NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/restore: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

export BENCH_LOADGEN="${BENCH_LOADGEN:-wrk}"
BACKEND="${BENCH_BACKEND:-sqlite}"
NODES="${BENCH_NODES:-1}"
case "$BACKEND" in sqlite|postgres-s3) ;; *) echo "bench/restore: --backend must be sqlite or postgres-s3" >&2; exit 2 ;; esac
case "$NODES" in 1|2) ;; *) echo "bench/restore: --nodes must be 1 or 2" >&2; exit 2 ;; esac
BASELINE="${BENCH_BASELINE:-}"
FRONT="${BENCH_FRONT:-}"
case "$FRONT" in ''|nginx) ;; *) echo "bench/restore: --front must be nginx" >&2; exit 2 ;; esac
if [[ -n "$FRONT" && ( "$BACKEND" != sqlite || "$NODES" != 1 || -n "$BASELINE" || "${BENCH_COMPARE_MODES:-}" == 1 ) ]]; then
  echo "bench/restore: --front nginx runs on --backend sqlite with 1 node (nginx serves the files from its data dir)" >&2; exit 2
fi
if [[ -n "$BASELINE" ]]; then
  # An older build cannot read a database a newer one migrated, so the two builds cannot share one backend: each gets
  # its own copy of an SQLite data dir, which rules out PostgreSQL and a second node.
  if [[ "$BACKEND" != sqlite || "$NODES" != 1 || "${BENCH_COMPARE_MODES:-}" == 1 ]]; then
    echo "bench/restore: --baseline runs on --backend sqlite with 1 node, without --compare-modes" >&2; exit 2
  fi
  BASELINE_COMMIT="$(git rev-parse --verify --quiet "$BASELINE^{commit}")" ||
    { echo "bench/restore: --baseline $BASELINE is not a git revision of this repository" >&2; exit 2; }
  export BENCH_BASELINE_LABEL="$(git rev-parse --short "$BASELINE_COMMIT")"
  [[ "$BENCH_BASELINE_LABEL" == "$BASELINE" ]] || BENCH_BASELINE_LABEL="$BENCH_BASELINE_LABEL ($BASELINE)"
  # The current build is the working tree, which may hold changes not yet committed.
  export BENCH_CURRENT_LABEL="$(git rev-parse --short HEAD)$([[ -n "$(git status --porcelain --untracked-files=no)" ]] && echo ' + changes')"
fi
export BENCH_CLK_TCK="$(getconf CLK_TCK)"
SERVER_CPUS="${BENCH_SERVER_CPUS:-}"
# nginx's open-file cache holds a descriptor per entry: within the open-file limit, less what 4,096 connections
# (a client's and, in front of Pawket, a node's each) take; the same formula as `pawket nginx-config`.
OPEN_FILES="$(ulimit -n)"
[[ "$OPEN_FILES" == unlimited ]] && OPEN_FILES=1048576
OPEN_FILE_CACHE=$(( OPEN_FILES - 2 * 4096 - 64 ))
(( OPEN_FILE_CACHE > 100000 )) && OPEN_FILE_CACHE=100000
(( OPEN_FILE_CACHE < 100 )) && OPEN_FILE_CACHE=100

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
BASELINE_MAIN=""
# nginx workers drop privileges when started by root: let them read the docroot.
chmod 755 "$WORK"
NODE_PIDS=()
NGINX_PID=""
LB_PID=""
BACKENDS_PID=""
BASELINE_PID=""
BASELINE_SRC=""

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
stop_servers() {
  stop "$LB_PID"; LB_PID=""
  stop "$NGINX_PID"; NGINX_PID=""
  for pid in "${NODE_PIDS[@]}"; do stop "$pid"; done
  NODE_PIDS=()
  stop "$BASELINE_PID"; BASELINE_PID=""
}
cleanup() {
  stop_servers
  stop "$BACKENDS_PID"
  remove_baseline_src
  if [[ "${BENCH_KEEP:-}" == 1 ]]; then echo "Kept the work dir: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The --baseline build: a detached worktree of that revision inside the work dir, built with this checkout's
# node_modules (a revision whose dependencies differ needs them installed there instead).
build_baseline() {
  BASELINE_SRC="$WORK/baseline-src"
  echo "Building the baseline $BENCH_BASELINE_LABEL ..."
  git worktree add --quiet --detach "$BASELINE_SRC" "$BASELINE_COMMIT"
  ln -s "$(realpath node_modules)" "$BASELINE_SRC/node_modules"
  (cd "$BASELINE_SRC" && npx tsc -p tsconfig.build.json)
  BASELINE_MAIN="$BASELINE_SRC/dist/cli/main.js"
}
# Unregisters the worktree from the repository too (removing its directory alone would leave git a stale entry).
remove_baseline_src() {
  [[ -n "$BASELINE_SRC" ]] || return 0
  git worktree remove --force "$BASELINE_SRC" 2>/dev/null ||
    echo "bench/restore: could not remove the baseline worktree $BASELINE_SRC (see git worktree list)" >&2
  BASELINE_SRC=""
}
[[ -n "$BASELINE" ]] && build_baseline

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

# Servers start as direct children (a simple command put in the background), so $! is the server's own pid.
PIN=()
[[ -n "$SERVER_CPUS" ]] && PIN=(taskset -c "$SERVER_CPUS")

echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), node $(node --version)," \
  "$("$NGINX" -v 2>&1 | sed 's/.*: //'), load generator: $BENCH_LOADGEN$([[ $BENCH_LOADGEN == wrk ]] && wrk --version 2>&1 | head -1 | awk '{print " " $2}')"

export BENCH_API_KEY="bench-$RANDOM$RANDOM$RANDOM"

# PostgreSQL + s3rver for the postgres-s3 backend: backends.ts writes the PAWKET_* settings, then waits to be killed.
start_backends() {
  local env_file="$WORK/backend.env"
  node --import tsx bench/restore/backends.ts "$env_file" >"$WORK/backends.log" 2>&1 &
  BACKENDS_PID=$!
  for _ in $(seq 600); do
    [[ -s "$env_file" ]] && break
    kill -0 "$BACKENDS_PID" 2>/dev/null || { cat "$WORK/backends.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -s "$env_file" ]] || { echo "the backends did not start" >&2; cat "$WORK/backends.log" >&2; exit 1; }
  # shellcheck disable=SC1090
  source "$env_file"
  cat "$WORK/backends.log"
  echo "Package downloads stream from s3rver through Pawket (PAWKET_S3_REDIRECT_DOWNLOADS=false: wrk does not follow redirects)."
}

# start_pawket NAME DATA_DIR MAIN: a Pawket process (MAIN = its dist/cli/main.js) on a free port, settings from the
# environment (PAWKET_*), its output in $BW/pawket-NAME.log. Sets STARTED_PID and STARTED_ADDR.
start_pawket() {
  local name="$1" port
  port="$(free_port)"
  # shellcheck disable=SC2086 # BENCH_PAWKET_NODE_ARGS is a list of arguments
  PAWKET_API_KEY="$BENCH_API_KEY" "${PIN[@]}" node ${BENCH_PAWKET_NODE_ARGS:-} "$3" serve \
    --host 127.0.0.1 --port "$port" --data-dir "$2" >"$BW/pawket-$name.log" 2>&1 &
  STARTED_PID=$!
  STARTED_ADDR="127.0.0.1:$port"
  wait_for "http://$STARTED_ADDR/v3/index.json" 60 "$STARTED_PID" || { cat "$BW/pawket-$name.log" >&2; exit 1; }
}

# start_node N DATA_DIR: Pawket node N of the build in dist/.
start_node() {
  start_pawket "$1" "$2" dist/cli/main.js
  NODE_PIDS+=("$STARTED_PID")
  NODE_ADDRS+=("$STARTED_ADDR")
  # Before the feed exists: the runtime and the libraries loaded at start.
  NODE_START_KIB+=("$(awk '/^VmRSS:/ { print $2 }' "/proc/$STARTED_PID/status")")
  echo "Pawket node $1 is up at http://$STARTED_ADDR (pid $STARTED_PID)."
}

# nginx as a round-robin load balancer over the nodes, keep-alive to the upstreams as a production proxy would.
start_lb() {
  local port dir="$BW/lb"
  port="$(free_port)"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
# Generated by bench/restore/run.sh: round-robin load balancer over the Pawket nodes.
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 100000000;
  upstream pawket {
$(printf '    server %s max_fails=1 fail_timeout=5s;\n' "${NODE_ADDRS[@]}")
    keepalive 64;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 0;
    location / {
      proxy_pass http://pawket;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_request_buffering off;
    }
  }
}
EOF
  "${PIN[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/out.log" 2>&1 &
  LB_PID=$!
  export BENCH_LB_PID="$LB_PID"
  export BENCH_PAWKET_URL="http://127.0.0.1:$port"
  wait_for "$BENCH_PAWKET_URL/v3/index.json" 10 "$LB_PID" || { cat "$dir/error.log" >&2; exit 1; }
  echo "Load balancer (nginx, 1 worker, round robin over ${#NODE_PIDS[@]} nodes) is up at $BENCH_PAWKET_URL (pid $LB_PID)."
}

# The reference: nginx serving the snapshot's bytes from disk.
start_nginx_ref() {
  local port
  port="$(free_port)"
  export BENCH_NGINX_URL="http://127.0.0.1:$port"
  mkdir -p "$BW/nginx/tmp"
  cat >"$BW/nginx/nginx.conf" <<EOF
# Generated by bench/restore/run.sh: a minimal static server for the benchmark.
daemon off;
worker_processes 1;
pid $BW/nginx/nginx.pid;
error_log $BW/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  open_file_cache max=$OPEN_FILE_CACHE inactive=120s;
  open_file_cache_valid 120s;
  client_body_temp_path $BW/nginx/tmp/body;
  proxy_temp_path $BW/nginx/tmp/proxy;
  fastcgi_temp_path $BW/nginx/tmp/fastcgi;
  uwsgi_temp_path $BW/nginx/tmp/uwsgi;
  scgi_temp_path $BW/nginx/tmp/scgi;
  types { application/json json; application/octet-stream nupkg; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port;
    root $BW/www;
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
  "${PIN[@]}" "$NGINX" -p "$BW/nginx" -c "$BW/nginx/nginx.conf" -e "$BW/nginx/error.log" >"$BW/nginx/out.log" 2>&1 &
  NGINX_PID=$!
  export BENCH_NGINX_PID="$NGINX_PID"
  local first_url
  first_url="$(head -n 1 "$BW/urls-flat.txt")"
  wait_for "$BENCH_NGINX_URL$first_url" 10 "$NGINX_PID" || { cat "$BW/nginx/error.log" >&2; exit 1; }
  echo "nginx (reference) is up at $BENCH_NGINX_URL (pid $NGINX_PID, 1 worker)."
}

# nginx with the generated configuration in front of the node: restore from the materialized files, the rest proxied.
start_front() {
  local dir="$BW/front" user=()
  [[ $(id -u) -eq 0 ]] && user=(--user root)
  node dist/cli/main.js nginx-config --full --data-dir "$1" --listen "127.0.0.1:$FRONT_PORT" --node "${NODE_ADDRS[0]}" \
    --workers 1 --worker-connections 4096 --open-files "$OPEN_FILES" --access-log off \
    --download-log "$dir/downloads.log" "${user[@]}" >"$dir/nginx.conf"
  "${PIN[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/out.log" 2>&1 &
  LB_PID=$!
  export BENCH_LB_PID="$LB_PID"
  export BENCH_PAWKET_URL="http://127.0.0.1:$FRONT_PORT"
  wait_for "$BENCH_PAWKET_URL/v3/index.json" 10 "$LB_PID" || { cat "$dir/error.log" >&2; exit 1; }
  echo "nginx in front (pawket nginx-config, 1 worker) is up at $BENCH_PAWKET_URL (pid $LB_PID)."
}

MODE_FILES=()
# measure LABEL: the load runs against BENCH_PAWKET_URL (a node or the balancer) and the nginx reference.
measure() {
  local file="$WORK/results-${#MODE_FILES[@]}.json"
  echo "=== $1 ==="
  BENCH_MODE="$1" BENCH_MODE_RESULTS="$file" BENCH_PAWKET_PIDS="$(IFS=,; echo "${NODE_PIDS[*]}")" \
    BENCH_PAWKET_ADDRS="$(IFS=,; echo "${NODE_ADDRS[*]}")" BENCH_PAWKET_START_KIB="$(IFS=,; echo "${NODE_START_KIB[*]}")" \
    BENCH_BASELINE_PID="$BASELINE_PID" npx tsx bench/restore/measure.ts
  MODE_FILES+=("$file")
}

# run_backend BACKEND MEASURE_ONE_NODE MEASURE_TWO_NODES: one seeding, then the modes asked for.
run_backend() {
  local backend="$1"
  export BW="$WORK/$backend" BENCH_WORK="$WORK/$backend"
  mkdir -p "$BW"; chmod 755 "$BW"
  NODE_ADDRS=()
  NODE_START_KIB=()
  unset BENCH_LB_PID
  [[ "$backend" == postgres-s3 ]] && start_backends
  # sqlite: both nodes share one data dir; postgres-s3: the data lives in PostgreSQL and S3, each node gets its own dir.
  local data1="$BW/data" data2="$BW/data"
  [[ "$backend" == postgres-s3 ]] && { data1="$BW/data-1"; data2="$BW/data-2"; }
  if [[ -n "$FRONT" ]]; then
    # Documents link to the front's URL; the node writes them into its data dir and counts nginx's downloads.
    FRONT_PORT="$(free_port)"
    mkdir -p "$BW/front"
    export PAWKET_MATERIALIZE=true PAWKET_BASE_URL="http://127.0.0.1:$FRONT_PORT" PAWKET_NGINX_DOWNLOAD_LOG="$BW/front/downloads.log"
  fi
  start_node 1 "$data1"
  export BENCH_PAWKET_URL="http://${NODE_ADDRS[0]}"
  npx tsx bench/restore/seed.ts || { tail -n 20 "$BW/pawket-1.log" >&2; exit 1; }
  [[ -n "$FRONT" ]] && start_front "$data1"
  npx tsx bench/restore/snapshot.ts
  start_nginx_ref
  if [[ "$2" == 1 && -n "$FRONT" ]]; then measure "$backend, 1 node, nginx in front"
  elif [[ "$2" == 1 ]]; then measure "$backend, 1 node"; fi
  if [[ "$3" == 1 ]]; then
    start_node 2 "$data2"
    start_lb
    # Documents carry the host they were asked through: take the reference copy again, through the balancer.
    stop "$NGINX_PID"; NGINX_PID=""
    npx tsx bench/restore/snapshot.ts
    start_nginx_ref
    measure "$backend, 2 nodes + LB"
  fi
  stop_servers
}

# run_baseline: the baseline build seeds the feed once; then each build serves its own copy of it (the current build
# migrates its copy when it starts), both warmed the same way (a snapshot pass over every URL), and measure.ts
# alternates current, baseline and nginx.
run_baseline() {
  export BW="$WORK/sqlite" BENCH_WORK="$WORK/sqlite"
  mkdir -p "$BW"; chmod 755 "$BW"
  NODE_ADDRS=()
  NODE_START_KIB=()
  start_pawket baseline-seeding "$BW/data-baseline" "$BASELINE_MAIN"
  BASELINE_PID="$STARTED_PID"
  echo "Baseline $BENCH_BASELINE_LABEL is up at http://$STARTED_ADDR (pid $STARTED_PID), seeding it ..."
  BENCH_PAWKET_URL="http://$STARTED_ADDR" npx tsx bench/restore/seed.ts ||
    { tail -n 20 "$BW/pawket-baseline-seeding.log" >&2; exit 1; }
  # Stopped before the copy, so the copy is a closed database; restarted, so neither process carries the seeding.
  stop "$BASELINE_PID"; BASELINE_PID=""
  cp -a "$BW/data-baseline" "$BW/data-current"
  start_node 1 "$BW/data-current"
  export BENCH_PAWKET_URL="http://${NODE_ADDRS[0]}"
  start_pawket baseline "$BW/data-baseline" "$BASELINE_MAIN"
  BASELINE_PID="$STARTED_PID"
  export BENCH_BASELINE_URL="http://$STARTED_ADDR"
  echo "Baseline $BENCH_BASELINE_LABEL is up at $BENCH_BASELINE_URL (pid $BASELINE_PID)."
  # The baseline's own snapshot only warms it and records its body sizes; nginx serves the current build's bytes.
  echo "Baseline:"
  BENCH_PAWKET_URL="$BENCH_BASELINE_URL" BENCH_WORK="$BW/baseline" npx tsx bench/restore/snapshot.ts
  echo "Current:"
  npx tsx bench/restore/snapshot.ts
  start_nginx_ref
  measure "sqlite, 1 node, current and baseline"
  stop_servers
}

if [[ -n "$BASELINE" ]]; then
  run_baseline
elif [[ "${BENCH_COMPARE_MODES:-}" == 1 ]]; then
  run_backend sqlite 1 0
  run_backend postgres-s3 1 1
  npx tsx bench/restore/compare.ts "${MODE_FILES[@]}"
elif [[ "$NODES" == 2 ]]; then
  run_backend "$BACKEND" 0 1
else
  run_backend "$BACKEND" 1 0
fi
# compare.ts writes --results in --compare-modes; otherwise the one mode's results are the file.
if [[ -n "${BENCH_RESULTS:-}" && "${BENCH_COMPARE_MODES:-}" != 1 ]]; then cp "${MODE_FILES[-1]}" "$BENCH_RESULTS"; fi
