# BuildKit's own Dockerfile tests (frontend/dockerfile/*_test.go at v0.24.0), ported to shell against the kiln
# binary. Each Go test function is a shell function of the same name in the *_test.sh file named after its Go file;
# it keeps the Go test's Dockerfile, the context it creates and its assertions. manifest.tsv gives every function of
# functions.tsv a status: pass, skip: REASON (the internet, Windows, a BuildKit-only mechanism), or fail: ISSUE.
# run.sh runs a file's functions marked pass, each in a fresh context, and fails when one fails or when the
# manifest and the file disagree.
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# The images the Go tests pull from Docker Hub, made here (alpine is busybox with a release file). busybox: Debian's busybox-static
# with every applet, the official image's users and groups, and adduser/addgroup (which Debian's build leaves out)
# as small scripts.
bk_images() {
  [ -f "$WORK/busybox-image.tar" ] || bk_busybox_image
  # Made as Docker Hub's are, so that tests counting layers and history see the same: one ADD, then CMD.
  local name
  for name in busybox alpine; do
    printf 'FROM scratch\nADD %s-image.tar /\nCMD ["sh"]\n' "$name" |
      kiln build --progress quiet -f - -t "$name" "$WORK" > "$WORK/image.log" 2>&1 || { cat "$WORK/image.log"; return 1; }
  done
}

# The busybox image's file system, as a tarball ($WORK/busybox-image.tar).
bk_busybox_image() {
  local root=$WORK/busybox-image
  mkdir -p "$root"/{bin,etc,home,root,tmp,var/spool/mail,var/www,proc,sys,dev,usr/sbin}
  cp /bin/busybox "$root/bin/busybox"
  chroot "$root" /bin/busybox --install -s /bin
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
  printf '%s\n' root:x:0: daemon:x:1: bin:x:2: sys:x:3: adm:x:4: tty:x:5: disk:x:6: lp:x:7: mail:x:8: kmem:x:9: \
    wheel:x:10:root cdrom:x:11: dialout:x:18: floppy:x:19: video:x:28: audio:x:29: tape:x:32: www-data:x:33: \
    operator:x:37: utmp:x:43: plugdev:x:46: staff:x:50: lock:x:54: netdev:x:82: users:x:100: nobody:x:65534: \
    > "$root/etc/group"
  rm -f "$root/bin/adduser" "$root/bin/addgroup"
  cat > "$root/bin/addgroup" <<'S'
#!/bin/sh
# addgroup [-g GID] [-S] GROUP, or addgroup USER GROUP (busybox's, for the tests' busybox image)
gid=
while getopts g:S o; do case $o in g) gid=$OPTARG ;; S) ;; esac; done
shift $((OPTIND - 1))
if [ $# = 2 ]; then
  sed -i "s/^\($2:[^:]*:[^:]*:\)\(.*\)\$/\1\2,$1/; s/^\($2:[^:]*:[^:]*:\),/\1/" /etc/group
  exit 0
fi
grep -q "^$1:" /etc/group && { echo "addgroup: group '$1' in use" >&2; exit 1; }
if [ -z "$gid" ]; then gid=1000; while cut -d: -f3 /etc/group | grep -qx "$gid"; do gid=$((gid + 1)); done; fi
echo "$1:x:$gid:" >> /etc/group
S
  cat > "$root/bin/adduser" <<'S'
#!/bin/sh
# adduser [-D] [-S] [-H] [-h HOME] [-s SHELL] [-g GECOS] [-G GROUP] [-u UID] USER [GROUP] (busybox's, for the tests'
# busybox image)
uid= group= home= shell=/bin/sh gecos= nohome=
while getopts DSHh:s:g:G:u: o; do
  case $o in D|S) ;; H) nohome=1 ;; h) home=$OPTARG ;; s) shell=$OPTARG ;; g) gecos=$OPTARG ;; G) group=$OPTARG ;; u) uid=$OPTARG ;; esac
done
shift $((OPTIND - 1))
user=$1
[ -n "$user" ] || { echo "usage: adduser [OPTIONS] USER [GROUP]" >&2; exit 1; }
if [ $# = 2 ]; then exec addgroup "$1" "$2"; fi
grep -q "^$user:" /etc/passwd && { echo "adduser: user '$user' in use" >&2; exit 1; }
if [ -z "$uid" ]; then uid=1000; while cut -d: -f3 /etc/passwd | grep -qx "$uid"; do uid=$((uid + 1)); done; fi
if [ -z "$group" ]; then
  addgroup -g "$uid" "$user" 2>/dev/null || addgroup "$user"
  group=$user
fi
gid=$(grep "^$group:" /etc/group | cut -d: -f3)
[ -n "$gid" ] || { echo "adduser: unknown group $group" >&2; exit 1; }
home=${home:-/home/$user}
echo "$user:x:$uid:$gid:${gecos:-Linux User,,,}:$home:$shell" >> /etc/passwd
if [ -z "$nohome" ]; then mkdir -p "$home" && chown "$uid:$gid" "$home"; fi
S
  chmod 755 "$root/bin/adduser" "$root/bin/addgroup"
  tar --numeric-owner -C "$root" -cf "$WORK/busybox-image.tar" .
  # alpine: its shell and tools are busybox's too; what the tests use of it is this image and its release file.
  echo 3.22.0 > "$root/etc/alpine-release"
  tar --numeric-owner -C "$root" -cf "$WORK/alpine-image.tar" .
  rm -rf "$root"
}

