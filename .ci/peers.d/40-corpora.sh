#!/usr/bin/env bash
# MIME test corpora for test/differential/, test/interop/ and test/scenarios/ (Debian 12 packages): enmime's testdata
# (~98 MIME edge-case and malformed messages) and jwz's test mail (2,403 .eml, a threading corpus), both as Go source
# packages under /usr/share/gocode. Run by .ci/peers.sh (as root). Idempotent: when both are installed it only
# checks. With CI=true a missing corpus fails the script; otherwise it is a warning and the suites use what they find.
set -euo pipefail

PKGS=(golang-github-jhillyerd-enmime-dev golang-github-gatherstars-com-jwz-dev)
fail() {
  if [[ ${CI:-} == true ]]; then echo "peers/corpora: $*" >&2; exit 1; fi
  echo "peers/corpora: warning: $*" >&2; exit 0
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

need=()
for p in "${PKGS[@]}"; do installed "$p" || need+=("$p"); done
if ((${#need[@]})); then
  [[ $(id -u) -eq 0 ]] || fail "missing ${need[*]} (run npm run peers as root)"
  command -v apt-get >/dev/null || fail "no apt-get: install ${need[*]} by hand"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || fail "apt-get install ${need[*]} failed"
fi
for p in "${PKGS[@]}"; do installed "$p" || fail "$p missing after install"; done
enmime=$(dpkg -L golang-github-jhillyerd-enmime-dev | grep -m1 '/testdata/mail$' || true)
[[ -n $enmime && -d $enmime ]] || fail "enmime testdata/mail not found"
jwz=/usr/share/gocode/src/github.com/gatherstars-com/jwz/test/testdata/ham
[[ -d $jwz ]] || fail "jwz testdata/ham not found (test/helpers/corpora.ts JWZ_DIR)"
echo "peers/corpora: ready (enmime $(dpkg-query -W -f='${Version}' golang-github-jhillyerd-enmime-dev): $(ls "$enmime" | wc -l) files in $enmime; jwz $(dpkg-query -W -f='${Version}' golang-github-gatherstars-com-jwz-dev): $(ls "$jwz" | wc -l) .eml in $jwz)"
