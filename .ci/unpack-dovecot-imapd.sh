#!/usr/bin/env bash
# Unpack dovecot-imapd's .deb into the peers cache (for machines where cyrus-imapd, which conflicts with it in apt,
# is installed). The .deb must be the SAME version as the installed dovecot-core: an imap-login from a newer
# security build against older dovecot-core libraries dies at start ("pool_system_realloc(34359738361): Out of
# memory"), seen here with deb12u7 imapd on deb12u6 core. Idempotent: a stamp records the unpacked version.
set -euo pipefail
PEERS_CACHE=${PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imap-jmap-gateway/peers}
core=$(dpkg-query -W -f='${Version}' dovecot-core 2>/dev/null) || { echo "dovecot-core is not installed" >&2; exit 1; }
dest="$PEERS_CACHE/dovecot-imapd"
[[ -x $dest/usr/lib/dovecot/imap-login && $(cat "$dest/VERSION" 2>/dev/null) == "$core" ]] && exit 0
rm -rf "$dest" && mkdir -p "$dest"
cd "$PEERS_CACHE"
rm -f dovecot-imapd_*.deb
apt-get download "dovecot-imapd=$core" >/dev/null
dpkg-deb -x dovecot-imapd_*.deb "$dest"
rm -f dovecot-imapd_*.deb
echo "$core" > "$dest/VERSION"
