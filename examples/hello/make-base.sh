#!/usr/bin/env bash
# Writes a busybox root file system tarball (from Debian's busybox-static) to $1: the example's base image,
# so nothing comes from the internet. Users: root, nobody, app (1000).
set -euo pipefail
out=${1:?usage: make-base.sh OUT.tar}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,root,home/app,proc,sys,dev,run}
cp /bin/busybox "$root/bin/busybox"
chroot "$root" /bin/busybox --install -s /bin
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\n' > "$root/etc/group"
chown 1000:1000 "$root/home/app"
tar --sort=name --numeric-owner --mtime=@0 -C "$root" -cf "$out" .
