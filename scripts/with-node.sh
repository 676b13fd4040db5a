#!/usr/bin/env bash
# Runs a command with a Node that Codex Lab supports (>= 22.12) first on PATH: the machine's own
# when it is new enough, else Node 24 from the npm registry, installed once into a cache folder
# (scripts/node-runtime.mjs says which). Set-up, `.ci/run` and the README's test command all go
# through here. Sourced (`source scripts/with-node.sh`), it only puts that Node on PATH.
#
#   scripts/with-node.sh npm test
set -euo pipefail
codex_lab_scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Codex Lab needs Node 22.12 or newer, and npm to fetch it: install Node.js from https://nodejs.org and run this again." >&2
  exit 1
fi
if ! node "$codex_lab_scripts/node-runtime.mjs" check 2>/dev/null; then
  codex_lab_node="$(node "$codex_lab_scripts/node-runtime.mjs" cache-dir)"
  if [ ! -x "$codex_lab_node/node_modules/.bin/node" ]; then
    echo "Installing Node 24 from the npm registry into $codex_lab_node (this machine has Node $(node --version))." >&2
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$codex_lab_node" node@24 >/dev/null
  fi
  export PATH="$codex_lab_node/node_modules/.bin:$PATH"
fi
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
