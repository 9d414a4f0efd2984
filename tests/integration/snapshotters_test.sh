#!/usr/bin/env bash
# The three snapshotters (issue 23): overlayfs, fuse-overlayfs and native (copying), forced by KILN_SNAPSHOTTER or
# kiln.toml, build the same image from a Dockerfile that deletes, replaces directories, unlinks one name of a
# hardlinked file, sets an mtime back and uses every RUN mount; fuse-overlayfs writes the same layers as overlayfs.
# "auto" falls back when overlayfs cannot mount (a store on overlayfs) and says why, in `kiln du -v`, at the top of
# --progress plain, and, when it must copy, in a warning. kill -9 under native leaves nothing behind.
source "$(dirname "$0")/lib.sh"
command -v fuse-overlayfs >/dev/null || skip "fuse-overlayfs is not installed (scripts/install-deps installs it)"
[ -c /dev/fuse ] || skip "no /dev/fuse on this machine"
# A plain user reaches FUSE through /dev/fuse, which Debian's udev makes 0666; this machine's has no udev rule.
chmod 666 /dev/fuse

cat > "$WORK/Dockerfile" <<'DOCKERFILE'
FROM busybox:test AS base
RUN mkdir -p /d/sub /keep /gone && echo a > /d/sub/a && echo k > /keep/k && echo g > /gone/g \
 && echo f > /file && ln /file /hard && echo t > /touched && touch -d 2001-01-01 /touched
FROM base
RUN rm -rf /d && mkdir -p /d && echo new > /d/n
RUN rm -rf /gone /file && echo x > /keep/x && chmod 700 /keep && mv /keep/k /keep/k2
RUN echo more >> /hard && chown 1000:1000 /hard && chmod 640 /hard && chmod 4755 /keep/x
RUN echo changed > /touched && touch -d 2001-01-01 /touched && rm /d/n && rmdir /d
RUN --mount=type=cache,target=/cache --mount=type=tmpfs,target=/scratch --mount=from=base,target=/b,rw \
    echo c >> /cache/log && cp /b/touched /copied && echo w > /b/written && echo s > /scratch/s
