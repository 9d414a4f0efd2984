#!/usr/bin/env bash
# Hardening, round two (issue 22), against a registry on 127.0.0.1 that lies (registry/liar.py): a name with a
# digest never stands for other content (tag, load, import, build -t, FROM, run); credentials go to no token realm
# but https (or plain HTTP to a loopback or insecure host), never along a redirect to another origin, and never
# into an error message; bad flags are errors, not silence; a compression bomb is refused before it fills the store.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
LIAR=$HERE/registry/liar.py
export DOCKER_CONFIG=$WORK/docker
import_busybox busybox:test
ctx=$WORK/ctx
mkdir -p "$ctx"
printf 'FROM busybox:test\nRUN echo evil > /evil\n' > "$ctx/Dockerfile"
kiln build -q -t evil:1 "$ctx" >/dev/null
digest_of() { kiln inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; }
busybox=$(digest_of busybox:test)
evil=$(digest_of evil:1)
[ "$busybox" != "$evil" ] || fail "the two imports should differ"

# --- A name with a digest is a promise. ---
err=$(must_fail kiln tag evil:1 "pinned@$busybox")
assert_contains "$err" "the name pins digest $busybox, but the image is $evil"
kiln tag busybox:test "pinned@$busybox"  # the name's own content: allowed
assert_eq "$(digest_of "pinned@$busybox")" "$busybox"
# A stored record that lies (a store from before names were checked) is not believed.
python3 - "$KILN_ROOT/metadata.db" "docker.io/library/liar@$busybox" "$evil" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT OR REPLACE INTO images(name, digest, created) VALUES (?, ?, 0)", (sys.argv[2], sys.argv[3]))
db.commit()
PY
assert_eq "$(digest_of "liar@$busybox")" "$busybox" "a pinned name resolves to its digest"
printf 'FROM liar@%s\nRUN echo built > /b\n' "$busybox" > "$ctx/Dockerfile"
kiln build -q --pull=never -t frompinned:1 "$ctx" >/dev/null
kiln history frompinned:1 >/dev/null
assert_eq "$(kiln inspect frompinned:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["rootfs"]["diff_ids"][0])')" \
          "$(kiln inspect busybox:test | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["rootfs"]["diff_ids"][0])')"
printf 'FROM base\nRUN true\n' > "$ctx/Dockerfile"
kiln build -q --pull=never --build-context "base=docker-image://liar@$busybox" "$ctx" >/dev/null
# An archive that names its image with a digest the image is not: in index.json (what kiln and containerd read
# first) and, without index.json, in a legacy docker save's RepoTags.
kiln save -o "$WORK/evil.tar" evil:1
forge() {  # forge OUT NAME KEEP_INDEX
  python3 - "$WORK/evil.tar" "$@" <<'PY'
import io, json, sys, tarfile
src, dst, name, keep_index = sys.argv[1:5]
with tarfile.open(src) as t, tarfile.open(dst, "w") as out:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name == "index.json":
            if keep_index != "yes":
                continue
            j = json.loads(data)
            j["manifests"][0]["annotations"]["io.containerd.image.name"] = name
            data = json.dumps(j).encode()
        if m.name == "manifest.json":
            j = json.loads(data); j[0]["RepoTags"] = [name]; data = json.dumps(j).encode()
        if data is not None:
            m.size = len(data)
        out.addfile(m, io.BytesIO(data) if data is not None else None)
PY
}
for keep_index in yes no; do
  forge "$WORK/forged.tar" "registry.example/lib/alpine@$busybox" "$keep_index"
  err=$(must_fail kiln load -i "$WORK/forged.tar")
  assert_contains "$err" "registry.example/lib/alpine@$busybox: the name pins digest $busybox, but the image is sha256:"
  assert_not_contains "$(kiln images)" "registry.example"
done
# The pinned name still means its digest: the content of that digest (busybox's, held here), never evil's.
printf 'FROM registry.example/lib/alpine@%s\nRUN test ! -e /evil\n' "$busybox" > "$ctx/Dockerfile"
kiln build -q --pull=never "$ctx" >/dev/null || fail "FROM a pinned name builds on that digest's content"
printf 'FROM registry.example/lib/other@sha256:%s\n' "$(printf '0%.0s' $(seq 64))" > "$ctx/Dockerfile"
err=$(must_fail kiln build --pull=never "$ctx")
assert_contains "$err" "not found in the local store"
err=$(must_fail kiln import "$(busybox_rootfs)" "imported@$busybox")
assert_contains "$err" "the name pins digest $busybox"
err=$(must_fail kiln build -t "app@$busybox" "$ctx")
assert_contains "$err" "a tag cannot name a digest"
assert_store_consistent "$KILN_ROOT"

