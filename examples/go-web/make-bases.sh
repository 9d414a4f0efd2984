#!/usr/bin/env bash
# Makes the example's base images without Docker Hub, for linux/amd64 and linux/arm64, and pushes them to REGISTRY:
#   REGISTRY/kiln-examples/debian:bookworm  a Debian root file system from Debian's repositories (debootstrap; the
#                                           foreign architecture's second stage runs under QEMU)
#   REGISTRY/kiln-examples/golang:1.19      Debian's golang-go on it, installed by a kiln build
# Usage (as root): make-bases.sh REGISTRY    Root file systems are kept in $KILN_EXAMPLE_CACHE between runs.
set -euo pipefail
REGISTRY=${1:?usage: make-bases.sh REGISTRY (as 127.0.0.1:5000)}
KILN=${KILN:-kiln}
CACHE=${KILN_EXAMPLE_CACHE:-/var/cache/kiln-examples}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
HERE=$(cd "$(dirname "$0")" && pwd)
DEBIAN=$REGISTRY/kiln-examples/debian:bookworm
GOLANG=$REGISTRY/kiln-examples/golang:1.19
mkdir -p "$CACHE"
"$KILN" setup-binfmt >/dev/null

for arch in amd64 arm64; do
  tar=$CACHE/debian-bookworm-$arch.tar
  if [ ! -s "$tar" ]; then
    echo "== debootstrap bookworm for $arch"
    dir=$(mktemp -d /tmp/kiln-debootstrap.XXXXXX)
    if [ "$arch" = "$(dpkg --print-architecture)" ]; then
      debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >/dev/null
    else
      debootstrap --variant=minbase --foreign --arch="$arch" bookworm "$dir" "$MIRROR" >/dev/null
      chroot "$dir" /debootstrap/debootstrap --second-stage >/dev/null
    fi
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar --numeric-owner -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$dir"
  fi
  "$KILN" import --platform "linux/$arch" "$tar" "$DEBIAN" >/dev/null
done
"$KILN" push --progress quiet "$DEBIAN"
echo "== $DEBIAN: linux/amd64 and linux/arm64"

echo "== building $GOLANG (golang-go from Debian; arm64 under QEMU)"
"$KILN" build --progress quiet --platform linux/amd64,linux/arm64 --build-arg BASE_IMAGE="$DEBIAN" \
  -t "$GOLANG" --push "$HERE/toolchain" >/dev/null
echo "== $GOLANG: linux/amd64 and linux/arm64"