COPY --chown=1000:1000 note.txt /srv/note.txt
USER 1000
RUN echo u > /tmp/u && ls /srv
DOCKERFILE
echo note > "$WORK/note.txt"
flat() {  # name uid gid mode type size link of every file of an image tar
  python3 - "$1" <<'PY'
import sys, tarfile
for m in sorted(tarfile.open(sys.argv[1]).getmembers(), key=lambda m: m.name):
    print(m.name, m.uid, m.gid, oct(m.mode), m.type, m.size if m.isfile() else 0, m.linkname)
PY
}
layers() {  # the same for each layer of an OCI layout, whiteouts included
  python3 - "$1" <<'PY'
import json, os, sys, tarfile
d = sys.argv[1]
blob = lambda dg: os.path.join(d, "blobs", *dg.split(":"))
manifest = json.load(open(blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"])))
for i, layer in enumerate(manifest["layers"]):
    for m in sorted(tarfile.open(blob(layer["digest"])).getmembers(), key=lambda m: m.name):
        print(i, m.name, m.uid, m.gid, oct(m.mode), m.type, m.size if m.isfile() else 0, m.linkname)
PY
}

# --- Each driver, forced, builds the same image, each in a store of its own. ---
for driver in overlayfs fuse-overlayfs native; do
  export KILN_ROOT=$WORK/root-$driver
  import_busybox
  out=$(KILN_SNAPSHOTTER=$driver kiln build --progress plain -t snap:$driver -o "type=tar,dest=$WORK/$driver.tar" "$WORK" 2>&1) \
    || fail "build with the $driver snapshotter:"$'\n'"$out"
  assert_contains "$out" "snapshotter $driver"
  KILN_SNAPSHOTTER=$driver kiln build -q -o "type=oci,tar=false,dest=$WORK/$driver.oci" "$WORK" >/dev/null
  flat "$WORK/$driver.tar" > "$WORK/$driver.flat"
  layers "$WORK/$driver.oci" > "$WORK/$driver.layers"
  assert_eq "$(KILN_SNAPSHOTTER=$driver kiln run snap:$driver cat /touched /copied /srv/note.txt | tr '\n' ' ')" "changed t note "
  assert_contains "$(KILN_SNAPSHOTTER=$driver kiln du -v)" "snapshotter $driver"
done
grep -q "^keep/x 0 0 0o4755" "$WORK/native.flat" || fail "native keeps a setuid mode"
grep -q "^hard 1000 1000 0o640" "$WORK/native.flat" || fail "native keeps the owner a step gave"
! grep -q "^b/written\|^scratch/s\|^cache/log" "$WORK/native.flat" || fail "what went to a mount is not in the image"
for driver in fuse-overlayfs native; do
  diff "$WORK/overlayfs.flat" "$WORK/$driver.flat" || fail "the $driver snapshotter made another image than overlayfs"
done
diff "$WORK/overlayfs.layers" "$WORK/fuse-overlayfs.layers" || fail "fuse-overlayfs wrote other layers than overlayfs"
# native finds the same changes; a directory removed and made again may come out as whiteouts of its old entries
# instead of an opaque mark (the file system may give it its old inode), which stacks to the same files.
diff <(grep -v '\.wh\.' "$WORK/overlayfs.layers") <(grep -v '\.wh\.' "$WORK/native.layers") \
  || fail "native wrote other layers than overlayfs"

# --- kiln.toml chooses; KILN_SNAPSHOTTER overrides; bad names are errors that say where. ---
printf '[snapshots]\ndriver = "native"\n' > "$KILN_ROOT/kiln.toml"
assert_contains "$(kiln du -v)" "snapshotter native, copying"
assert_contains "$(KILN_SNAPSHOTTER=fuse-overlayfs kiln du -v)" "snapshotter fuse-overlayfs"
printf '[snapshots]\ndriver = "zfs"\n' > "$KILN_ROOT/kiln.toml"
err=$(must_fail kiln du -v)
assert_contains "$err" "$KILN_ROOT/kiln.toml: snapshots.driver must be \"auto\", \"overlayfs\", \"fuse-overlayfs\" or \"native\""
rm "$KILN_ROOT/kiln.toml"
err=$(KILN_SNAPSHOTTER=copy must_fail kiln du -v)
assert_contains "$err" "KILN_SNAPSHOTTER=copy: no such snapshotter: use auto, overlayfs, fuse-overlayfs or native"

if [ -n "${KILN_TEST_ROOTLESS:-}" ]; then
  # The fallbacks need a mount made here to reach kiln, but a rootless kiln lives in its user's mount namespace,
  # made before this test, where this machine's private mounts do not propagate.
  echo PASS
  exit 0
fi

# --- auto: a store on overlayfs cannot hold overlay upper directories, so fuse-overlayfs stacks them. ---
mkdir -p "$WORK/ovl/lower" "$WORK/ovl/upper" "$WORK/ovl/work" "$WORK/ovl/mnt"
mount -t overlay overlay -o "lowerdir=$WORK/ovl/lower,upperdir=$WORK/ovl/upper,workdir=$WORK/ovl/work" "$WORK/ovl/mnt"
export KILN_ROOT=$WORK/ovl/mnt/store
import_busybox
out=$(kiln build --progress plain -t auto:1 "$WORK" 2>&1) || fail "build on a store on overlayfs:"$'\n'"$out"
assert_contains "$out" "snapshotter fuse-overlayfs (overlayfs: mount overlay on"
assert_contains "$(kiln du -v)" "snapshotter fuse-overlayfs (overlayfs: "
assert_eq "$(kiln run auto:1 cat /touched)" "changed"

# --- auto, where fuse-overlayfs cannot run either: native, with a warning that says why. ---
out=$(unshare -m sh -c 'mount --bind /dev/null /usr/bin/fuse-overlayfs && exec "$0" build --no-cache --progress plain -t auto:2 "$1"' \
  "$KILN" "$WORK" 2>&1) || fail "build with neither overlayfs nor fuse-overlayfs:"$'\n'"$out"
assert_contains "$out" "kiln: warning: snapshots are copied (the native snapshotter)"
assert_contains "$out" "fuse-overlayfs: cannot run fuse-overlayfs"
assert_contains "$out" "snapshotter native, copying (overlayfs: "
assert_eq "$(kiln run auto:2 cat /touched)" "changed"

# --- kill -9 mid-RUN under native: the working copy and the views go at the next command. ---
export KILN_ROOT=$WORK/root-kill KILN_SNAPSHOTTER=native
import_busybox
nap="sleep $((2000 + $$ % 1000))"
printf 'FROM busybox:test AS two\nRUN echo two > /two\nFROM busybox:test\nRUN echo first > /first\nRUN --mount=from=two,target=/b %s\n' \
  "$nap" > "$WORK/Dockerfile.kill"
"$KILN" build --progress plain -f "$WORK/Dockerfile.kill" "$WORK" > "$WORK/kill.log" 2>&1 &
job=$!
for _ in $(seq 100); do pgrep -fx "$nap" >/dev/null && break; sleep 0.1; done
pgrep -fx "$nap" >/dev/null || fail "the step did not start: $(cat "$WORK/kill.log")"
[ -n "$(ls -d "$KILN_ROOT"/snapshots/*/copy 2>/dev/null)" ] || fail "native RUN works in a copy"
[ -n "$(ls -d "$KILN_ROOT"/mounts/v-* 2>/dev/null)" ] || fail "native mounts a stage as a view"
kill -9 "$job"
wait "$job" 2>/dev/null || true
pkill -9 -fx "$nap" || true
sed -i "s/$nap/echo after/" "$WORK/Dockerfile.kill"
out=$(kiln build --progress plain -f "$WORK/Dockerfile.kill" "$WORK" 2>&1) || fail "build after kill -9:"$'\n'"$out"
grep -A1 "echo first" <<<"$out" | grep -q CACHED || fail "the step finished before kill -9 was lost"
[ -z "$(ls -d "$KILN_ROOT"/snapshots/*/copy 2>/dev/null)" ] || fail "a working copy outlived its build"
[ -z "$(ls -A "$KILN_ROOT/mounts")" ] || fail "views left in $KILN_ROOT/mounts: $(ls "$KILN_ROOT/mounts")"
assert_store_consistent "$KILN_ROOT"
echo PASS
