#!/usr/bin/env bash
# Runs a command with a Node that Codex Lab supports (>= 22.12) first on PATH: the machine's own
# when it is new enough, else Node 24 from the npm registry, installed once into a cache folder
# (scripts/node-runtime.mjs says which). Set-up, `.ci/run` and the README's test command all go
# through here. Sourced (`source scripts/with-node.sh`), it only puts that Node on PATH, and
# leaves the shell's own options as they were (no `set -e` in an interactive shell).
#
#   scripts/with-node.sh npm test
codex_lab_sourced=0
[ "${BASH_SOURCE[0]}" != "$0" ] && codex_lab_sourced=1
[ "$codex_lab_sourced" = 0 ] && set -euo pipefail

# Puts a supported Node first on PATH; fails (status 1, one sentence) when none can be had.
codex_lab_use_node() {
  local scripts node_dir
  scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" || return 1
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Codex Lab needs Node 22.12 or newer, and npm to fetch it: install Node.js from https://nodejs.org and run this again." >&2
    return 1
  fi
  node "$scripts/node-runtime.mjs" check 2>/dev/null && return 0
  node_dir="$(node "$scripts/node-runtime.mjs" cache-dir)" || return 1
  if [ ! -x "$node_dir/node_modules/.bin/node" ]; then
    echo "Installing Node 24 from the npm registry into $node_dir (this machine has Node $(node --version))." >&2
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$node_dir" node@24 >/dev/null ||
      return 1
  fi
  export PATH="$node_dir/node_modules/.bin:$PATH"
}

if [ "$codex_lab_sourced" = 1 ]; then
  unset codex_lab_sourced
  codex_lab_use_node
  return
fi
codex_lab_use_node || exit 1
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
