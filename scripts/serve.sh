#!/usr/bin/env bash
# Install Switchboard with the embedded local model and serve it on :8000 (args go to `serve`).
set -euo pipefail
source "$(dirname "$0")/_venv.sh" local
exec switchboard serve "$@"
