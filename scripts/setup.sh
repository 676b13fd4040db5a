#!/usr/bin/env bash
# From a fresh clone to a running Codex Lab, in one command: a Node that Codex Lab supports
# (scripts/with-node.sh brings Node 24 from the npm registry when the machine's is older), the
# dependencies, the built CLI and dashboard, `codex-lab` on PATH (npm install --global .), then the
# main job: the tray app where Electron can run, else the headless router with its web dashboard.
#
#   scripts/setup.sh              tray app on a desktop (when Electron's binary can be fetched)
#   scripts/setup.sh --headless   always the headless router (a server, a remote box)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/with-node.sh
headless=0
if [ "${1:-}" = "--headless" ]; then headless=1; fi

echo "Installing the dependencies (npm ci)."
# Electron's binary comes from GitHub releases, which some machines cannot reach: install without
# it, then fetch it below only where a desktop can show the tray.
ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --include=dev --no-audit --no-fund --loglevel=error >/dev/null
npm run --silent build >/dev/null

echo "Putting codex-lab on PATH (npm install --global .)."
if ! npm install --global --no-audit --no-fund --loglevel=error . >/dev/null; then
  echo "Could not install codex-lab into $(npm prefix --global): choose a folder you can write with npm config set prefix ~/.local, put ~/.local/bin on PATH, and run this again." >&2
  exit 1
fi
global_bin="$(npm prefix --global)/bin"
if [ "$(command -v codex-lab || true)" != "$global_bin/codex-lab" ]; then
  echo "codex-lab is installed in $global_bin, which is not first on your PATH: add it (export PATH=\"$global_bin:\$PATH\") so the codex-lab commands and Codex's config.toml find it." >&2
fi
echo "Installed $("$global_bin/codex-lab" --version)."

has_desktop() {
  case "$(uname -s)" in
    Darwin | MINGW* | MSYS* | CYGWIN*) return 0 ;;
  esac
  [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]
}
if [ "$headless" = 0 ] && has_desktop; then
  if node node_modules/electron/install.js >/dev/null 2>&1; then
    echo "Starting the tray app (npm start)."
    exec npm start
  fi
  echo "Electron's binary could not be downloaded here, so the headless router starts instead." >&2
fi
echo "Starting the router with its web dashboard (codex-lab serve); Ctrl-C stops it."
exec "$global_bin/codex-lab" serve --print-dashboard-url
