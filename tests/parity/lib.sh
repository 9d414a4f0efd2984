# What tests/parity compares, shared by record.sh (BuildKit's results, kept as golden files) and
# tests/integration/parity_test.sh (kiln's, against them): a root file system file by file, and an image config
# with its history after the base image's.

# The base image every case builds FROM (busybox:anchor), made exactly as ../shared/anchors/peers-up.sh makes the
# one BuildKit pulls from the peers' registry: Debian's busybox-static, users root, nobody and app (1000).
parity_base_rootfs() {  # OUT.tar [EXTRA /etc/group LINES]
  local root
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,etc,tmp,root,home/app,proc,sys,dev,run}
  cp /bin/busybox "$root/bin/busybox"
  chroot "$root" /bin/busybox --install -s /bin
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\n%s' "${2:-}" > "$root/etc/group"
  chown 1000:1000 "$root/home/app"
  tar --sort=name --numeric-owner --mtime=@0 -C "$root" -cf "$1" .
  rm -rf "$root"
}

parity_tree() {  # DIR: one line per entry (path, type, mode, owner, size, link target, content digest)
  # Written by a rootless kiln, DIR holds the user's ids on the host ($ROOTLESS_IDS: uid, subuid start, gid, subgid
  # start): they are turned back into the image's own (the user is 0, its subordinate range 1..).
  (cd "$1" && find . -printf '%p\t%y %m %U:%G %s %l\n' | parity_image_ids | LC_ALL=C sort | while read -r p y m o s l; do
    h=-; [ "$y" = f ] && h=$(md5sum < "$p" | cut -c1-12)
    [ "$y" = d ] && s=-
    [ "$p" = . ] && m=-  # the export directory itself
    echo "$p $y $m $o $s $l $h"
  done)
}

parity_image_ids() {  # "PATH<tab>TYPE MODE UID:GID ...": the tab becomes a space, the ids the image's
  awk -F'\t' -v ids="${ROOTLESS_IDS:-}" 'BEGIN { n = split(ids, m, ":") }
    function back(id, own, start) { return n < 4 ? id : id == own ? 0 : (id >= start ? id - start + 1 : id) }
    { split($2, f, " "); split(f[3], o, ":"); f[3] = back(o[1], m[1], m[2]) ":" back(o[2], m[3], m[4])
      line = $1; for (i = 1; i <= length(f); i++) line = line " " f[i]; print line }'
}

parity_config() {  # an image config JSON on stdin: Config, and the history after the base image's [SERVER_URL]
  python3 -c 'import json,sys
c=json.load(sys.stdin)
server=sys.argv[1] if len(sys.argv) > 1 else ""
def norm(by):
  # BuildKit v0.24 writes EXPOSE as a Go pointer (&{[...] 0xc0...}), different on every build: the ports are
  # compared through the config instead.
  if by and server: by=by.replace(server, "$SERVER")  # its port differs from run to run
  return "EXPOSE" if by and by.startswith("EXPOSE ") else by
hist=[(norm(h.get("created_by")),h.get("empty_layer",False)) for h in c["history"]][1:]
cfg={k:v for k,v in c["config"].items() if k!="OnBuild" or v}
print(json.dumps({"config":cfg,"history":hist,"layers":len(c["rootfs"]["diff_ids"])-1},indent=1,sort_keys=True))' "$@"
}

parity_prepare() {  # CASE_DIR: what git does not keep: empty directories ("# parity-empty-dirs: DIR ...") and
  # modes other than 644/755 ("# parity-chmod: MODE PATH ...")
  local d mode path
  for d in $(sed -n 's/^# parity-empty-dirs: *//p' "$1/Dockerfile"); do mkdir -p "$1/$d"; done
  set -- "$1" $(sed -n 's/^# parity-chmod: *//p' "$1/Dockerfile")
  local dir=$1
  shift
  while [ $# -ge 2 ]; do
    chmod "$1" "$dir/$2"
    shift 2
  done
}

parity_bases() {  # CASE_DIR: images a case builds FROM that are built first, "# parity-base: NAME=DIR ..."
  sed -n 's/^# parity-base: *//p' "$1/Dockerfile"
}

parity_args() {  # CASE_DIR: the build flags a case needs (--target, --build-arg), "# parity-args: ..."
  sed -n 's/^# parity-args: *//p' "$1/Dockerfile"
}

# A case that fetches from a server says "# parity-serve: DIR": parity_serve CASE_DIR serves the case's DIR over
# HTTP on 127.0.0.1, after making each DIR/NAME.repo directory a git repository DIR/NAME.git (one commit, at a
# fixed date, served by git's "dumb" HTTP protocol), and sets PARITY_SERVER to its URL, which the build gets as the
# build argument SERVER. parity_stop_serving ends it.
PARITY_SERVER= PARITY_SERVER_PID=
parity_serve() {  # CASE_DIR
  local dir repo work port
  dir=$(sed -n 's/^# parity-serve: *//p' "$1/Dockerfile")
  PARITY_SERVER= PARITY_SERVER_PID=
  [ -n "$dir" ] || return 0
  for repo in "$1/$dir"/*.repo; do
    [ -d "$repo" ] || continue
    work=$(mktemp -d)
    cp -a "$repo/." "$work"
    (cd "$work" && git init -q -b main && git add -A &&
      GIT_AUTHOR_DATE=2001-09-09T01:46:40Z GIT_COMMITTER_DATE=2001-09-09T01:46:40Z \
      git -c user.name=parity -c user.email=parity@localhost commit -q -m parity)
    rm -rf "${repo%.repo}.git"
    git clone -q --bare "$work" "${repo%.repo}.git"
    git -C "${repo%.repo}.git" update-server-info
    rm -rf "$work"
  done
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -m http.server --bind 127.0.0.1 --directory "$1/$dir" "$port" >/dev/null 2>&1 &
  PARITY_SERVER_PID=$!
  PARITY_SERVER=http://127.0.0.1:$port
  for _ in $(seq 50); do python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1])' "$PARITY_SERVER/" 2>/dev/null && return 0; sleep 0.1; done
  echo "parity_serve: the server on port $port did not start" >&2
  return 1
}
parity_stop_serving() {
  [ -z "$PARITY_SERVER_PID" ] || { kill "$PARITY_SERVER_PID" 2>/dev/null; wait "$PARITY_SERVER_PID" 2>/dev/null; } || true
  PARITY_SERVER_PID=
}