# A fresh context directory ($CTX) and an output directory to export to ($OUT, not yet made).
bk_new_context() {
  CTX=$(mktemp -d "$WORK/ctx.XXXXXX")
  OUT=$WORK/out.$(basename "$CTX")
}

# ctx_file NAME [MODE]: a context file with stdin's content (fstest.CreateFile).
ctx_file() {
  mkdir -p "$(dirname "$CTX/$1")"
  cat > "$CTX/$1"
  [ -z "${2:-}" ] || chmod "$2" "$CTX/$1"
}
dockerfile() { ctx_file Dockerfile; }

# build_local ARGS...: the build exported to $OUT (client.ExporterLocal); kiln's own output on failure.
build_local() { kiln build --progress plain -o "type=local,dest=$OUT" "$@" "$CTX" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; return 1; }; }
# build ARGS...: a build whose output is not looked at.
build() { kiln build --progress plain "$@" "$CTX" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; return 1; }; }
# build_error ARGS...: a build that must fail; prints its output.
build_error() {
  if kiln build --progress plain "$@" "$CTX" > "$WORK/build.log" 2>&1; then fail "the build succeeded"; fi
  cat "$WORK/build.log"
}

# out_equal FILE TEXT: $OUT/FILE holds exactly TEXT (require.Equal on os.ReadFile).
out_equal() {
  [ -f "$OUT/$1" ] || fail "$1 is not in the output"
  assert_eq "$(cat "$OUT/$1"; printf x)" "${2}x" "$1"
}
out_contains() { [ -f "$OUT/$1" ] || fail "$1 is not in the output"; assert_contains "$(cat "$OUT/$1")" "$2" "$1"; }
out_missing() { [ ! -e "$OUT/$1" ] && [ ! -L "$OUT/$1" ] || fail "$1 should not be in the output"; }
# image_config TAG: the stored image's OCI config (JSON), as the Go tests read it from the image store.
image_config() { kiln inspect "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["config"]))'; }

# check_lint [BUILD FLAGS...]: BuildKit's checkLinterWarnings. The lint warnings of the build of $CTX are exactly
# those on stdin, one per line as "RuleName|Description|URL|Detail|Line": field by field in `kiln build --call check
# --format json` (its "unmarshal" check; LINT_UNMARSHAL, in the same form, when they differ there), and as
# "WARNING: RuleName: Detail (line N)" in the plain progress of a real build (its "progress" check). The flags (its
# FrontendAttrs) go to both. LINT_ERR is BuildErr: the build's error contains it and the check's buildError is it;
# LINT_STREAM_ERR (an ERE) is StreamBuildErrRegexp: the build's error matches it. Without either, both succeed.
check_lint() {
  cat > "$WORK/lint.expected"
  printf '%s' "${LINT_UNMARSHAL:-}" > "$WORK/lint.unmarshal"
  [ -n "${LINT_UNMARSHAL:-}" ] || cp "$WORK/lint.expected" "$WORK/lint.unmarshal"
  kiln build --call check --format json "$@" "$CTX" > "$WORK/lint.json" 2> "$WORK/lint.err" || true
  python3 - "$WORK/lint.unmarshal" "$WORK/lint.json" "${LINT_ERR:-}" "${LINT_UNMARSHAL:-}" <<'PY' || { cat "$WORK/lint.err"; fail "lint warnings differ"; }
import json, sys
expected = []
for line in open(sys.argv[1]).read().splitlines():
    if not line: continue
    rule, desc, url, detail, ln = line.split("|")
    expected.append({"ruleName": rule, "description": desc, "url": url, "detail": detail, "line": int(ln)})
result = json.load(open(sys.argv[2]))
got = [{"ruleName": w["ruleName"], "description": w["description"], "url": w["url"], "detail": w["detail"],
        "line": w["location"]["line"]} for w in result.get("warnings", [])]
key = lambda w: (w["line"], w["detail"])
expected.sort(key=key); got.sort(key=key)
if sys.argv[4]:  # given apart, as BuildKit's UnmarshalWarnings, whose lines its checkLintWarning does not compare
    for w in expected + got: del w["line"]
if expected != got:
    print("expected:", json.dumps(expected, indent=1)); print("got:", json.dumps(got, indent=1)); sys.exit(1)
error = result.get("buildError")
if sys.argv[3]:
    assert error and error["message"] == sys.argv[3], ("buildError", error, sys.argv[3])
    assert error["location"]["line"] > 0, error
else:
    assert error is None, ("unexpected buildError", error)
PY
  local status=0
  kiln build --progress plain "$@" "$CTX" > "$WORK/build.log" 2>&1 || status=$?
  if [ -n "${LINT_ERR:-}${LINT_STREAM_ERR:-}" ]; then
    [ "$status" != 0 ] || fail "the build succeeded"
    local error
    error=$(grep '^ERROR: ' "$WORK/build.log" | tail -1)
    [ -z "${LINT_ERR:-}" ] || assert_contains "$error" "$LINT_ERR"
    [ -z "${LINT_STREAM_ERR:-}" ] || grep -qE -- "$LINT_STREAM_ERR" <<<"$error" || fail "the error [$error] does not match [$LINT_STREAM_ERR]"
  else
    [ "$status" = 0 ] || { cat "$WORK/build.log"; fail "the build failed"; }
  fi
  local want got
  want=$(awk -F'|' 'NF { printf "WARNING: %s: %s (line %s)\n", $1, $4, $5 }' "$WORK/lint.expected" | sort)
  got=$(grep '^WARNING: ' "$WORK/build.log" | sort || true)
  [ "$want" = "$got" ] || fail "progress warnings differ:"$'\n'"want: $want"$'\n'"got:  $got"
}

# echo_server TEXT: a TCP server on 127.0.0.1 that sends TEXT to every client (BuildKit's echoserver); sets
# ECHO_PORT. Stopped when the test ends.
echo_server() {
  ECHO_PORT=$(free_port)
  python3 - "$ECHO_PORT" "$1" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[2].encode()); c.close()
PY
  REGISTRY_PIDS+=($!)  # stopped with the registries
  local i
  for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$ECHO_PORT") 2>/dev/null && return; sleep 0.1; done
  fail "the echo server did not start"
}

