#!/usr/bin/env bash
# Real IMAP clients for test/clients/*.test.ts (Debian 12 packages): mbsync (isync) with the KDE XOAUTH2 SASL plugin,
# offlineimap3, neomutt driven in tmux, curl, fetchmail, getmail6. Run by .ci/peers.sh (as root). Idempotent: when
# every binary and file is present it only checks. With CI=true a client that cannot be installed fails the script;
# otherwise it is a warning and the suites say "NOT RUN".
set -euo pipefail

# binary -> Debian package (one table)
declare -A PKG=([mbsync]=isync [offlineimap]=offlineimap3 [neomutt]=neomutt [tmux]=tmux [curl]=curl [openssl]=openssl
  [fetchmail]=fetchmail [getmail]=getmail6)
# file -> Debian package, for what is not a binary: the cyrus-sasl XOAUTH2 mechanism mbsync loads (AuthMechs XOAUTH2).
declare -A FILE_PKG=([/usr/lib/x86_64-linux-gnu/sasl2/libkdexoauth2.so]=libsasl2-modules-kdexoauth2)
fail() {
  if [[ ${CI:-} == true ]]; then echo "peers/clients: $*" >&2; exit 1; fi
  echo "peers/clients: warning: $*" >&2; exit 0
}
has_file() { compgen -G "/usr/lib/*/sasl2/$(basename "$1")" >/dev/null; }

need=()
for bin in "${!PKG[@]}"; do command -v "$bin" >/dev/null || need+=("${PKG[$bin]}"); done
for f in "${!FILE_PKG[@]}"; do has_file "$f" || need+=("${FILE_PKG[$f]}"); done
if ((${#need[@]})); then
  [[ $(id -u) -eq 0 ]] || fail "missing ${need[*]} (run npm run peers as root)"
  command -v apt-get >/dev/null || fail "no apt-get: install ${need[*]} by hand"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # ca-certificates: neomutt/offlineimap load the system store even when the test trusts its own certificate.
  apt-get install -y -qq --no-install-recommends "${need[@]}" ca-certificates >/dev/null || fail "apt-get install ${need[*]} failed"
fi
for bin in "${!PKG[@]}"; do command -v "$bin" >/dev/null || fail "$bin missing after install"; done
for f in "${!FILE_PKG[@]}"; do has_file "$f" || fail "$f missing after install"; done
echo "peers/clients: ready ($(mbsync --version 2>&1 | head -1), offlineimap $(offlineimap --version 2>/dev/null | head -1), $(neomutt -v 2>/dev/null | head -1), $(tmux -V), $(curl --version | head -1 | cut -d' ' -f1-2), fetchmail $(fetchmail --version 2>/dev/null | grep -o 'release [0-9.]*' | head -1 | cut -d' ' -f2), $(/usr/bin/python3 "$(command -v getmail)" --version 2>/dev/null | head -1))"
