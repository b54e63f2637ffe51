#!/usr/bin/env bash
# Installs what tests/test_diagram.py renders with: Debian's chromium (/usr/bin/chromium) and the npm
# package @mermaid-js/mermaid-cli into .tools/mermaid (git-ignored), without puppeteer's own browser
# download. Idempotent and quick when both are already there (./run test calls it every time).
#   bash .ci/install-mermaid.sh
# Environment: MERMAID_CLI_VERSION (default below), MERMAID_TOOLS_DIR (default .tools/mermaid).
set -euo pipefail
cd "$(dirname "$0")/.."

MERMAID_CLI_VERSION=${MERMAID_CLI_VERSION:-12.2.0}
TOOLS=${MERMAID_TOOLS_DIR:-.tools/mermaid}

if [[ ! -x /usr/bin/chromium ]]; then
  echo "install-mermaid: installing Debian chromium (apt-get)" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
fi

installed=""
if [[ -f $TOOLS/node_modules/@mermaid-js/mermaid-cli/package.json ]]; then
  installed=$(node -p "require('./$TOOLS/node_modules/@mermaid-js/mermaid-cli/package.json').version" 2>/dev/null || true)
fi
if [[ $installed != "$MERMAID_CLI_VERSION" || ! -x $TOOLS/node_modules/.bin/mmdc ]]; then
  echo "install-mermaid: installing @mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION into $TOOLS (npm)" >&2
  mkdir -p "$TOOLS"
  [[ -f $TOOLS/package.json ]] || echo '{"name": "stackforge-mermaid-tools", "private": true}' > "$TOOLS/package.json"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
    "@mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION" >&2
fi
echo "install-mermaid: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), mermaid-cli $MERMAID_CLI_VERSION at $TOOLS/node_modules/.bin/mmdc" >&2
