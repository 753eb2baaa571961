#!/usr/bin/env bash
# Real IMAP clients for test/clients/*.test.ts (Debian 12 packages): mbsync (isync), offlineimap3, neomutt driven in
# tmux, curl. Run by .ci/peers.sh (as root). Idempotent: when every binary is present it only checks. With CI=true a
# client that cannot be installed fails the script; otherwise it is a warning and the suites say "NOT RUN".
set -euo pipefail

# binary -> Debian package (one table)
declare -A PKG=([mbsync]=isync [offlineimap]=offlineimap3 [neomutt]=neomutt [tmux]=tmux [curl]=curl [openssl]=openssl)
fail() {
  if [[ ${CI:-} == true ]]; then echo "peers/clients: $*" >&2; exit 1; fi
  echo "peers/clients: warning: $*" >&2; exit 0
}

need=()
for bin in "${!PKG[@]}"; do command -v "$bin" >/dev/null || need+=("${PKG[$bin]}"); done
if ((${#need[@]})); then
  [[ $(id -u) -eq 0 ]] || fail "missing ${need[*]} (run npm run peers as root)"
  command -v apt-get >/dev/null || fail "no apt-get: install ${need[*]} by hand"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # ca-certificates: neomutt/offlineimap load the system store even when the test trusts its own certificate.
  apt-get install -y -qq --no-install-recommends "${need[@]}" ca-certificates >/dev/null || fail "apt-get install ${need[*]} failed"
fi
for bin in "${!PKG[@]}"; do command -v "$bin" >/dev/null || fail "$bin missing after install"; done
echo "peers/clients: ready ($(mbsync --version 2>&1 | head -1), offlineimap $(offlineimap --version 2>/dev/null | head -1), $(neomutt -v 2>/dev/null | head -1), $(tmux -V), $(curl --version | head -1 | cut -d' ' -f1-2))"
