#!/usr/bin/env bash
# Install Switchboard with everything the tests need, then run the test suite (args go to pytest).
set -euo pipefail
source "$(dirname "$0")/_venv.sh" local,test,export
exec python -m pytest "$@"