# http_files DIR: a plain HTTP server on 127.0.0.1 serving DIR (BuildKit's httpserver); sets HTTP_URL. Stopped
# when the test ends.
http_files() {
  local port
  port=$(free_port)
  python3 -m http.server --bind 127.0.0.1 --directory "$1" "$port" >/dev/null 2>&1 &
  REGISTRY_PIDS+=($!)
  HTTP_URL=http://127.0.0.1:$port
  local i
  for i in $(seq 50); do curl -s -o /dev/null "$HTTP_URL/" && return; sleep 0.1; done
  fail "the HTTP server did not start"
}

# git_repo DIR TAG...: a git repository in DIR with one commit per TAG (foo holding "foo of TAG"), made ready
# for dumb HTTP (update-server-info), as the Go tests' runShell makes it.
git_repo() {
  local dir=$1 tag
  shift
  mkdir -p "$dir"
  git -C "$dir" init -q
  git -C "$dir" config --local user.email test
  git -C "$dir" config --local user.name test
  for tag in "$@"; do
    echo "foo of $tag" > "$dir/foo"
    git -C "$dir" add foo
    git -C "$dir" commit -qm "$tag"
    git -C "$dir" tag "$tag"
  done
  git -C "$dir" update-server-info
}

# tar_one TAR NAME CONTENT: a tarball of one regular file (mode 0644), as the Go tests write them with tar.Writer.
tar_one() {
  python3 - "$1" "$2" "$3" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = sys.argv[3].encode(); i = tarfile.TarInfo(sys.argv[2]); i.size = len(data); i.mode = 0o644
    t.addfile(i, io.BytesIO(data))
PY
}

# oci_dir TAR DIR: an OCI tar unpacked into DIR.
oci_dir() { mkdir -p "$2" && tar -C "$2" -xf "$1"; }

# oci_layout_of TAR DIR: an OCI tar unpacked as a layout directory; prints the digest of its one manifest.
oci_layout_of() {
  oci_dir "$1" "$2"
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["manifests"]; assert len(m) == 1, m; print(m[0]["digest"])' "$2/index.json"
}