# --- Credentials stay where they belong. ---
mkdir -p "$DOCKER_CONFIG" "$WORK/img-hello"
python3 "$LIAR" image "$WORK/img-hello" hello
serve_liar() {  # serve_liar NAME ARGS...: sets PORT
  local name=$1; shift
  rm -f "$WORK/$name.port"
  python3 "$LIAR" serve "$WORK/$name.port" "$WORK/$name.log" "$WORK/img-hello" "$@" &
  REGISTRY_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.05; done
  PORT=$(cat "$WORK/$name.port")
}
creds() {  # creds HOST:PORT: user:pw stored for it
  python3 -c 'import base64,json,sys; print(json.dumps({"auths": {sys.argv[1]: {"auth": base64.b64encode(b"user:pw").decode()}}}))' "$1" \
    > "$DOCKER_CONFIG/config.json"
}
for realm in "http://registry.invalid/token" "file:///etc/passwd" "ftp://127.0.0.1/token" "http://user@127.0.0.1:1/token"; do
  serve_liar realm --realm "$realm"
  creds "127.0.0.1:$PORT"
  err=$(must_fail kiln pull "127.0.0.1:$PORT/lib/app:1")
  assert_contains "$err" "registry 127.0.0.1:$PORT: its token realm"
  [ -z "$(grep -v '"authorization": null' "$WORK/realm.log")" ] || fail "credentials went out for realm $realm"
  kill "${REGISTRY_PIDS[-1]}"
  rm -f "$WORK/realm.log"
done
# Basic credentials with blobs redirected to another origin (another port): the storage gets none of them.
serve_liar redirect --basic user:pw --redirect-blobs
creds "127.0.0.1:$PORT"
kiln pull --progress quiet "127.0.0.1:$PORT/lib/app:1"
grep -q '"server": "storage"' "$WORK/redirect.log" || fail "the blobs were not fetched through the redirect"
assert_eq "$(grep '"server": "storage"' "$WORK/redirect.log" | grep -vc '"authorization": null')" "0" \
  "credentials followed a redirect to another origin"
kiln inspect "127.0.0.1:$PORT/lib/app:1" >/dev/null
# A password pasted into a reference is not repeated.
err=$(must_fail kiln pull 'user:Sup3rSecret@127.0.0.1:5000/x')
assert_not_contains "$err" "Sup3rSecret"
assert_contains "$err" "<redacted>@127.0.0.1:5000/x"
err=$(must_fail kiln tag busybox:test 'me:Sup3rSecret@host/x')
assert_not_contains "$err" "Sup3rSecret"

# --- Bad input is an error that names the flag. ---
err=$(must_fail kiln import --platform garbage "$(busybox_rootfs)" plat:1)
assert_contains "$err" '"garbage" is no operating system or architecture'
err=$(must_fail kiln save -o '' busybox:test)
assert_contains "$err" "-o: empty file name"
printf 'FROM busybox:test\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build -o '' "$ctx")
assert_contains "$err" "--output: empty"
err=$(must_fail kiln build --build-arg '' "$ctx")
assert_contains "$err" "--build-arg: empty"
long=$(python3 -c 'print("a" * 130000)')
err=$(must_fail kiln tag busybox:test "$long")
assert_contains "$err" "longer than 255 characters"
[ ${#err} -lt 1000 ] || fail "a 130 KB name is not echoed whole (${#err} bytes)"
kiln tag busybox:test "r.io/$(python3 -c 'print("b" * 250)')"  # 255 characters with the registry: allowed
touch "$WORK/not-a-dir"
err=$(must_fail kiln build --cache-from "type=local,src=$WORK/not-a-dir" "$ctx")
assert_contains "$err" "--cache-from type=local,src=$WORK/not-a-dir: not a directory"
out=$(kiln build --progress plain --cache-from "type=local,src=$WORK/nonexistent" "$ctx" 2>&1)
assert_contains "$out" "no cache there yet"
mkdir -p "$WORK/corrupt-cache"
echo '{"manifests": [' > "$WORK/corrupt-cache/index.json"
out=$(kiln build --progress plain --cache-from "type=local,src=$WORK/corrupt-cache" "$ctx" 2>&1)
assert_contains "$out" "$WORK/corrupt-cache/index.json: corrupt"

# --- Compression bombs. Small limits here, so that the test writes little before the refusal. ---
cat > "$KILN_ROOT/kiln.toml" <<'TOML'
[layers]
min_size = "64MB"
min_files = 1000
TOML
mkdir -p "$WORK/img-zeros" "$WORK/img-files"
python3 "$LIAR" image "$WORK/img-zeros" zeros $((512 << 20))  # 512 MiB of zeros in about half a megabyte
python3 "$LIAR" image "$WORK/img-files" files 50000
for kind in zeros files; do
  rm -f "$WORK/bomb.port"
  python3 "$LIAR" serve "$WORK/bomb.port" "$WORK/bomb.log" "$WORK/img-$kind" &
  REGISTRY_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/bomb.port" ] && break; sleep 0.05; done
  R=127.0.0.1:$(cat "$WORK/bomb.port")
  kiln pull --progress quiet "$R/lib/app:1"
  snapshots_before=$(ls "$KILN_ROOT/snapshots" | wc -l)
  err=$(must_fail kiln run "$R/lib/app:1" true)
  layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$WORK/img-$kind/manifest.json")
  assert_contains "$err" "unpack layer $layer: the layer unpacks to more than"
  assert_contains "$err" "kiln.toml [layers]"
  [ "$kind" = files ] && assert_contains "$err" "files from a blob of"
  assert_eq "$(ls "$KILN_ROOT/snapshots" | wc -l)" "$snapshots_before" "a refused layer leaves no snapshot"
  kill "${REGISTRY_PIDS[-1]}"
done
echo 'layers = 3' > "$KILN_ROOT/kiln.toml"
err=$(must_fail kiln images)
assert_contains "$err" "kiln.toml: layers must be a table"
rm "$KILN_ROOT/kiln.toml"
assert_store_consistent "$KILN_ROOT"
kiln build -q "$ctx" >/dev/null || fail "a build after all of the above"
echo PASS
