#!/usr/bin/env bash
# iproute2 (`ip netns`, veth) for test/e2e/auth-netns.test.ts: the TLS policy and throttle seen from a non-loopback
# address. Run by .ci/peers.sh (as root). Idempotent. With CI=true a missing `ip` fails the script; otherwise it is a
# warning and the suite says "NOT RUN".
set -euo pipefail
fail() {
  if [[ ${CI:-} == true ]]; then echo "peers/netns: $*" >&2; exit 1; fi
  echo "peers/netns: warning: $*" >&2; exit 0
}
if ! command -v ip >/dev/null; then
  [[ $(id -u) -eq 0 ]] || fail "missing iproute2 (run npm run peers as root)"
  command -v apt-get >/dev/null || fail "no apt-get: install iproute2 by hand"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends iproute2 >/dev/null || fail "apt-get install iproute2 failed"
fi
ip netns list >/dev/null 2>&1 || fail "ip netns does not work here (needs root and network namespaces)"
echo "peers/netns: ready ($(ip -V))"