# read_pushed REF: an image (or index) in the registry, as JSON: its digest and, per platform, its layers as maps of
# file name to content (testutil.ReadImages).
read_pushed() {
  python3 - "$1" <<'PY'
import gzip, io, json, sys, tarfile, urllib.request
ref = sys.argv[1]
host, rest = ref.split("/", 1)
repo, tag = rest.rsplit(":", 1)
accept = ", ".join(["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"])
def get(what, ref):
    r = urllib.request.urlopen(urllib.request.Request(f"http://{host}/v2/{repo}/{what}/{ref}", headers={"Accept": accept}))
    return r.read(), r.headers.get("Docker-Content-Digest")
def layers(m):
    out = []
    for l in m["layers"]:
        data, _ = get("blobs", l["digest"])
        if data[:2] == b"\x1f\x8b": data = gzip.decompress(data)
        t = tarfile.open(fileobj=io.BytesIO(data))
        out.append({i.name: t.extractfile(i).read().decode(errors="replace") for i in t if i.isfile()})
    return out
raw, digest = get("manifests", tag)
top = json.loads(raw)
images = {}
if "manifests" in top:
    for d in top["manifests"]:
        p = d.get("platform") or {}
        if p.get("os") == "unknown": continue
        name = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
        images[name] = layers(json.loads(get("manifests", d["digest"])[0]))
else:
    images[""] = layers(top)
print(json.dumps({"digest": digest, "images": images}))
PY
}

# http_responses DIR: BuildKit's httpserver.TestServer on 127.0.0.1: serves DIR/PATH with DIR/PATH.etag as its
# ETag and DIR/PATH.modified (a Unix time) as its Last-Modified when those exist, answers GET and HEAD (304 to a
# matching If-None-Match), and logs "METHOD PATH USER-AGENT" per request to $WORK/http.log; sets HTTP_URL.
http_responses() {
  local port
  port=$(free_port)
  : > "$WORK/http.log"
  python3 - "$1" "$port" "$WORK/http.log" <<'PY' >/dev/null 2>&1 &
import email.utils, http.server, os, sys
root, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, body):
        with open(log, "a") as f: f.write(f"{self.command} {self.path} {self.headers.get('User-Agent', '')}\n")
        path = os.path.join(root, self.path.lstrip("/").split("?")[0] or "index")
        if not os.path.isfile(path): self.send_response(404); self.end_headers(); return
        etag = open(path + ".etag").read().strip() if os.path.exists(path + ".etag") else None
        if etag and self.headers.get("If-None-Match") == etag: self.send_response(304); self.end_headers(); return
        data = open(path, "rb").read()
        self.send_response(200)
        if etag: self.send_header("ETag", etag)
        if os.path.exists(path + ".modified"):
            self.send_header("Last-Modified", email.utils.formatdate(int(open(path + ".modified").read()), usegmt=True))
        self.send_header("Content-Length", str(len(data))); self.end_headers()
        if body: self.wfile.write(data)
    def do_GET(self): self.answer(True)
    def do_HEAD(self): self.answer(False)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
  REGISTRY_PIDS+=($!)
  HTTP_URL=http://127.0.0.1:$port
  local i
  for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.1; done
  fail "the HTTP server did not start"
}

# bk_alpine_with_apk PACKAGE...: the alpine image again, with an `apk add` that installs the named packages from
# a repository inside the image (this host's binaries and the libraries they need), as Alpine's apk installs them
# from the network the Go tests have. Only the packages named can be added.
bk_alpine_with_apk() {
  local root=$WORK/apk-image pkg bin lib
  rm -rf "$root" && mkdir -p "$root/sbin"
  for pkg in "$@"; do
    bin=$(command -v "$pkg") || skip "$pkg is not installed (scripts/install-deps installs it)"
    mkdir -p "$root/usr/share/apk-offline/$pkg/usr/bin"
    cp "$bin" "$root/usr/share/apk-offline/$pkg/usr/bin/"
    for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
      mkdir -p "$root/usr/share/apk-offline/$pkg$(dirname "$lib")"
      cp -L "$lib" "$root/usr/share/apk-offline/$pkg$lib"
    done
  done
  cat > "$root/sbin/apk" <<'S'
#!/bin/sh
# apk add PACKAGE...: from /usr/share/apk-offline (the tests' stand-in for Alpine's repositories)
[ "$1" = add ] || { echo "apk: only add is offered here" >&2; exit 1; }
shift
for p in "$@"; do
  [ -d "/usr/share/apk-offline/$p" ] || { echo "ERROR: unable to select packages: $p (no such package)" >&2; exit 1; }
  cp -a "/usr/share/apk-offline/$p/." / && echo "OK: $p installed"
done
S
  chmod 755 "$root/sbin/apk"
  tar --numeric-owner -C "$root" -cf "$WORK/apk-layer.tar" .
  printf 'FROM alpine\nADD apk-layer.tar /\n' | kiln build --progress quiet -f - -t alpine "$WORK" > "$WORK/image.log" 2>&1 ||
    { cat "$WORK/image.log"; return 1; }
}

# bk_busybox_also PLATFORM...: busybox for other platforms too, in one index with this host's, as Docker Hub's
# busybox is (the same files: enough for the steps that only copy from it).
bk_busybox_also() {
  local platform
  for platform in "$@"; do
    kiln import --platform "$platform" "$WORK/busybox-image.tar" busybox > /dev/null
  done
}
