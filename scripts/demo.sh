#!/usr/bin/env bash
# The README's demo: placeholder until the local gateway lands.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/odplan --version
