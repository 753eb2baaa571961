#!/usr/bin/env bash
# Cyrus IMAP 3.6 with JMAP (Debian 12 packages), for test/interop/cyrus-*.test.ts. Run by .ci/peers.sh (as root).
# Idempotent: when every package is installed it only checks. Nothing is started: each suite starts its own
# throwaway instance (test/helpers/cyrus.ts). cyrus-imapd and dovecot-imapd conflict in apt (both provide
# imap-server): installing Cyrus removes dovecot-imapd, so .ci/peers.sh keeps Dovecot's imap binaries as an unpacked
# .deb in the peers cache; this script re-runs that part when Cyrus has just displaced them.
set -euo pipefail

CYRUS_PKGS=(cyrus-imapd cyrus-caldav cyrus-admin cyrus-clients sasl2-bin libsasl2-modules)
cyrus_ok() { [[ -x /usr/lib/cyrus/bin/master && -x /usr/lib/cyrus/bin/httpd && -x /usr/sbin/saslpasswd2 ]]; }
fail() {
  if [[ ${CI:-} == true ]]; then echo "peers/cyrus: $*" >&2; exit 1; fi
  echo "peers/cyrus: warning: $*" >&2; exit 0
}

if ! cyrus_ok; then
  [[ $(id -u) -eq 0 ]] || fail "Cyrus is not installed (run npm run peers as root)"
  command -v apt-get >/dev/null || fail "no apt-get: install Cyrus IMAP 3.6 with JMAP (cyrus-caldav) by hand"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d / no systemd: the packages' own cyrus service is not started (and is disabled below if it was).
  apt-get install -y -qq --no-install-recommends "${CYRUS_PKGS[@]}" >/dev/null || fail "apt-get install ${CYRUS_PKGS[*]} failed"
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then systemctl disable --now cyrus-imapd >/dev/null 2>&1 || true; fi
fi
# Dovecot (the benchmark's reference) lost /usr/lib/dovecot/imap if apt just removed dovecot-imapd: keep its
# binaries as the unpacked .deb where .ci/peers.sh and bench/dovecot.ts look for them.
PEERS_CACHE=${PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imap-jmap-gateway/peers}
if [[ $(id -u) -eq 0 ]] && command -v dovecot >/dev/null && [[ ! -x /usr/lib/dovecot/imap ]]; then
  PEERS_CACHE="$PEERS_CACHE" bash "$(dirname "$0")/../unpack-dovecot-imapd.sh" || fail "could not unpack dovecot-imapd next to Cyrus"
fi
cyrus_ok || fail "Cyrus binaries missing after install"
/usr/lib/cyrus/bin/cyr_buildinfo 2>/dev/null | grep -q '"jmap": true' || fail "this Cyrus build has no JMAP"
id cyrus >/dev/null 2>&1 || fail "no cyrus system user"
echo "peers/cyrus: ready ($(dpkg-query -W -f='${Version}' cyrus-imapd 2>/dev/null || echo '?'))"
