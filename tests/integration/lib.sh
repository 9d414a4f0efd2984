# Shared helpers of kiln's integration tests. Each test sources this, gets a fresh data root and a busybox base
# image made from Debian's busybox-static, and drives the real kiln binary.
set -euo pipefail

KILN=${KILN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/kiln}
SKIP=77

skip() { echo "SKIP: $*"; exit $SKIP; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Tests that never build (KILN_TEST_NO_BUILDER=1) need none of root, runc, busybox and overlayfs.
if [ -z "${KILN_TEST_NO_BUILDER:-}" ]; then
  [ "$(id -u)" = 0 ] || skip "needs root (overlayfs mounts and runc containers)"
  command -v runc >/dev/null || skip "runc is not installed (scripts/install-deps installs it)"
  [ -x /bin/busybox ] || skip "busybox-static is not installed (scripts/install-deps installs it)"
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "the kernel has no overlayfs"
fi

WORK=$(mktemp -d /tmp/kiln-it.XXXXXX)
export KILN_ROOT=$WORK/root
SERVER_PID=  # a kiln process serving in the background (kiln mcp), stopped on exit
cleanup() {
  local code=$?
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true; fi
  stop_registries 2>/dev/null || true
  parity_stop_serving 2>/dev/null || true
  # Unmount anything a failed test left, then remove its files; the test's own exit status stands.
  { grep -o " $WORK[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done; } 2>/dev/null || true
  rm -rf "$WORK"
  exit $code
}
trap cleanup EXIT

kiln() { "$KILN" "$@"; }

source "$(dirname "${BASH_SOURCE[0]}")/../parity/lib.sh"

# A busybox root file system with users root, nobody and app (1000), as a tarball.
busybox_rootfs() {
  local out=$WORK/busybox-rootfs.tar
  # The parity cases' base, with app also in a supplementary group (staff).
  [ -f "$out" ] || parity_base_rootfs "$out" $'staff:x:50:app\n'
  echo "$out"
}

import_busybox() { kiln import "$(busybox_rootfs)" "${1:-busybox:test}" >/dev/null; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"; }
assert_contains() { grep -qF -- "$2" <<<"$1" || fail "${3:-missing text}: [$2] not in output:"$'\n'"$1"; }
assert_not_contains() { ! grep -qF -- "$2" <<<"$1" || fail "${3:-unexpected text}: [$2] in output:"$'\n'"$1"; }

# Runs a command that must fail; prints its stderr.
must_fail() {
  local err
  if err=$("$@" 2>&1 >/dev/null); then fail "expected failure: $*"; fi
  echo "$err"
}

# The store under data root $1 is consistent: SQLite's integrity check passes, every blob's content matches its
# digest, and no half-written blob or mount is left behind.
assert_store_consistent() {
  local root=$1 f
  [ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$root/metadata.db")" = ok ] \
    || fail "metadata.db failed PRAGMA integrity_check"
  for f in "$root"/blobs/sha256/*; do
    [ -e "$f" ] || continue
    [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || fail "blob $(basename "$f") does not match its digest"
  done
  [ -z "$(ls -A "$root/blobs/ingest" 2>/dev/null)" ] || fail "half-written blobs left in $root/blobs/ingest"
}

# A plain user for the rootless tests, with subordinate ids (created once): sets ROOTLESS_USER and ROOTLESS_HOME,
# and makes $WORK and the busybox rootfs readable to it. Skips when the machine cannot run kiln rootless.
rootless_user() {
  command -v newuidmap >/dev/null || skip "newuidmap is not installed (uidmap; scripts/install-deps installs it)"
  [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ] || skip "user namespaces are disabled"
  ROOTLESS_USER=kiln-rootless
  touch /etc/subuid /etc/subgid
  id "$ROOTLESS_USER" >/dev/null 2>&1 || useradd -m "$ROOTLESS_USER"
  grep -q "^$ROOTLESS_USER:" /etc/subuid || usermod --add-subuids 300000-365535 --add-subgids 300000-365535 "$ROOTLESS_USER"
  ROOTLESS_HOME=$(eval echo ~"$ROOTLESS_USER")
  chmod 755 "$WORK"
  chmod 644 "$(busybox_rootfs)"
}

# become USER CMD...: CMD as USER, exec'd in place by setpriv (runuser forks and waits), so that a signal to the
# command's pid reaches kiln itself.
become() { local user=$1; shift; setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"; }

# as_user USER STORE CMD...: runs CMD as USER with a clean environment, its kiln store in STORE. Further variables
# come as NAME=VALUE before CMD.
as_user() {
  local user=$1 store=$2; shift 2
  become "$user" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$(eval echo ~"$user")" KILN_ROOT="$store" "$@"
}

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

REGISTRY_PIDS=()
stop_registries() { local p; for p in "${REGISTRY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
# Starts Debian's docker-registry on 127.0.0.1 and sets REGISTRY to its HOST:PORT. `start_registry basic USER PASS`
# requires Basic auth with an htpasswd file (bcrypt); `start_registry token REALM_URL CERT` requires Bearer tokens
# signed by CERT's key from the token service at REALM_URL; `start_registry tls` serves HTTPS (and HTTP/2) with a
# self-signed certificate. Stopped when the test ends.
start_registry() {
  command -v docker-registry >/dev/null || skip "docker-registry is not installed (scripts/install-deps installs it)"
  local mode=${1:-plain} port dir auth="" tls="" scheme=http
  port=$(free_port)
  dir=$(mktemp -d "$WORK/registry.XXXXXX")
  case $mode in
    basic)
      command -v htpasswd >/dev/null || skip "htpasswd is not installed (apache2-utils; scripts/install-deps installs it)"
      htpasswd -Bbn "$2" "$3" > "$dir/htpasswd"
      auth="auth: {htpasswd: {realm: kiln-test, path: $dir/htpasswd}}" ;;
    token)
      auth="auth: {token: {realm: \"$2\", service: kiln-test-registry, issuer: kiln-test-issuer, rootcertbundle: $3}}" ;;
    tls)
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/tls.key" -out "$dir/tls.crt" -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
      tls=", tls: {certificate: $dir/tls.crt, key: $dir/tls.key}"
      scheme=https ;;
  esac
  cat > "$dir/config.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port$tls}
$auth
YML
  docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  REGISTRY_PIDS+=($!)
  local i
  for i in $(seq 100); do
    curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/" && break
    sleep 0.1
  done
  curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/" || fail "docker-registry did not start: $(cat "$dir/log")"
  REGISTRY=127.0.0.1:$port
  REGISTRY_DIR=$dir
}

# KILN_TEST_ROOTLESS=1 runs the test with kiln as a plain user (rootless): $KILN becomes a wrapper that runs the
# real binary as that user, who owns $WORK (what the test writes there itself stays root's: a directory kiln must
# write into is made with as_test_user). A test that only makes sense as root says so with root_only.
root_only() { [ -z "${KILN_TEST_ROOTLESS:-}" ] || skip "as root only: $*"; }
# as_test_user CMD...: CMD as the user kiln runs as (the plain user under KILN_TEST_ROOTLESS, else root), for what
# kiln must reach as its own (an ssh agent checks its client's uid).
as_test_user() {
  if [ -n "${KILN_TEST_ROOTLESS:-}" ]; then
    become "$ROOTLESS_USER" "$@"
  else
    "$@"
  fi
}
# give_to_test_user FILE...: FILE becomes the property of the user kiln runs as (a private key must be its own).
give_to_test_user() { [ -z "${KILN_TEST_ROOTLESS:-}" ] || chown "$ROOTLESS_USER": "$@"; }
if [ -n "${KILN_TEST_ROOTLESS:-}" ]; then
  rootless_user
  chown "$ROOTLESS_USER": "$WORK"
  # For comparing what it exports to a directory: its ids on the host, turned back into the image's.
  export ROOTLESS_IDS="$(id -u "$ROOTLESS_USER"):$(grep "^$ROOTLESS_USER:" /etc/subuid | cut -d: -f2):$(id -g "$ROOTLESS_USER"):$(grep "^$ROOTLESS_USER:" /etc/subgid | cut -d: -f2)"
  KILN_REAL=$KILN
  KILN=$WORK/kiln-as-$ROOTLESS_USER
  printf '#!/bin/sh\nexec setpriv --reuid=%s --regid=%s --init-groups -- env HOME=%s %s "$@"\n' \
    "$ROOTLESS_USER" "$ROOTLESS_USER" "$ROOTLESS_HOME" "$KILN_REAL" > "$KILN"
  chmod 755 "$KILN"
fi
