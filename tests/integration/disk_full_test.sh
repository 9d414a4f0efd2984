#!/usr/bin/env bash
# A full disk (issue 7): with the data root on a 96 MB tmpfs, a step that fills it, an export that cannot be
# written and an import of a gzip bomb fail with a clear error and exit 1, never crash, leave nothing half-written
# under a digest, and give back the space they took, so the next small build works.
source "$(dirname "$0")/lib.sh"
# The tmpfs is mounted on the host; a rootless kiln's mount namespace, made earlier, does not see it (/ is private).
root_only "the store's tmpfs is mounted by root, outside the user's namespace"
mkdir -p "$KILN_ROOT"
mount -t tmpfs -o size=96m kiln-test "$KILN_ROOT" || skip "cannot mount a tmpfs"
import_busybox
ctx=$WORK/ctx small=$WORK/small
mkdir -p "$ctx" "$small"
printf 'FROM busybox:test\nRUN echo small > /small\n' > "$small/Dockerfile"
free_mb() { df -m --output=avail "$KILN_ROOT" | tail -1 | tr -d ' '; }
before=$(free_mb)

# The step itself survives the full disk (`; true`); writing its 90 MB layer cannot.
printf 'FROM busybox:test\nRUN dd if=/dev/urandom of=/big bs=1M count=300; true\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build -t big:1 "$ctx")
assert_contains "$err" "writing layer: no space left on device ($KILN_ROOT)"
[ "$(free_mb)" -ge $((before - 8)) ] || fail "the failed build kept the disk full: $(free_mb) MB free, $before before"
assert_store_consistent "$KILN_ROOT"
kiln build -q -t small:1 "$small" >/dev/null || fail "a small build after a full disk"
assert_eq "$(kiln run small:1 cat /small)" "small"

# A step that fails because the disk is full.
printf 'FROM busybox:test\nRUN dd if=/dev/urandom of=/big bs=1M count=300\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" "No space left on device"
kiln build -q --no-cache "$small" >/dev/null || fail "a small build after a failed full-disk step"
assert_store_consistent "$KILN_ROOT"

# 1 MB of gzip that expands to 1 GB.
python3 - "$WORK/bomb.tar.gz" <<'PY'
import gzip, io, sys, tarfile
class Zeros(io.RawIOBase):
    def __init__(self, n): self.n = n
    def readable(self): return True
    def readinto(self, b):
        k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
with gzip.open(sys.argv[1], "wb", compresslevel=9) as g, tarfile.open(fileobj=g, mode="w") as t:
    info = tarfile.TarInfo("zeros"); info.size = 1 << 30
    t.addfile(info, io.BufferedReader(Zeros(1 << 30), 1 << 20))
PY
snapshots_before=$(ls "$KILN_ROOT/snapshots" | wc -l)
err=$(must_fail kiln import "$WORK/bomb.tar.gz" bomb:1)
assert_contains "$err" "No space left on device"
assert_eq "$(ls "$KILN_ROOT/snapshots" | wc -l)" "$snapshots_before" "a failed import leaves no snapshot"
assert_not_contains "$(kiln images)" "bomb"
assert_store_consistent "$KILN_ROOT"
kiln import "$(busybox_rootfs)" busybox:again >/dev/null || fail "an import after the failed one"
kiln build -q "$small" >/dev/null || fail "a build after the failed import"
echo PASS
