#!/usr/bin/env bash
# `npm run peers`: install the reference servers, real clients and corpora the test suites use.
# Idempotent; run as root on Debian (apt) with the npm registry. Each suite starts its own throwaway instances.
#
# What the suites use today:
#   - imapflow (npm devDependency, installed by `npm install`)
#   - Python 3 imaplib (standard library; python3 is on every machine of ours)
#   - openssl command line (TLS checks by hand; preinstalled on Debian)
# Cyrus JMAP, Dovecot, mbsync, offlineimap, neomutt and the corpora join this list with the interop issue.
set -euo pipefail

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
command -v openssl >/dev/null || need_apt+=(openssl)

if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then echo "peers: need root to apt-get install ${need_apt[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

python3 -c 'import imaplib, ssl' || { echo "peers: python3 without imaplib/ssl" >&2; exit 1; }
node -e "import('imapflow').then(() => process.exit(0), () => process.exit(1))" \
  || { echo "peers: imapflow missing: run npm install first" >&2; exit 1; }
echo "peers: ready (python3 $(python3 -c 'import sys; print(sys.version.split()[0])'), imapflow $(node -p "require('imapflow/package.json').version"))"
