# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_mount_test.go (see lib.sh). Sourced by run.sh.

testMountContext() {
  printf '\nFROM busybox\nRUN --mount=target=/context [ "$(cat /context/testfile)" == "contents0" ]\n' | dockerfile
  printf contents0 | ctx_file testfile
  build_local
}

testMountTmpfs() {
  printf '\nFROM busybox\nRUN --mount=target=/mytmp,type=tmpfs touch /mytmp/foo\nRUN [ ! -f /mytmp/foo ]\n' | dockerfile
  build_local
}

testMountInvalid() {
  local err
  printf '\nFROM scratch\nRUN --mont=target=/mytmp,type=tmpfs /bin/true\n' | dockerfile
  err=$(build_error)
  assert_contains "$err" "unknown flag: --mont"
  assert_contains "$err" "did you mean mount?"
  printf '\n\tFROM scratch\n\tRUN --mount=typ=tmpfs /bin/true\n\t' | dockerfile
  err=$(build_error)
  assert_contains "$err" "unexpected key 'typ'"
  assert_contains "$err" "did you mean type?"
  printf '\n\tFROM scratch\n\tRUN --mount=type=tmp /bin/true\n\t' | dockerfile
  err=$(build_error)
  assert_contains "$err" 'unsupported mount type "tmp"'
  assert_contains "$err" "did you mean tmpfs?"
}

testCacheMountUser() {
  printf '\nFROM busybox\nRUN --mount=type=cache,target=/mycache,uid=1001,gid=1002,mode=0751 [ "$(stat -c "%%u %%g %%f" /mycache)" == "1001 1002 41e9" ]\n' | dockerfile
  build_local
}

testCacheMountDefaultID() {
  dockerfile <<'D'
FROM busybox
RUN --mount=type=cache,target=/mycache touch /mycache/foo
RUN --mount=type=cache,target=/mycache2 [ ! -f /mycache2/foo ]
RUN --mount=type=cache,target=/mycache [ -f /mycache/foo ]
D
  build_local
}

testMountEnvVar() {
  dockerfile <<'D'
FROM busybox
ENV SOME_PATH=/mycache
RUN --mount=type=cache,target=/mycache touch /mycache/foo
RUN --mount=type=cache,target=$SOME_PATH [ -f $SOME_PATH/foo ]
D
  build_local
}

testMountArg() {
  dockerfile <<'D'
FROM busybox
ARG MNT_TYPE=cache
RUN --mount=type=$MNT_TYPE,target=/mycache2 touch /mycache2/foo
RUN --mount=type=cache,target=/mycache2 [ -f /mycache2/foo ]
D
  build_local
}

testMountEnvAcrossStages() {
  dockerfile <<'D'
FROM busybox as stage1
ENV MNT_ID=mycache
ENV MNT_TYPE2=cache
RUN --mount=type=cache,id=mycache,target=/abcabc touch /abcabc/foo
RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/cbacba [ -f /cbacba/foo ]
FROM stage1
RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/whatever [ -f /whatever/foo ]
D
  build_local
}

testMountMetaArg() {
  dockerfile <<'D'
ARG META_PATH=/tmp/meta
FROM busybox
ARG META_PATH
RUN --mount=type=cache,id=mycache,target=/tmp/meta touch /tmp/meta/foo
RUN --mount=type=cache,id=mycache,target=$META_PATH [ -f /tmp/meta/foo ]
D
  build_local
}

testMountFromError() {
  dockerfile <<'D'
FROM busybox as test
RUN touch /tmp/test
FROM busybox
ENV ttt=test
RUN --mount=from=$ttt,type=cache,target=/tmp ls
D
  assert_contains "$(build_error)" "'from' doesn't support variable expansion, define alias stage instead"
}

testMountTmpfsSize() {
  dockerfile <<'D'
FROM busybox AS base
RUN --mount=type=tmpfs,target=/dev/shm,size=128m mount | grep /dev/shm > /tmpfssize
FROM scratch
COPY --from=base /tmpfssize /
D
  build_local
  out_contains tmpfssize "size=131072k"
}

testMountDuplicate() {
  dockerfile <<'D'
FROM busybox AS base
RUN --mount=source=.,target=/tmp/test \
  --mount=source=b.txt,target=/tmp/b.txt \
  cat /tmp/test/a.txt /tmp/b.txt > /combined.txt
FROM scratch
COPY --from=base /combined.txt /
D
  local text
  for text in $'foo\n' $'updated\n'; do
    printf '%s' "$text" > "$CTX/a.txt"
    printf 'bar\n' > "$CTX/b.txt"
    rm -rf "$OUT"
    build_local
    out_equal combined.txt "${text}bar"$'\n'
  done
}

testCacheMountParallel() {
  dockerfile <<'D'
FROM alpine AS b1
RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 1
FROM alpine AS b2
RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 2
FROM scratch
COPY --from=b1 /etc/passwd p1
COPY --from=b2 /etc/passwd p2
D
  local i
  for i in $(seq 20); do
    rm -rf "$OUT"
    build_local --no-cache
  done
}
