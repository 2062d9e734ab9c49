#!/usr/bin/env bash
# The README's test command: install what the tests need from the project's own
# files (Debian packages, npm packages), bring up the node stack, run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/node-stack/install.sh
npm ci --no-audit --no-fund
npm test
