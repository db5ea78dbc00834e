#!/usr/bin/env bash
# The whole test suite: system packages, both builds (the browser tests load the BUILT plugin), the typecheck and lint, then every jest
# project in one run, ending with the plain line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
npm run --silent build >artifacts-build.log 2>&1 || { cat artifacts-build.log; echo "0 passed, 1 failed"; exit 1; }
rm -f artifacts-build.log
npm run --silent typecheck || { echo "0 passed, 1 failed"; exit 1; }
npm run --silent lint || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p artifacts
npx jest --ci --json --outputFile=artifacts/jest-results.json "$@"
node scripts/summarize-jest.js artifacts/jest-results.json
