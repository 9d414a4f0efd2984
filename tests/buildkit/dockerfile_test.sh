# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_test.go (see lib.sh). Sourced by run.sh.

testEmptyStringArgInEnv() {
  dockerfile <<'D'
FROM busybox AS build
ARG FOO
ARG BAR=
RUN env > env.txt

FROM scratch
COPY --from=build env.txt .
D
  build_local
  out_contains env.txt "BAR="
  assert_not_contains "$(cat "$OUT/env.txt")" "FOO="
}

testDefaultEnvWithArgs() {
  dockerfile <<'D'
ARG image=idlebox
FROM busy${image#idle} AS build
ARG my_arg
ENV my_arg "my_arg=${my_arg:-def_val}"
ENV my_trimmed_arg "${my_arg%%e*}"
COPY myscript.sh myscript.sh
RUN ./myscript.sh $my_arg $my_trimmed_arg
FROM scratch
COPY --from=build /out /out
D
  printf '\n#!/usr/bin/env sh\necho -n $my_arg $* > /out\n' | ctx_file myscript.sh 0700
  build_local
  out_equal out "my_arg=def_val my_arg=def_val my_arg=d"
  rm -rf "$OUT"
  build_local --build-arg my_arg=
  out_equal out "my_arg=def_val my_arg=def_val my_arg=d"
  rm -rf "$OUT"
  build_local --build-arg my_arg=override
  out_equal out "my_arg=override my_arg=override my_arg=ov"
}

testEnvEmptyFormatting() {
  dockerfile <<'D'
FROM busybox AS build
ENV myenv foo%sbar
RUN [ "$myenv" = 'foo%sbar' ]
D
  build_local
}

testDockerignoreOverride() {
  dockerfile <<'D'
FROM busybox
COPY . .
RUN [ -f foo ] && [ ! -f bar ]
D
  printf '\nbar\n' | ctx_file Dockerfile.dockerignore
  printf '\nFROM busybox\nCOPY . .\nRUN [ ! -f foo ] && [ -f bar ]\n' | ctx_file Dockerfile2
  printf '\nfoo\n' | ctx_file Dockerfile2.dockerignore
  printf contents0 | ctx_file foo
  printf contents0 | ctx_file bar
  build_local
  rm -rf "$OUT"
  build_local -f "$CTX/Dockerfile2"
}

testEmptyDestDir() {
  dockerfile <<'D'
FROM busybox
ENV empty=""
COPY testfile $empty
RUN [ "$(cat testfile)" == "contents0" ]
D
  printf contents0 | ctx_file testfile
  build_local
}

testPreserveDestDirSlash() {
  dockerfile <<'D'
FROM busybox
COPY testfile /sample/
RUN [ "$(cat /sample/testfile)" == "contents0" ]
D
  printf contents0 | ctx_file testfile
  build_local
}

testCopyLinkDotDestDir() {
  dockerfile <<'D'
FROM busybox
WORKDIR /var/www
COPY --link testfile .
RUN [ "$(cat testfile)" == "contents0" ]
D
  printf contents0 | ctx_file testfile
  build_local
}

testWorkdirCreatesDir() {
  dockerfile <<'D'
FROM scratch
WORKDIR /foo
WORKDIR /
D
  build_local
  [ -d "$OUT/foo" ] && [ ! -L "$OUT/foo" ] || fail "foo is not a directory"
}

testCacheReleased() {
  printf '\nFROM busybox\n' | dockerfile
  build_local
  # checkAllReleasable: nothing of the build is left in use; here, no mount or container of it remains.
  [ -z "$(grep " $KILN_ROOT" /proc/mounts)" ] || fail "mounts left behind"
  [ -z "$(ls -A "$KILN_ROOT/run/bundles" 2>/dev/null)" ] || fail "bundles left behind"
}

testSymlinkedDockerfile() {
  printf '\nFROM scratch\nENV foo bar\n' | ctx_file Dockerfile.web
  ln -s Dockerfile.web "$CTX/Dockerfile"
  build_local
}

testCopyLinkEmptyDestDir() {
  dockerfile <<'D'
FROM busybox
WORKDIR /var/www
ENV empty=""
COPY --link testfile $empty
RUN [ "$(cat testfile)" == "contents0" ]
D
  printf contents0 | ctx_file testfile
  build_local
}

testCopyChownExistingDir() {
  ctx_file Dockerfile.web <<'D'
# Set up files and directories with known ownership
FROM busybox AS source
RUN touch /file && chown 100:200 /file \
 && mkdir -p /dir/subdir \
 && touch /dir/subdir/nestedfile \
 && chown 100:200 /dir \
 && chown 101:201 /dir/subdir \
 && chown 102:202 /dir/subdir/nestedfile

FROM busybox AS test_base
RUN mkdir -p /existingdir/existingsubdir \
 && touch /existingdir/existingfile \
 && chown 500:600 /existingdir \
 && chown 501:601 /existingdir/existingsubdir \
 && chown 501:601 /existingdir/existingfile

# Copy files from the source stage
FROM test_base AS copy_from
COPY --from=source /file .
# Copy to a non-existing target directory creates the target directory (as root), then copies the _contents_ of the source directory into it
COPY --from=source /dir /dir
# Copying to an existing target directory will copy the _contents_ of the source directory into it
COPY --from=source /dir/. /existingdir

RUN e="100:200"; p="/file"                         ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="0:0";     p="/dir"                          ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="101:201"; p="/dir/subdir"                   ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="102:202"; p="/dir/subdir/nestedfile"        ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
# Existing files and directories ownership should not be modified
 && e="500:600"; p="/existingdir"                  ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="501:601"; p="/existingdir/existingsubdir"   ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="501:601"; p="/existingdir/existingfile"     ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
# But new files and directories should maintain their ownership
 && e="101:201"; p="/existingdir/subdir"           ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="102:202"; p="/existingdir/subdir/nestedfile"; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi

# Copy files from the source stage and chown them.
FROM test_base AS copy_from_chowned
COPY --from=source --chown=300:400 /file .
# Copy to a non-existing target directory creates the target directory (as root), then copies the _contents_ of the source directory into it
COPY --from=source --chown=300:400 /dir /dir
# Copying to an existing target directory copies the _contents_ of the source directory into it
COPY --from=source --chown=300:400 /dir/. /existingdir

RUN e="300:400"; p="/file"                         ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="300:400"; p="/dir"                          ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="300:400"; p="/dir/subdir"                   ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="300:400"; p="/dir/subdir/nestedfile"        ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
# Existing files and directories ownership should not be modified
 && e="500:600"; p="/existingdir"                  ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="501:601"; p="/existingdir/existingsubdir"   ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="501:601"; p="/existingdir/existingfile"     ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
# But new files and directories should be chowned
 && e="300:400"; p="/existingdir/subdir"           ; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi \
 && e="300:400"; p="/existingdir/subdir/nestedfile"; a=`stat -c "%u:%g" "$p"`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi
D
  ln -s Dockerfile.web "$CTX/Dockerfile"
  build_local --target copy_from
  rm -rf "$OUT"
  build_local --target copy_from_chowned
}

testCopyWildcardCache() {
  dockerfile <<'D'
FROM busybox AS base
COPY foo* files/
RUN cat /dev/urandom | head -c 100 | sha256sum > unique
COPY bar files/
FROM scratch
COPY --from=base unique /
D
  printf foo1-data | ctx_file foo1
  printf foo2-data | ctx_file foo2
  printf bar-data | ctx_file bar
  build_local
  local first
  first=$(cat "$OUT/unique")
  printf bar-data-mod > "$CTX/bar"
  rm -rf "$OUT"
  build_local
  assert_eq "$(cat "$OUT/unique")" "$first" "a change to bar leaves the RUN before it cached"
  printf foo2-data-mod > "$CTX/foo2"
  rm -rf "$OUT"
  build_local
  [ "$(cat "$OUT/unique")" != "$first" ] || fail "a change to foo2 runs the RUN again"
}

testEmptyWildcard() {
  printf '\nFROM scratch\nCOPY foo nomatch* /\n' | dockerfile
  printf contents0 | ctx_file foo
  build_local
  out_equal foo contents0
}

testWorkdirUser() {
  dockerfile <<'D'
FROM busybox
RUN adduser -D user
USER user
WORKDIR /mydir
RUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]
D
  build_local
}

testOutOfOrderStage() {
  local src
  for src in / /d2; do
    printf '\nFROM busybox AS target\nCOPY --from=build %s /out\nFROM alpine AS build\nCOPY /Dockerfile /d2\nFROM target\n' "$src" | dockerfile
    local err
    err=$(build_error)
    assert_contains "$err" "cannot copy from stage"
    assert_contains "$err" "needs to be defined before current stage"
  done
}

testWorkdirCopyIgnoreRelative() {
  dockerfile <<'D'
FROM scratch AS base
WORKDIR /foo
COPY Dockerfile / 
FROM scratch
# relative path still loaded as absolute
COPY --from=base Dockerfile .
D
  build_local
}

testWorkdirExists() {
  dockerfile <<'D'
FROM busybox
RUN adduser -D user
RUN mkdir /mydir && chown user:user /mydir
WORKDIR /mydir
RUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]
D
  build_local
}

testCopyChownCreateDest() {
  dockerfile <<'D'
FROM busybox
ARG group
ENV owner user01
RUN adduser -D user
RUN adduser -D user01
COPY --chown=user:user . /dest
COPY --chown=${owner}:${group} . /dest01
RUN [ "$(stat -c "%U %G" /dest)" == "user user" ]
RUN [ "$(stat -c "%U %G" /dest01)" == "user01 user" ]
D
  build_local --build-arg group=user
}

testTargetStageNameArg() {
  local df=$'\nFROM alpine AS base\nWORKDIR /out\nRUN echo -n "value:$TARGETSTAGE" > /out/first\nARG TARGETSTAGE\nRUN echo -n "value:$TARGETSTAGE" > /out/second\nFROM scratch AS foo\nCOPY --from=base /out/ /\nFROM scratch\nCOPY --from=base /out/ /\n'
  printf '%s' "$df" | dockerfile
  build_local --target foo
  out_equal first "value:"
  out_equal second "value:foo"
  rm -rf "$OUT"
  build_local
  out_equal first "value:"
  out_equal second "value:default"
  # A stage name defined in the Dockerfile but not passed in the request.
  printf '%s\nFROM scratch AS final\nCOPY --from=base /out/ /\n' "$df" | dockerfile
  rm -rf "$OUT"
  build_local
  out_equal first "value:"
  out_equal second "value:final"
}

testExposeExpansion() {
  dockerfile <<'D'
FROM scratch
ARG PORTS="3000 4000/udp"
EXPOSE $PORTS
EXPOSE 5000
D
  build -t example.com/moby/dockerfileexpansion:test
  # The Go test reads the image from containerd; kiln's store has it.
  assert_eq "$(image_config example.com/moby/dockerfileexpansion:test | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["config"]["ExposedPorts"])))')" \
    "3000/tcp 4000/udp 5000/tcp"
}

testCopySocket() {
  printf '\nFROM scratch\nCOPY . /\n' | dockerfile
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$CTX/socket.sock"
  chmod 600 "$CTX/socket.sock"
  build_local
  [ -f "$OUT/socket.sock" ] && [ ! -S "$OUT/socket.sock" ] || fail "the socket is not made a regular file"
}

testIgnoreEntrypoint() {
  printf '\nFROM busybox\nENTRYPOINT ["/nosuchcmd"]\nRUN ["ls"]\n' | dockerfile
  build_local
}

testQuotedMetaArgs() {
  dockerfile <<'D'
ARG a1="box"
ARG a2="$a1-foo"
FROM busy$a1 AS build
ARG a2
ARG a3="bar-$a2"
RUN echo -n $a3 > /out
FROM scratch
COPY --from=build /out .
D
  build_local
  out_equal out "bar-box-foo"
}

testGlobalArgErrors() {
  printf '\nARG FOO=${FOO:?"custom error"}\nFROM busybox\n' | dockerfile
  assert_contains "$(build_error)" "FOO: custom error"
  build --build-arg FOO=bar
}

testArgDefaultExpansion() {
  printf '\nFROM scratch\nARG FOO\nARG BAR=${FOO:?"foo missing"}\n' | dockerfile
  assert_contains "$(build_error)" "FOO: foo missing"
  build --build-arg FOO=123
  build --build-arg BAR=123
}

testMultiArgs() {
  dockerfile <<'D'
ARG a1="foo bar" a2=box
ARG a3="$a2-foo"
FROM busy$a2 AS build
ARG a3 a4="123 456" a1
RUN echo -n "$a1:$a3:$a4" > /out
FROM scratch
COPY --from=build /out .
D
  build_local
  out_equal out "foo bar:box-foo:123 456"
}

testDockerfileScratchConfig() {
  printf '\nFROM scratch\nENV foo=bar\n' | dockerfile
  build -t example.com/moby/dockerfilescratch:test
  image_config example.com/moby/dockerfilescratch:test | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["os"] and c["architecture"], c
assert c["config"].get("WorkingDir"), "no WorkingDir"
assert c["rootfs"]["type"] == "layers" and not c["rootfs"]["diff_ids"], c["rootfs"]
assert len(c["history"]) == 1 and "ENV foo=bar" in c["history"][0]["created_by"] and c["history"][0]["empty_layer"], c["history"]
assert "foo=bar" in c["config"]["Env"] and any(e.startswith("PATH=") for e in c["config"]["Env"]), c["config"]
'
}

testOnBuildCleared() {
  start_registry
  printf '\nFROM busybox\nONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo\n' | dockerfile
  local target=$REGISTRY/buildkit/testonbuild:base target2=$REGISTRY/buildkit/testonbuild:child
  build -o "type=image,name=$target,push=true"
  printf '\n\tFROM %s \n\t' "$target" | dockerfile
  build -o "type=image,name=$target2,push=true"
  printf '\n\tFROM %s AS base\n\tFROM %s\n\tCOPY --from=base /out /\n\t' "$target2" scratch | dockerfile
  build_local
  out_equal foo "11"
}

testOnBuildWithChildStage() {
  start_registry
  printf '\nFROM busybox\nONBUILD RUN mkdir -p /out && echo -n yes >> /out/didrun\n' | dockerfile
  local target=$REGISTRY/buildkit/testonbuildstage:base
  build -o "type=image,name=$target,push=true"
  printf '\nFROM %s AS base\nRUN [ -f /out/didrun ] && touch /step1\nRUN rm /out/didrun\nRUN [ ! -f /out/didrun ] && touch /step2\n\nFROM base AS child\nRUN [ ! -f /out/didrun ] && touch /step3\n\nFROM scratch\nCOPY --from=child /step* /\n\t' "$target" | dockerfile
  build_local
  [ -e "$OUT/step1" ] && [ -e "$OUT/step2" ] && [ -e "$OUT/step3" ] || fail "steps missing: $(ls "$OUT")"
}

testOnBuildInheritedStageRun() {
  dockerfile <<'D'
FROM busybox AS base
ONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo

FROM base AS mid
RUN cp /out/foo /out/bar

FROM scratch
COPY --from=mid /out/bar /
D
  build_local
  out_equal bar "11"
}

testOnBuildInheritedStageWithFrom() {
  dockerfile <<'D'
FROM alpine AS src
RUN mkdir -p /in && echo -n 12 > /in/file

FROM busybox AS base
ONBUILD COPY --from=src /in/file /out/foo

FROM base AS mid
RUN cp /out/foo /out/bar

FROM scratch
COPY --from=mid /out/bar /
D
  build_local
  out_equal bar "12"
}

testOnBuildNamedContext() {
  # The base, built to an OCI layout, then given as the named context "base".
  printf '\n\tFROM busybox:latest\n\tONBUILD COPY --from=otherstage /testfile /out/foo\n\t' | dockerfile
  local ocidir=$WORK/oci-$$
  build -o "type=oci,tar=false,dest=$ocidir"
  local digest
  digest=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["manifests"]; assert len(m) == 1; print(m[0]["digest"])' "$ocidir/index.json")
  dockerfile <<'D'
	FROM alpine AS otherstage
	RUN echo -n "hello" > /testfile
	
	FROM base AS inputstage
	
	FROM scratch
	COPY --from=inputstage /out/foo /bar
D
  build_local --build-context "base=oci-layout://$ocidir@$digest"
  out_equal bar "hello"
}

testOnBuildNewDeps() {
  start_registry
  printf '\nFROM busybox\nONBUILD COPY --from=alpine /etc/alpine-release /out/alpine-release2\n' | dockerfile
  local target=$REGISTRY/buildkit/testonbuilddeps:base target2=$REGISTRY/buildkit/testonbuilddeps:base2
  build -o "type=image,name=$target,push=true"
  printf '\n\tFROM %s AS base\n\tRUN cat /out/alpine-release2 > /out/alpine-release3\n\tFROM scratch\n\tCOPY --from=base /out /\n\t' "$target" | dockerfile
  build_local
  [ "$(wc -c < "$OUT/alpine-release3")" -gt 5 ] || fail "alpine-release3 is too short"
  printf '\nFROM alpine\nONBUILD RUN --mount=type=bind,target=/in,from=inputstage mkdir /out && cat /in/foo > /out/bar && cat /in/out/alpine-release2 > /out/bar2\n' | dockerfile
  build -o "type=image,name=$target2,push=true"
  printf '\n\tFROM %s AS inputstage\n\tRUN cat /out/alpine-release2 > /out/alpine-release4\n\tRUN echo -n foo > /foo\n\tFROM %s AS base\n\tRUN echo -n bar3 > /out/bar3\n\tFROM scratch\n\tCOPY --from=base /out /\n\t' "$target" "$target2" | dockerfile
  rm -rf "$OUT"
  build_local
  out_equal bar "foo"
  [ "$(wc -c < "$OUT/bar2")" -gt 5 ] || fail "bar2 is too short"
  out_equal bar3 "bar3"
}

testOnBuildWithCacheMount() {
  start_registry
  printf '\nFROM busybox\nONBUILD RUN --mount=type=cache,target=/cache echo -n 42 >> /cache/foo && echo -n 11 >> /bar\n' | dockerfile
  local target=$REGISTRY/buildkit/testonbuild:base
  build -o "type=image,name=$target,push=true"
  printf 'FROM %s\nRUN --mount=type=cache,target=/cache [ "$(cat /cache/foo)" = "42" ] && [ "$(cat /bar)" = "11" ]\n\t' "$target" | dockerfile
  build_local
}

testCopyThroughSymlinkContext() {
  printf '\nFROM scratch\nCOPY link/foo .\n' | dockerfile
  ln -s sub "$CTX/link"
  mkdir -m 700 "$CTX/sub"
  printf contents | ctx_file sub/foo
  build_local
  out_equal foo contents
}

testCopyThroughSymlinkMultiStage() {
  dockerfile <<'D'
FROM busybox AS build
RUN mkdir -p /out/sub && ln -s /out/sub /sub && ln -s out/sub /sub2 && echo -n "data" > /sub/foo
FROM scratch
COPY --from=build /sub/foo .
COPY --from=build /sub2/foo bar
D
  build_local
  out_equal foo data
}

testContextChangeDirToFile() {
  printf '\nFROM scratch\nCOPY foo /\n' | dockerfile
  mkdir -m 700 "$CTX/foo"
  printf contents | ctx_file foo/bar
  build
  # The same Dockerfile in a context where foo is now a file.
  rm -rf "$CTX/foo"
  printf contents2 | ctx_file foo
  build_local
  out_equal foo contents2
}

testCopyFollowAllSymlinks() {
  printf '\nFROM scratch\nCOPY foo /\nCOPY foo/sub bar\n' | dockerfile
  printf bar-contents | ctx_file bar
  mkdir -m 700 "$CTX/foo"
  ln -s ../bar "$CTX/foo/sub"
  build_local
}

testCopySymlinks() {
  printf '\nFROM scratch\nCOPY foo /\nCOPY sub/l* alllinks/\n' | dockerfile
  printf bar-contents | ctx_file bar
  ln -s bar "$CTX/foo"
  mkdir -m 700 "$CTX/sub"
  printf lfile-contents | ctx_file sub/lfile
  ln -s subfile "$CTX/sub/l0"
  printf subfile-contents | ctx_file sub/subfile
  ln -s second "$CTX/sub/l1"
  ln -s baz "$CTX/sub/second"
  printf baz-contents | ctx_file sub/baz
  build_local
  out_equal foo bar-contents
  out_equal alllinks/l0 subfile-contents
  out_equal alllinks/lfile lfile-contents
  out_equal alllinks/l1 baz-contents
}

testNoSnapshotLeak() {
  printf '\nFROM scratch\nCOPY foo /\n' | dockerfile
  printf contents | ctx_file foo
  build_local
  # c.DiskUsage: what the store holds, counted by kiln du's records and the snapshots on disk.
  local du1 snaps1
  du1=$(kiln du -v | wc -l)
  snaps1=$(ls "$KILN_ROOT/snapshots" | wc -l)
  rm -rf "$OUT"
  build_local
  assert_eq "$(kiln du -v | wc -l)" "$du1" "kiln du records"
  assert_eq "$(ls "$KILN_ROOT/snapshots" | wc -l)" "$snaps1" "snapshots"
}

testCmdShell() {
  printf '\nFROM scratch\nCMD ["test"]\n' | dockerfile
  build -t docker.io/moby/cmdoverridetest:latest
  printf '\nFROM %s\nSHELL ["ls"]\nENTRYPOINT my entrypoint\n' docker.io/moby/cmdoverridetest:latest | dockerfile
  build -t docker.io/moby/cmdoverridetest2:latest
  image_config docker.io/moby/cmdoverridetest2:latest | python3 -c '
import json, sys
c = json.load(sys.stdin)["config"]
assert c.get("Cmd") is None, c.get("Cmd")
assert c["Entrypoint"] == ["ls", "my entrypoint"], c["Entrypoint"]
'
}

testInvalidJSONCommands() {
  printf '\nFROM alpine\nRUN ["echo", "hello"]this is invalid\n' | dockerfile
  assert_contains "$(build_error)" "this is invalid"
  start_registry
  local target=$REGISTRY/buildkit/testexportdf:multi
  printf '\nFROM alpine\nENTRYPOINT []random string\n' | dockerfile
  build -o "type=image,name=$target,push=true"
  image_config "$target" | python3 -c '
import json, sys
c = json.load(sys.stdin)["config"]
assert c["Entrypoint"] == ["/bin/sh", "-c", "[]random string"], c["Entrypoint"]
'
}

testGlobalArg() {
  printf '\nARG tag=nosuchtag\nFROM busybox:${tag}\n' | dockerfile
  build_local --build-arg tag=latest
}

testDockerfileDirs() {
  dockerfile <<'D'
FROM busybox
COPY foo /foo2
COPY foo /
RUN echo -n bar > foo3
RUN test -f foo
RUN cmp -s foo foo2
RUN cmp -s foo foo3
D
  printf bar | ctx_file foo
  build
  # Relative paths.
  (cd "$CTX" && kiln build --progress plain . > "$WORK/build.log" 2>&1) || { cat "$WORK/build.log"; fail "a relative context"; }
  # Different context and Dockerfile directories.
  local dfdir=$WORK/dfdir-$$
  mkdir -p "$dfdir" && mv "$CTX/Dockerfile" "$dfdir/"
  (cd "$WORK" && kiln build --progress plain -f "$dfdir/Dockerfile" "$CTX" > "$WORK/build.log" 2>&1) ||
    { cat "$WORK/build.log"; fail "a Dockerfile outside the context"; }
}

testDockerfileInvalidCommand() {
  printf '\n\tFROM busybox\n\tRUN invalidcmd\n' | dockerfile
  local err
  err=$(build_error)
  assert_contains "$err" "/bin/sh -c invalidcmd"
  assert_contains "$err" "did not complete successfully"
}

testDockerfileInvalidInstruction() {
  printf '\nFROM scratch\nFNTRYPOINT ["/bin/sh", "-c", "echo invalidinstruction"]\n' | dockerfile
  local err
  err=$(build_error)
  assert_contains "$err" "unknown instruction: FNTRYPOINT"
  assert_contains "$err" "did you mean ENTRYPOINT?"
}

testDockerfileAddChownExpand() {
  dockerfile <<'D'
FROM busybox
ARG group
ENV owner 1000
ADD --chown=${owner}:${group} foo /
RUN [ "$(stat -c "%u %G" /foo)" == "1000 nobody" ]
D
  printf foo-contents | ctx_file foo
  build_local --build-arg group=nobody
}

testSymlinkDestination() {
  python3 - "$CTX/t.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("symlink"); i.type = tarfile.SYMTYPE; i.linkname = "../tmp/symlink-target"; i.mode = 0o755
    t.addfile(i)
PY
  printf '\nFROM scratch\nADD t.tar /\nCOPY foo /symlink/\n' | dockerfile
  printf content0 | ctx_file foo
  build_local
  out_equal tmp/symlink-target/foo content0
}

testDockerfileCopyFromArgs() {
  printf '\nFROM scratch\nCOPY --from=$FOO . .\n' | dockerfile
  assert_contains "$(build_error)" "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"
}

testDockerignore() {
  printf '\nFROM scratch\nCOPY . .\n' | dockerfile
  printf foo-contents | ctx_file foo
  printf bar-contents | ctx_file bar
  printf baz-contents | ctx_file baz
  printf bay-contents | ctx_file bay
  printf '\nba*\nDockerfile\n!bay\n.dockerignore\n' | ctx_file .dockerignore
  build_local
  out_equal foo foo-contents
  out_missing .dockerignore
  out_missing Dockerfile
  out_missing bar
  out_missing baz
  out_equal bay bay-contents
}

testDockerignoreInvalid() {
  printf '\nFROM scratch\nCOPY . .\n' | dockerfile
  printf '!\n' | ctx_file .dockerignore
  # An error (or a build), but never a hang: within 15 seconds.
  if timeout 15 kiln build --progress plain "$CTX" > "$WORK/build.log" 2>&1; then :; else [ $? != 124 ] || fail "timed out"; fi
}

testDockerfileLowercase() {
  printf '\nFROM scratch\n' | ctx_file dockerfile
  build
}

testExportedHistory() {
  # using multi-stage to test that history is scoped to one stage
  dockerfile <<'D'

FROM busybox AS base
ENV foo=bar
COPY foo /foo2
FROM busybox
LABEL lbl=val
COPY --from=base foo2 foo3
WORKDIR /
RUN echo bar > foo4
RUN ["ls"]

D
  printf contents0 | ctx_file foo
  build -t example.com/moby/dockerfilescratch:test
  image_config example.com/moby/dockerfilescratch:test | python3 -c '
import json, sys
c = json.load(sys.stdin)
h = c["history"]
assert c["rootfs"]["type"] == "layers"
assert len(c["rootfs"]["diff_ids"]) == 4, c["rootfs"]
assert len(h) == 7, h
for i, text, empty in [(2, "lbl=val", True), (3, "COPY foo2 foo3", False), (4, "WORKDIR /", True),
                       (5, "echo bar > foo4", False), (6, "RUN ls", False)]:
    assert text in h[i]["created_by"], (i, h[i])
    assert bool(h[i].get("empty_layer")) == empty, (i, h[i])
    assert h[i].get("created"), (i, h[i])
'
}

testUser() {
  dockerfile <<'D'

FROM busybox AS base
RUN mkdir -m 0777 /out
RUN id -un > /out/rootuser

# Make sure our defaults work
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)" = '0:0/root:root' ]

# TODO decide if "args.user = strconv.Itoa(syscall.Getuid())" is acceptable behavior for changeUser in sysvinit instead of "return nil" when "USER" isn't specified (so that we get the proper group list even if that is the empty list, even in the default case of not supplying an explicit USER to run as, which implies USER 0)
USER root
RUN [ "$(id -G):$(id -Gn)" = '0 10:root wheel' ]

# Setup dockerio user and group
RUN echo 'dockerio:x:1001:1001::/bin:/bin/false' >> /etc/passwd && \
	echo 'dockerio:x:1001:' >> /etc/group

# Make sure we can switch to our user and all the information is exactly as we expect it to be
USER dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]

# Switch back to root and double check that worked exactly as we might expect it to
USER root
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '0:0/root:root/0 10:root wheel' ] && \
        # Add a "supplementary" group for our dockerio user
	echo 'supplementary:x:1002:dockerio' >> /etc/group

# ... and then go verify that we get it like we expect
USER dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]
USER 1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]

# super test the new "user:group" syntax
USER dockerio:dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:supplementary
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER dockerio:1002
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:supplementary
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:1002
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]

# make sure unknown uid/gid still works properly
USER 1042:1043
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1042:1043/1042:1043/1043:1043' ]
USER daemon
RUN id -un > /out/daemonuser
FROM scratch
COPY --from=base /out /
USER nobody

D
  build_local
  out_equal rootuser $'root\n'
  out_equal daemonuser $'daemon\n'
  build -t example.com/moby/dockerfileuser:test
  assert_eq "$(image_config example.com/moby/dockerfileuser:test | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["User"])')" nobody
}

testUserAdditionalGids() {
  dockerfile <<'D'

# Mimics the tests in https://github.com/containerd/containerd/commit/3eda46af12b1deedab3d0802adb2e81cb3521950
FROM busybox
SHELL ["/bin/sh", "-euxc"]
RUN [ "$(id)" = "uid=0(root) gid=0(root) groups=0(root),10(wheel)" ]
USER 1234
RUN [ "$(id)" = "uid=1234 gid=0(root) groups=0(root)" ]
USER 1234:1234
RUN [ "$(id)" = "uid=1234 gid=1234 groups=1234" ]
USER daemon
RUN [ "$(id)" = "uid=1(daemon) gid=1(daemon) groups=1(daemon)" ]

D
  build_local
}

testCopyChown() {
  dockerfile <<'D'

FROM busybox AS base
ENV owner 1000
RUN mkdir -m 0777 /out
COPY --chown=daemon foo /
COPY --chown=1000:nobody bar /baz
ARG group
COPY --chown=${owner}:${group} foo /foobis
RUN stat -c "%U %G" /foo  > /out/fooowner
RUN stat -c "%u %G" /baz/sub  > /out/subowner
RUN stat -c "%u %G" /foobis  > /out/foobisowner
FROM scratch
COPY --from=base /out /

D
  printf foo-contents | ctx_file foo
  mkdir -m 700 "$CTX/bar"
  : | ctx_file bar/sub 0600
  build_local --build-arg group=nobody
  out_equal fooowner $'daemon daemon\n'
  out_equal subowner $'1000 nobody\n'
  out_equal foobisowner $'1000 nobody\n'
}

testCopyChmod() {
  dockerfile <<'D'

FROM busybox AS base

RUN mkdir -m 0777 /out
COPY --chmod=0644 foo /
COPY --chmod=777 bar /baz
COPY --chmod=0 foo /foobis

ARG mode
COPY --chmod=${mode} foo /footer

RUN stat -c "%04a" /foo  > /out/fooperm
RUN stat -c "%04a" /baz  > /out/barperm
RUN stat -c "%04a" /foobis  > /out/foobisperm
RUN stat -c "%04a" /footer  > /out/footerperm
FROM scratch
COPY --from=base /out /

D
  printf foo-contents | ctx_file foo 0600
  printf bar-contents | ctx_file bar 0700
  build_local --build-arg mode=755
  out_equal fooperm $'0644\n'
  out_equal barperm $'0777\n'
  out_equal foobisperm $'0000\n'
  out_equal footerperm $'0755\n'
}

testCopyInvalidChmod() {
  printf '\nFROM scratch\nCOPY --chmod=64a foo /\n' | dockerfile
  printf foo-contents | ctx_file foo
  assert_contains "$(build_error)" "invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777"
  printf '\nFROM scratch\nCOPY --chmod=10000 foo /\n' | dockerfile
  assert_contains "$(build_error)" "invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777"
}

testCopyOverrideFiles() {
  dockerfile <<'D'

FROM scratch AS base
COPY sub sub
COPY sub sub
COPY files/foo.go dest/foo.go
COPY files/foo.go dest/foo.go
COPY files dest

D
  mkdir -p -m 700 "$CTX/sub/dir1/dir2" "$CTX/files"
  printf foo-contents | ctx_file sub/dir1/dir2/foo 0600
  printf foo.go-contents | ctx_file files/foo.go 0600
  build_local
  out_equal sub/dir1/dir2/foo foo-contents
  out_equal dest/foo.go foo.go-contents
}

testCopyVarSubstitution() {
  printf '\nFROM scratch AS base\nENV FOO bar\nCOPY $FOO baz\n' | dockerfile
  printf bar-contents | ctx_file bar
  build_local
  out_equal baz bar-contents
}

testMultiStageImplicitFrom() {
  printf '\nFROM scratch\nCOPY --from=busybox /etc/passwd test\n' | dockerfile
  build_local
  out_contains test root
  # testing masked image will load actual stage
  printf '\nFROM busybox AS golang\nRUN mkdir -p /usr/bin && echo -n foo > /usr/bin/go\nFROM scratch\nCOPY --from=golang /usr/bin/go go\n' | dockerfile
  rm -rf "$OUT"
  build_local
  out_contains go foo
}

testMultiStageCaseInsensitive() {
  printf '\nFROM %s AS STAge0\nCOPY foo bar\nFROM %s AS staGE1\nCOPY --from=staGE0 bar baz\nFROM %s\nCOPY --from=stage1 baz bax\n' scratch scratch scratch | dockerfile
  printf foo-contents | ctx_file foo
  build_local --target Stage1
  out_contains baz foo-contents
}

testPlatformArgsImplicit() {
  printf '\nFROM scratch AS build-%s\nCOPY foo bar\nFROM build-${TARGETOS}\nCOPY foo2 bar2\n' linux | dockerfile
  printf d0 | ctx_file foo
  printf d1 | ctx_file foo2
  build_local
  out_equal bar d0
  out_equal bar2 d1
}

testPlatformArgsExplicit() {
  dockerfile <<'D'
FROM --platform=$BUILDPLATFORM busybox AS build
ARG TARGETPLATFORM
ARG TARGETOS
RUN mkdir /out && echo -n $TARGETPLATFORM > /out/platform && echo -n $TARGETOS > /out/os
FROM scratch
COPY --from=build out .
D
  build_local --platform darwin/ppc64le --build-arg TARGETOS=freebsd
  out_equal platform darwin/ppc64le
  out_equal os freebsd
}

testBuiltinArgs() {
  dockerfile <<'D'
FROM busybox AS build
ARG FOO
ARG BAR
ARG BAZ=bazcontent
RUN echo -n $HTTP_PROXY::$NO_PROXY::$FOO::$BAR::$BAZ > /out
FROM scratch
COPY --from=build /out /
D
  build_local --build-arg FOO=foocontents --build-arg http_proxy=hpvalue --build-arg NO_PROXY=npvalue
  out_equal out "hpvalue::npvalue::foocontents::::bazcontent"
  # repeat with changed default args should match the old cache
  rm -rf "$OUT"
  build_local --build-arg FOO=foocontents --build-arg http_proxy=hpvalue2
  out_equal out "hpvalue::npvalue::foocontents::::bazcontent"
  # changing actual value invalidates cache
  rm -rf "$OUT"
  build_local --build-arg FOO=foocontents2 --build-arg http_proxy=hpvalue2
  out_equal out "hpvalue2::::foocontents2::::bazcontent"
}

testEmptyStages() {
  printf 'ARG foo=bar' | dockerfile
  assert_contains "$(build_error)" "dockerfile contains no stages to build"
}

testCopyWildcards() {
  dockerfile <<'D'

FROM scratch AS base
COPY *.go /gofiles/
COPY f*.go foo2.go
COPY sub/* /subdest/
COPY sub/*/dir2/foo /subdest2/
COPY sub/*/dir2/foo /subdest3/bar
COPY . all/
COPY sub/dir1/ subdest4
COPY sub/dir1/. subdest5
COPY sub/dir1 subdest6

D
  printf foo-contents | ctx_file foo.go 0600
  printf bar-contents | ctx_file bar.go 0600
  mkdir -p -m 700 "$CTX/sub/dir1/dir2"
  printf foo-contents | ctx_file sub/dir1/dir2/foo 0600
  build_local
  out_equal gofiles/foo.go foo-contents
  out_equal gofiles/bar.go bar-contents
  out_equal foo2.go foo-contents
  out_equal subdest/dir2/foo foo-contents
  out_equal subdest2/foo foo-contents
  out_equal subdest3/bar foo-contents
  out_equal all/foo.go foo-contents
  out_equal subdest4/dir2/foo foo-contents
  out_equal subdest5/dir2/foo foo-contents
  out_equal subdest6/dir2/foo foo-contents
}

testCopyRelative() {
  dockerfile <<'D'

FROM busybox
WORKDIR /test1
WORKDIR test2
RUN sh -c "[ "$PWD" = '/test1/test2' ]"
COPY foo ./
RUN sh -c "[ $(cat /test1/test2/foo) = 'hello' ]"
ADD foo ./bar/baz
RUN sh -c "[ $(cat /test1/test2/bar/baz) = 'hello' ]"
COPY foo ./bar/baz2
RUN sh -c "[ $(cat /test1/test2/bar/baz2) = 'hello' ]"
WORKDIR ..
COPY foo ./
RUN sh -c "[ $(cat /test1/foo) = 'hello' ]"
COPY foo /test3/
RUN sh -c "[ $(cat /test3/foo) = 'hello' ]"
WORKDIR /test4
COPY . .
RUN sh -c "[ $(cat /test4/foo) = 'hello' ]"
WORKDIR /test5/test6
COPY foo ../
RUN sh -c "[ $(cat /test5/foo) = 'hello' ]"

D
  printf hello | ctx_file foo 0600
  build_local
}

testAddInvalidChmod() {
  printf '\nFROM scratch\nADD --chmod=64a foo /\n' | dockerfile
  printf foo-contents | ctx_file foo
  assert_contains "$(build_error)" "invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777"
  printf '\nFROM scratch\nADD --chmod=10000 foo /\n' | dockerfile
  assert_contains "$(build_error)" "invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777"
}

testTargetMistype() {
  printf '\nFROM scratch AS build\nCOPY Dockerfile /out\nFROM scratch\nCOPY --from=build /out /\n' | dockerfile
  assert_contains "$(build_error --target bulid)" 'target stage "bulid" could not be found (did you mean build?)'
}

testCopyUnicodePath() {
  printf '\nFROM alpine\nCOPY test-äöü.txt /\nCOPY test-%%C3%%A4%%C3%%B6%%C3%%BC.txt /\nCOPY test+aou.txt /\n' | dockerfile
  printf foo | ctx_file "test-äöü.txt" 0644
  printf bar | ctx_file "test-%C3%A4%C3%B6%C3%BC.txt" 0644
  printf baz | ctx_file "test+aou.txt" 0644
  build_local
  out_equal "test-äöü.txt" foo
  out_equal "test-%C3%A4%C3%B6%C3%BC.txt" bar
  out_equal "test+aou.txt" baz
}

testStepNames() {
  dockerfile <<'D'
FROM busybox AS base
WORKDIR /out
RUN echo "base" > base
FROM scratch
COPY --from=base --chmod=0644 /out /out
D
  build
  grep -qF '[base 3/3] RUN echo "base" > base' "$WORK/build.log" || { cat "$WORK/build.log"; fail "missing run step"; }
  grep -qF '[stage-1 1/1] COPY --from=base --chmod=0644 /out /out' "$WORK/build.log" || { cat "$WORK/build.log"; fail "missing copy step"; }
}

testPullScratch() {
  printf '\nFROM scratch\nLABEL foo=bar\n' | dockerfile
  build -t docker.io/moby/testpullscratch:latest
  printf '\nFROM docker.io/moby/testpullscratch:latest\nLABEL bar=baz\nCOPY foo .\n' | dockerfile
  printf foo-contents | ctx_file foo
  build -t docker.io/moby/testpullscratch2:latest
  image_config docker.io/moby/testpullscratch2:latest | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["rootfs"]["type"] == "layers" and len(c["rootfs"]["diff_ids"]) == 1, c["rootfs"]
assert c["config"]["Labels"] == {"foo": "bar", "bar": "baz"}, c["config"]["Labels"]
'
  # The Go test ends by mounting the image into a step written in BuildKit's LLB client API, which kiln has no
  # counterpart of; a RUN mount of it is the Dockerfile's way.
  printf '\nFROM busybox\nRUN --mount=from=docker.io/moby/testpullscratch:latest,target=/empty,rw sh -c "echo -n foo0 > /empty/foo && cat /empty/foo > /out"\nFROM scratch\nCOPY --from=0 /out /foo\n' | dockerfile
  build_local
  out_equal foo foo0
}

testWildcardRenameCache() {
  printf '\nFROM alpine\nCOPY file* /files/\nRUN ls /files/file1\n' | dockerfile
  printf foo | ctx_file file1
  build_local
  mv "$CTX/file1" "$CTX/file2"
  # cache should be invalidated and build should fail
  build_error >/dev/null
}

testTarExporterBasic() {
  printf '\nFROM scratch\nCOPY foo foo\n' | dockerfile
  printf data | ctx_file foo
  build -o "type=tar,dest=$WORK/out.tar"
  assert_eq "$(tar -xOf "$WORK/out.tar" foo)" data
}

testExportedHistoryFlattenArgs() {
  printf '\nFROM busybox\nARG foo=bar\nARG bar=123\nARG foo=bar2\nRUN ls /etc/\n' | dockerfile
  start_registry
  local target=$REGISTRY/buildkit/testargduplicate:latest
  build -o "type=image,push=true,name=$target"
  image_config "$target" | python3 -c '
import json, sys
h = json.load(sys.stdin)["history"]
first = next(i for i, e in enumerate(h) if e.get("created_by") == "ARG foo=bar")
assert first > 0 and len(h) == first + 4, h
assert "ARG bar=123" in h[first + 1]["created_by"] and "ARG foo=bar2" in h[first + 2]["created_by"], h
run = h[first + 3]["created_by"]
assert "ls /etc/" in run and "ARG foo=bar" not in run and "RUN |2 foo=bar2 bar=123 " in run, run
'
}

testTarExporterMulti() {
  printf '\nFROM scratch AS stage-linux\nCOPY foo forlinux\nFROM scratch AS stage-darwin\nCOPY bar fordarwin\nFROM stage-$TARGETOS\n' | dockerfile
  printf data | ctx_file foo
  printf data2 | ctx_file bar
  build -o "type=tar,dest=$WORK/out.tar"
  assert_eq "$(tar -xOf "$WORK/out.tar" forlinux)" data
  # repeat multi-platform
  build -o "type=tar,dest=$WORK/out2.tar" --platform linux/amd64,darwin/amd64
  assert_eq "$(tar -xOf "$WORK/out2.tar" linux_amd64/forlinux)" data
  assert_eq "$(tar -xOf "$WORK/out2.tar" darwin_amd64/fordarwin)" data2
}

testAddURLChmod() {
  local files=$WORK/files-$$
  mkdir -p "$files"
  printf content1 > "$files/foo"
  http_files "$files"
  dockerfile <<D
FROM busybox AS build
ADD --chmod=644 $HTTP_URL/foo /tmp/foo1
ADD --chmod=755 $HTTP_URL/foo /tmp/foo2
ADD --chmod=0413 $HTTP_URL/foo /tmp/foo3
ARG mode
ADD --chmod=\${mode} $HTTP_URL/foo /tmp/foo4
RUN stat -c "%04a" /tmp/foo1 >> /dest && \\
	stat -c "%04a" /tmp/foo2 >> /dest && \\
	stat -c "%04a" /tmp/foo3 >> /dest && \\
	stat -c "%04a" /tmp/foo4 >> /dest
FROM scratch
COPY --from=build /dest /dest
D
  build_local --build-arg mode=400
  out_equal dest $'0644\n0755\n0413\n0400\n'
}

testWorkdirSourceDateEpochReproducible() {
  printf '\nFROM alpine\nWORKDIR /mydir\n' | dockerfile
  local epoch
  epoch=$(date -u -d '2023-01-10 15:34:56' +%s)
  build --build-arg "SOURCE_DATE_EPOCH=$epoch" -o "type=oci,tar=false,dest=$WORK/oci1"
  # Prune all cache
  kiln prune -a > /dev/null
  sleep 3
  build --build-arg "SOURCE_DATE_EPOCH=$epoch" -o "type=oci,tar=false,dest=$WORK/oci2"
  assert_eq "$(cat "$WORK/oci2/index.json")" "$(cat "$WORK/oci1/index.json")" "index.json"
}

testReproducibleIDs() {
  printf '\nFROM busybox\nENV foo=bar\nCOPY foo /\nRUN echo bar > bar\n' | dockerfile
  printf foo-contents | ctx_file foo
  build -t example.com/moby/dockerfileids:test
  build -t example.com/moby/dockerfileids2:test
  assert_eq "$(kiln inspect example.com/moby/dockerfileids2:test | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')" \
    "$(kiln inspect example.com/moby/dockerfileids:test | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')"
}

testDockerfileCheckHostname() {
  printf '\nFROM busybox\nRUN cat /etc/hosts | grep foo\nRUN echo $HOSTNAME | grep foo\nRUN echo $(hostname) | grep foo\n' | dockerfile
  # The Go test's "arg" case; its "meta" cases set the same through a frontend attribute (buildx's hostname),
  # which kiln takes as this build argument.
  build --build-arg BUILDKIT_SANDBOX_HOSTNAME=foo
}

testExportCacheLoop() {
  dockerfile <<'D'
FROM alpine as base
RUN echo aa > /foo
WORKDIR /bar

FROM base as base1
COPY hello.txt .

FROM base as base2
COPY --from=base1 /bar/hello.txt .
RUN true

FROM scratch
COPY --from=base2 /foo /f
D
  printf hello | ctx_file hello.txt
  local cache=$WORK/cache
  build --cache-to "type=local,dest=$cache/cache"
  kiln prune -a > /dev/null
  build --cache-to "type=local,dest=$cache/cache" --cache-from "type=local,src=$cache/cache"
}

testDockerfileAddArchive() {
  tar_one "$WORK/t.tar" foo content0
  printf '\nFROM scratch\nADD t.tar /\n' | dockerfile
  cp "$WORK/t.tar" "$CTX/t.tar"
  build_local
  out_equal foo content0
  # add gzip tar
  bk_new_context
  gzip -c "$WORK/t.tar" > "$WORK/t.tar.gz"
  printf '\nFROM scratch\nADD t.tar.gz /\n' | dockerfile
  cp "$WORK/t.tar.gz" "$CTX/"
  build_local
  out_equal foo content0
  # add with unpack=false
  bk_new_context
  printf '\n\tFROM scratch\n\tADD --unpack=false t.tar.gz /\n\t' | dockerfile
  cp "$WORK/t.tar.gz" "$CTX/"
  build_local
  out_missing foo
  cmp "$OUT/t.tar.gz" "$WORK/t.tar.gz" || fail "t.tar.gz differs"
  # COPY doesn't extract
  bk_new_context
  printf '\nFROM scratch\nCOPY t.tar.gz /\n' | dockerfile
  cp "$WORK/t.tar.gz" "$CTX/"
  build_local
  cmp "$OUT/t.tar.gz" "$WORK/t.tar.gz" || fail "t.tar.gz differs"
  # ADD from URL doesn't extract
  mkdir -p "$WORK/www" && cp "$WORK/t.tar.gz" "$WORK/www/"
  http_files "$WORK/www"
  bk_new_context
  printf '\nFROM scratch\nADD %s /\n' "$HTTP_URL/t.tar.gz" | dockerfile
  build_local
  cmp "$OUT/t.tar.gz" "$WORK/t.tar.gz" || fail "t.tar.gz differs"
  # ADD from URL with --unpack=true
  bk_new_context
  printf '\nFROM scratch\nADD --unpack=true %s /dest/\n' "$HTTP_URL/t.tar.gz" | dockerfile
  build_local
  out_equal dest/foo content0
  # https://github.com/moby/buildkit/issues/386
  bk_new_context
  printf '\nFROM scratch\nADD %s /newname.tar.gz\n' "$HTTP_URL/t.tar.gz" | dockerfile
  build_local
  cmp "$OUT/newname.tar.gz" "$WORK/t.tar.gz" || fail "newname.tar.gz differs"
}

testDockerfileAddChownArchive() {
  tar_one "$CTX/t.tar" foo content0
  printf '\nFROM scratch\nADD --chown=100:200 t.tar /out/\n' | dockerfile
  build -o "type=tar,dest=$WORK/out.tar"
  python3 - "$WORK/out.tar" <<'PY'
import sys, tarfile
m = {i.name.rstrip("/") if i.isdir() else i.name: i for i in tarfile.open(sys.argv[1])}
f = m["out/foo"]; assert tarfile.open(sys.argv[1]).extractfile(f).read() == b"content0"
assert (f.uid, f.gid) == (100, 200), (f.uid, f.gid)
d = m["out"]; assert (d.uid, d.gid) == (100, 200), (d.uid, d.gid)
PY
}

testDockerfileAddArchiveWildcard() {
  tar_one "$CTX/t.tar" foo content0
  tar_one "$CTX/b.tar" bar content1
  printf '\nFROM scratch\nADD *.tar /dest\n' | dockerfile
  build_local
  out_equal dest/foo content0
  out_equal dest/bar content1
}

# cache_roundtrip CACHE_TO CACHE_FROM: testCacheImportExport's build, pruned, built again from the cache: the
# RUN's random output comes back from the cache.
cache_roundtrip() {
  dockerfile <<'D'
FROM busybox AS base
COPY foo const
#RUN echo -n foobar > const
RUN cat /dev/urandom | head -c 100 | sha256sum > unique
FROM scratch
COPY --from=base const /
COPY --from=base unique /
D
  printf foobar | ctx_file foo
  build_local --cache-to "$1"
  out_equal const foobar
  cp "$OUT/unique" "$WORK/unique"
  kiln prune -a > /dev/null
  rm -rf "$OUT"
  build_local --cache-from "$2"
  out_equal const foobar
  cmp "$OUT/unique" "$WORK/unique" || fail "unique was not taken from the cache"
}

testCacheImportExport() {
  start_registry
  local target=$REGISTRY/buildkit/testexportdf:latest
  cache_roundtrip "type=registry,ref=$target" "type=registry,ref=$target"
}

testImageManifestCacheImportExport() {
  start_registry
  local target=$REGISTRY/buildkit/testexportdf:latest
  cache_roundtrip "type=registry,ref=$target,oci-mediatypes=true,image-manifest=true" "type=registry,ref=$target"
  python3 - "http://$REGISTRY/v2/buildkit/testexportdf/manifests/latest" <<'PY'
import json, sys, urllib.request
r = urllib.request.Request(sys.argv[1], headers={"Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"})
m = json.load(urllib.request.urlopen(r))
assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json", m["mediaType"]
# BuildKit's own cache config (application/vnd.buildkit.cacheconfig.v0) is, in kiln, kiln's (docs/cache-format.md).
assert m["config"]["mediaType"] == "application/vnd.kiln.cache.config.v1+json", m["config"]
PY
}

testCacheMultiPlatformImportExport() {
  start_registry
  dockerfile <<'D'
FROM --platform=$BUILDPLATFORM busybox AS base
ARG TARGETARCH
RUN echo -n $TARGETARCH> arch && cat /dev/urandom | head -c 100 | sha256sum > unique
FROM scratch
COPY --from=base unique /
COPY --from=base arch /
D
  local target=$REGISTRY/buildkit/testexportdf:multi
  build --platform linux/amd64,linux/arm/v7 -o "type=image,name=$target-img,push=true" --cache-to type=inline
  read_pushed "$target-img" > "$WORK/first.json"
  local i
  for i in 1 2; do
    kiln prune -a > /dev/null
    kiln rmi "$target-img" > /dev/null
    build --platform linux/amd64,linux/arm/v7 -o "type=image,name=$target-img,push=true" --cache-to type=inline \
      --cache-from "type=registry,ref=$target-img"
    read_pushed "$target-img" > "$WORK/again.json"
    python3 - "$WORK/first.json" "$WORK/again.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["digest"] == b["digest"], (a["digest"], b["digest"])
assert len(a["images"]) == 2
assert a["images"]["linux/amd64"][1]["arch"] == "amd64"
assert b["images"]["linux/arm/v7"][1]["arch"] == "arm"
assert a["images"]["linux/amd64"][0]["unique"] != a["images"]["linux/arm/v7"][0]["unique"]
for p in ("linux/amd64", "linux/arm/v7"):
    assert a["images"][p][0]["unique"] == b["images"][p][0]["unique"], p
PY
  done
}

testTarContext() {
  printf '\nFROM scratch\nCOPY foo /' | dockerfile
  printf contents | ctx_file foo
  tar -C "$CTX" -cf "$WORK/ctx.tar" Dockerfile foo
  kiln build --progress plain - < "$WORK/ctx.tar" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "the build failed"; }
}

testNamedImageContext() {
  dockerfile <<'D'
FROM busybox AS base
RUN cat /etc/alpine-release > /out
FROM scratch
COPY --from=base /out /
D
  # Make sure image resolution works as expected, do not add a tag or locator.
  build_local --build-context busybox=docker-image://alpine
  [ -s "$OUT/out" ] || fail "out is empty"
  # Now test with an image with custom envs
  printf '\nFROM alpine:latest\nENV PATH=/foobar:$PATH\nENV FOOBAR=foobar\n' | dockerfile
  start_registry
  local target=$REGISTRY/buildkit/testnamedimagecontext:latest
  build -o "type=image,name=$target,push=true"
  dockerfile <<'D'
FROM busybox AS base
RUN cat /etc/alpine-release > /out
RUN env | grep PATH > /env_path
RUN env | grep FOOBAR > /env_foobar
FROM scratch
COPY --from=base /out /
COPY --from=base /env_path /
COPY --from=base /env_foobar /
	
D
  rm -rf "$OUT"
  build_local --build-context "busybox=docker-image://$target"
  [ -s "$OUT/out" ] || fail "out is empty"
  out_equal env_foobar $'FOOBAR=foobar\n'
  out_contains env_path /foobar:
  # this case checks replacing stage that is based on another stage.
  dockerfile <<'D'
FROM busybox AS parent
FROM parent AS base
RUN echo base > /out
FROM base
RUN [ -f /etc/alpine-release ]
RUN [ ! -f /out ]
D
  rm -rf "$OUT"
  build_local --build-context "base=docker-image://$target"
}

testNamedImageContextTimestamps() {
  start_registry
  printf '\nFROM alpine\nRUN echo foo >> /test\n' | dockerfile
  local target=$REGISTRY/buildkit/testnamedimagecontexttimestamps:latest
  build -o "type=image,name=$target,push=true"
  local derived=$REGISTRY/buildkit/testnamedimagecontexttimestampsderived:latest
  sleep 1
  build --build-context "alpine=docker-image://$target" -o "type=image,name=$derived,push=true"
  python3 - <(kiln inspect "$target") <(kiln inspect "$derived") <<'PY'
import json, sys
from datetime import datetime
created = lambda p: datetime.fromisoformat(json.load(open(p))["config"]["created"])
d = (created(sys.argv[2]) - created(sys.argv[1])).total_seconds()
assert 0 < d < 600, d
PY
}


testNamedImageContextScratch() {
  dockerfile <<'D'
	
FROM busybox AS build
COPY <<EOF /out
hello world!
EOF
D
  build_local --build-context busybox=docker-image://scratch
  assert_eq "$(ls -A "$OUT")" out
  out_equal out $'hello world!\n'
}

testNamedLocalContext() {
  dockerfile <<'D'
FROM busybox AS base
RUN cat /etc/alpine-release > /out
FROM scratch
COPY --from=base /o* /
D
  local dir2=$WORK/basedir
  mkdir -p "$dir2"
  printf dummy-result > "$dir2/out"
  printf dummy-result > "$dir2/out2"
  printf 'out2\n' > "$dir2/.dockerignore"
  build_local --build-context "base=$dir2"
  [ -s "$OUT/out" ] || fail "out is empty"
  out_missing out2
}


testNamedOCILayoutContext() {
  dockerfile <<'D'
	FROM busybox:latest
	WORKDIR /test
	RUN sh -c "echo -n first > out"
	RUN sh -c "echo -n second > out2"
	ENV foo=bar
	
D
  build -o "type=oci,dest=$WORK/oci.tar"
  local digest
  digest=$(oci_layout_of "$WORK/oci.tar" "$WORK/ocidir")
  dockerfile <<'D'
FROM busybox AS base
RUN cat /etc/alpine-release > out
FROM foo AS imported
RUN echo -n $foo > outfoo
FROM scratch
COPY --from=base /test/o* /
COPY --from=imported /test/outfoo /
D
  build_local --build-context "base=oci-layout://$WORK/ocidir@$digest" --build-context "foo=oci-layout://$WORK/ocidir@$digest"
  out_equal out first
  out_equal out2 second
  out_equal outfoo bar
}

testNamedOCILayoutContextExport() {
  printf '\nFROM scratch\nWORKDIR /test\nENV foo=bar\n\t' | dockerfile
  build -o "type=oci,dest=$WORK/oci.tar"
  local digest
  digest=$(oci_layout_of "$WORK/oci.tar" "$WORK/ocidir")
  printf '\nFROM nonexistent AS base\n' | dockerfile
  build --build-context "nonexistent=oci-layout://$WORK/ocidir@$digest" -o "type=oci,dest=$WORK/oci2.tar"
  mkdir -p "$WORK/oci2" && tar -C "$WORK/oci2" -xf "$WORK/oci2.tar"
  python3 - "$WORK/oci2" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda dg: json.load(open(f"{d}/blobs/sha256/{dg.split(':')[1]}"))
idx = json.load(open(f"{d}/index.json")); assert len(idx["manifests"]) == 1
cfg = blob(blob(idx["manifests"][0]["digest"])["config"]["digest"])
assert cfg["config"]["WorkingDir"] == "/test", cfg["config"]
assert "foo=bar" in cfg["config"]["Env"], cfg["config"]
PY
}

testSourceDateEpochWithoutExporter() {
  printf '\nFROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n' | dockerfile
  local tm=1445412480  # 2015-10-21T07:28:00Z
  build --build-arg SOURCE_DATE_EPOCH=$tm -o "type=oci,dest=$WORK/out.tar"
  mkdir -p "$WORK/oci" && tar -C "$WORK/oci" -xf "$WORK/out.tar"
  python3 - "$WORK/oci" $tm <<'PY'
import json, sys
from datetime import datetime
d, tm = sys.argv[1], int(sys.argv[2])
blob = lambda dg: json.load(open(f"{d}/blobs/sha256/{dg.split(':')[1]}"))
img = blob(blob(json.load(open(f"{d}/index.json"))["manifests"][0]["digest"])["config"]["digest"])
ts = lambda s: int(datetime.fromisoformat(s).timestamp())
assert ts(img["created"]) == tm, img["created"]
for h in img["history"]: assert ts(h["created"]) == tm, h
PY
}

testMultiNilRefsOCIExporter() {
  printf 'FROM scratch' | dockerfile
  build --platform linux/arm64,linux/amd64 -o "type=oci,dest=$WORK/out.tar"
  mkdir -p "$WORK/oci" && tar -C "$WORK/oci" -xf "$WORK/out.tar"
  python3 - "$WORK/oci" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(f"{d}/index.json")); assert len(idx["manifests"]) == 1, idx
inner = json.load(open(f"{d}/blobs/sha256/{idx['manifests'][0]['digest'].split(':')[1]}"))
assert len(inner["manifests"]) == 2, inner
PY
}

testEagerNamedContextLookup() {
  dockerfile <<'D'
FROM broken AS notused
FROM alpine AS base
RUN echo "base" > /foo
FROM busybox AS otherstage
FROM scratch
COPY --from=base /foo /foo
	
D
  build_local --build-context notused=docker-image://docker.io/library/nosuchimage:latest \
    --build-context busybox=docker-image://docker.io/library/dontexist:latest
  out_equal foo $'base\n'
}


testDefaultShellAndPath() {
  printf '\nFROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n' | dockerfile
  build --platform windows/amd64,linux/amd64 -o "type=oci,dest=$WORK/out.tar"
  oci_dir "$WORK/out.tar" "$WORK/oci"
  python3 - "$WORK/oci" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda dg: json.load(open(f"{d}/blobs/sha256/{dg.split(':')[1]}"))
idx = blob(json.load(open(f"{d}/index.json"))["manifests"][0]["digest"])
assert len(idx["manifests"]) == 2, idx
# we don't set PATH on Windows. #5445
for i, (p, entrypoint, env) in enumerate([
        ("windows/amd64", ["cmd", "/S", "/C", "foo bar"], None),
        ("linux/amd64", ["/bin/sh", "-c", "foo bar"], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])]):
    desc = idx["manifests"][i]
    assert desc["platform"]["os"] + "/" + desc["platform"]["architecture"] == p, desc["platform"]
    m = blob(desc["digest"])
    assert len(m["layers"]) == 1, m
    img = blob(m["config"]["digest"])
    assert img["config"].get("Entrypoint") == entrypoint, (p, img["config"])
    assert img["config"].get("Env") == env, (p, img["config"])
PY
}

testExportMultiPlatform() {
  dockerfile <<'D'
FROM scratch
ARG TARGETARCH
ARG TARGETPLATFORM
LABEL target=$TARGETPLATFORM
COPY arch-$TARGETARCH whoami
D
  local a
  for a in arm amd64 s390x ppc64le; do printf 'i am %s' $a | ctx_file arch-$a; done
  build_local --platform windows/amd64,linux/arm,linux/s390x
  out_equal windows_amd64/whoami "i am amd64"
  out_equal linux_arm_v7/whoami "i am arm"
  out_equal linux_s390x/whoami "i am s390x"
  # repeat with oci exporter
  build --platform windows/amd64,linux/arm/v6,linux/ppc64le -o "type=oci,dest=$WORK/out.tar"
  oci_dir "$WORK/out.tar" "$WORK/oci"
  python3 - "$WORK/oci" <<'PY'
import io, json, sys, tarfile
d = sys.argv[1]
raw = lambda dg: open(f"{d}/blobs/sha256/{dg.split(':')[1]}", "rb").read()
blob = lambda dg: json.loads(raw(dg))
idx = blob(json.load(open(f"{d}/index.json"))["manifests"][0]["digest"])
assert len(idx["manifests"]) == 3, idx
for i, (p, os_, arch, dt) in enumerate([("windows/amd64", "windows", "amd64", "i am amd64"),
        ("linux/arm/v6", "linux", "arm", "i am arm"), ("linux/ppc64le", "linux", "ppc64le", "i am ppc64le")]):
    desc = idx["manifests"][i]
    pl = desc["platform"]
    assert "/".join(x for x in (pl["os"], pl["architecture"], pl.get("variant")) if x) == p, pl
    m = blob(desc["digest"])
    assert len(m["layers"]) == 1
    t = tarfile.open(fileobj=io.BytesIO(raw(m["layers"][0]["digest"])))
    assert t.extractfile("whoami").read().decode() == dt
    img = blob(m["config"]["digest"])
    assert (img["os"], img["architecture"]) == (os_, arch), img
    assert img["config"]["Labels"]["target"] == p, img["config"]
PY
}

testOCILayoutMultiname() {
  dockerfile <<'D'
FROM scratch
COPY <<EOF /foo
hello
EOF
D
  build -o "type=oci,dest=$WORK/dest,tar=false,name=org/repo:tag1,name=org/repo:tag2"
  python3 - "$WORK/dest/index.json" <<'PY' || fail "index.json"
import json, sys
idx = json.load(open(sys.argv[1]))
m = idx["manifests"]
assert len(m) == 2, m
for k in ("digest", "mediaType", "size"): assert m[0][k] == m[1][k], k
assert m[0].get("platform") == m[1].get("platform")
assert m[0]["annotations"]["io.containerd.image.name"] == "docker.io/org/repo:tag1", m
assert m[1]["annotations"]["io.containerd.image.name"] == "docker.io/org/repo:tag2", m
assert m[0]["annotations"]["org.opencontainers.image.ref.name"] == "tag1", m
assert m[1]["annotations"]["org.opencontainers.image.ref.name"] == "tag2", m
PY
  # test that tar variant matches
  build -o "type=oci,dest=$WORK/out.tar,name=org/repo:tag1,name=org/repo:tag2"
  oci_dir "$WORK/out.tar" "$WORK/oci"
  cmp <(python3 -m json.tool --sort-keys "$WORK/oci/index.json") <(python3 -m json.tool --sort-keys "$WORK/dest/index.json") ||
    fail "the tar's index.json differs"
}

testBaseImagePlatformMismatch() {
  start_registry
  printf '\nFROM scratch\nCOPY foo /foo\n' | dockerfile
  printf test | ctx_file foo 0644
  # choose target platform that is different from the current platform
  local target=$REGISTRY/buildkit/testbaseimageplatform:latest
  build --platform linux/arm64 -o "type=image,name=$target,push=true"
  printf '\nFROM %s\nENV foo=bar\n\t' "$target" | dockerfile
  check_lint <<W
InvalidBaseImagePlatform|Base image platform does not match expected target platform|https://docs.docker.com/go/dockerfile/rule/invalid-base-image-platform/|Base image $target was pulled with platform "linux/arm64", expected "linux/amd64" for current build|2
W
}

testNamedImageContextPlatform() {
  start_registry
  # Build a base image and force buildkit to generate a manifest list.
  printf 'FROM --platform=$BUILDPLATFORM alpine:latest' | dockerfile
  local target=$REGISTRY/buildkit/testnamedimagecontextplatform:latest
  build --build-arg BUILDKIT_MULTI_PLATFORM=true -o "type=image,name=$target,push=true"
  printf '\n\t\tFROM --platform=$BUILDPLATFORM %s AS target\n\t\tRUN echo hello\n\t\t' alpine | dockerfile
  # random platform that would never exist so it doesn't conflict with the build machine; the image source takes
  # the platform of the Dockerfile, not the target platform.
  build --build-context "busybox=docker-image://$target" --platform darwin/ppc64le
}

testMaintainBaseOSVersion() {
  start_registry
  local p1=windows/amd64 p1v=10.20.30
  dockerfile <<'D'
FROM scratch
ARG TARGETPLATFORM
COPY <<EOF /platform
${TARGETPLATFORM}
EOF
D
  local target=$REGISTRY/buildkit/testplatformwithosversion-1:latest
  build --platform "windows(10.20.30)/amd64" -o "type=image,name=$target,push=true"
  os_versions "$target" > "$WORK/v1"
  assert_eq "$(cat "$WORK/v1")" "$p1v"
  printf '\nFROM %s\nCOPY <<EOF /other\nhello\nEOF\n' "$target" | dockerfile
  local target2=$REGISTRY/buildkit/testplatformwithosversion-2:latest
  build --platform "$p1" -o "type=image,name=$target2,push=true"
  assert_eq "$(os_versions "$target2")" "$p1v"
}

# os_versions REF: the os.version of each image of REF in the registry, one per line.
os_versions() {
  python3 - "$1" <<'PY'
import json, sys, urllib.request
host, rest = sys.argv[1].split("/", 1)
repo, tag = rest.rsplit(":", 1)
accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"
get = lambda what, ref: json.load(urllib.request.urlopen(urllib.request.Request(f"http://{host}/v2/{repo}/{what}/{ref}", headers={"Accept": accept})))
top = get("manifests", tag)
ms = [get("manifests", d["digest"]) for d in top["manifests"] if d.get("platform", {}).get("os") != "unknown"] if "manifests" in top else [top]
for m in ms: print(get("blobs", m["config"]["digest"]).get("os.version", ""))
PY
}

testPlatformWithOSVersion() {
  start_registry
  # currently "OS" *must* be set to "windows" for this to work: the platform matchers only compare OSVersion then.
  local p1='windows(1.2.3)/bar' p2='windows(1.1.0)/bar'
  local target=$REGISTRY/buildkit/testplatformwithosversion:latest
  dockerfile <<D
FROM $target AS reg
FROM scratch AS base
ARG TARGETOSVERSION
COPY <<EOF /osversion
\${TARGETOSVERSION}
EOF
ARG TARGETPLATFORM
COPY <<EOF /targetplatform
\${TARGETPLATFORM}
EOF
D
  # build the base target as a multi-platform image and push to the registry
  build_local --platform "$p1,$p2" --target base -o "type=image,name=$target,push=true"
  assert_eq "$(os_versions "$target" | tr '\n' ' ')" "1.2.3 1.1.0 "
  out_equal 'windows(1.2.3)_bar/osversion' $'1.2.3\n'
  out_equal 'windows(1.2.3)_bar/targetplatform' "$p1"$'\n'
  out_equal 'windows(1.1.0)_bar/osversion' $'1.1.0\n'
  out_equal 'windows(1.1.0)_bar/targetplatform' "$p2"$'\n'
  # Now build the "reg" target, which should pull the base image from the registry; it selects the image with the
  # requested os version.
  rm -rf "$OUT"
  build_local --platform "$p1" --target reg
  out_equal osversion $'1.2.3\n'
  # And again with the other os version
  rm -rf "$OUT"
  build_local --platform "$p2" --target reg
  out_equal osversion $'1.1.0\n'
}

testHTTPDockerfile() {
  mkdir -p "$WORK/www"
  printf '\nFROM busybox\nRUN echo -n "foo-contents" > /foo\nFROM scratch\nCOPY --from=0 /foo /foo\n' > "$WORK/www/df"
  echo "\"$RANDOM$RANDOM\"" > "$WORK/www/df.etag"
  http_responses "$WORK/www"
  # the file name is bogus: any name works
  kiln build --progress plain -f mydockerfile -o "type=local,dest=$OUT" "$HTTP_URL/df" > "$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log"; fail "the build failed"; }
  out_equal foo foo-contents
}

testDockerfileFromHTTP() {
  mkdir -p "$WORK/www" "$WORK/tar"
  printf 'FROM scratch\nCOPY foo bar\n' > "$WORK/tar/mydockerfile"
  printf foo-contents > "$WORK/tar/foo"
  chmod 600 "$WORK/tar/"*
  tar -C "$WORK/tar" -cf "$WORK/www/myurl" mydockerfile foo
  echo "\"$RANDOM$RANDOM\"" > "$WORK/www/myurl.etag"
  http_responses "$WORK/www"
  kiln build --progress plain -f mydockerfile -o "type=local,dest=$OUT" "$HTTP_URL/myurl" > "$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log"; fail "the build failed"; }
  out_equal bar foo-contents
}

testDockerfileFromGit() {
  local git_dir=$WORK/repo
  mkdir -p "$git_dir"
  cat > "$git_dir/Dockerfile" <<'D'

FROM busybox AS build
RUN echo -n fromgit > foo
FROM scratch
COPY --from=build foo bar
D
  git -C "$git_dir" init -q
  git -C "$git_dir" config --local user.email test
  git -C "$git_dir" config --local user.name test
  git -C "$git_dir" add Dockerfile
  git -C "$git_dir" commit -qm initial
  git -C "$git_dir" branch first
  printf '\nCOPY --from=build foo bar2\n' >> "$git_dir/Dockerfile"
  git -C "$git_dir" add Dockerfile
  git -C "$git_dir" commit -qm second
  git -C "$git_dir" update-server-info
  http_files "$git_dir"
  kiln build --progress plain -o "type=local,dest=$OUT" "$HTTP_URL/.git#first" > "$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log"; fail "the build failed"; }
  out_equal bar fromgit
  out_missing bar2
  # second request from master branch contains both files
  rm -rf "$OUT"
  kiln build --progress plain -o "type=local,dest=$OUT" "$HTTP_URL/.git" > "$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log"; fail "the build failed"; }
  out_equal bar fromgit
  out_equal bar2 fromgit
}

testDockerfileADDFromURL() {
  mkdir -p "$WORK/www"
  local mod_time=$(( $(date +%s) - 86400 ))  # avoid a false positive with the current time
  printf content1 > "$WORK/www/foo"
  echo "\"$RANDOM$RANDOM\"" > "$WORK/www/foo.etag"
  printf content2 > "$WORK/www/index"
  echo "\"$RANDOM$RANDOM\"" > "$WORK/www/index.etag"
  echo $mod_time > "$WORK/www/index.modified"
  http_responses "$WORK/www"
  printf '\nFROM scratch\nADD %s /dest/\n' "$HTTP_URL/foo" | dockerfile
  build_local
  out_equal dest/foo content1
  # run again to test HEAD request
  build
  # test the default properties
  bk_new_context
  printf '\nFROM scratch\nADD %s /dest/\n' "$HTTP_URL/" | dockerfile
  build_local
  out_equal dest/__unnamed__ content2
  assert_eq "$(stat -c %Y "$OUT/dest/__unnamed__")" "$mod_time" "the file's time"
  local requests
  requests=$(grep ' /foo ' "$WORK/http.log")
  assert_eq "$(wc -l <<<"$requests")" 2 "requests of /foo"
  assert_eq "$(sed -n 1p <<<"$requests" | cut -d' ' -f1)" GET
  assert_eq "$(sed -n 2p <<<"$requests" | cut -d' ' -f1)" HEAD
  assert_contains "$(sed -n 1p <<<"$requests")" "kiln/v"
  assert_contains "$(sed -n 2p <<<"$requests")" "kiln/v"
}

testLabels() {
  printf '\nFROM scratch\nLABEL foo=bar\n' | dockerfile
  build --label bar=baz -t example.com/moby/dockerfilelabels:test
  image_config example.com/moby/dockerfilelabels:test | python3 -c '
import json, sys
labels = json.load(sys.stdin)["config"]["Labels"]
assert labels.get("foo") == "bar", labels
assert labels.get("bar") == "baz", labels
'
}

testShmSize() {
  dockerfile <<'D'
FROM busybox AS base
RUN mount | grep /dev/shm > /shmsize
FROM scratch
COPY --from=base /shmsize /
D
  build_local --shm-size 134217728
  out_contains shmsize size=131072k
}

testUlimit() {
  dockerfile <<'D'
FROM busybox AS base
RUN ulimit -n > /ulimit
FROM scratch
COPY --from=base /ulimit /
D
  build_local --ulimit nofile=1062:1062
  assert_eq "$(cat "$OUT/ulimit")" 1062
}

testNoCache() {
  dockerfile <<'D'
FROM busybox AS s0
RUN cat /dev/urandom | head -c 100 | sha256sum | tee unique
FROM busybox AS s1
RUN cat /dev/urandom | head -c 100 | sha256sum | tee unique2
FROM scratch
COPY --from=s0 unique /
COPY --from=s1 unique2 /
D
  local out1=$WORK/out1 out2=$WORK/out2 out3=$WORK/out3
  OUT=$out1 build_local
  OUT=$out2 build_local --no-cache
  [ "$(cat "$out1/unique")" != "$(cat "$out2/unique")" ] || fail "unique was taken from the cache under --no-cache"
  [ "$(cat "$out1/unique2")" != "$(cat "$out2/unique2")" ] || fail "unique2 was taken from the cache under --no-cache"
  OUT=$out3 build_local --no-cache-filter s1
  assert_eq "$(cat "$out3/unique")" "$(cat "$out2/unique")" "s0 is not filtered: its step comes from the cache"
  [ "$(cat "$out1/unique2")" != "$(cat "$out3/unique2")" ] || fail "unique2 was taken from the cache under --no-cache-filter s1"
}

testCacheMountModeNoCache() {
  dockerfile <<'D'
FROM busybox AS base
ARG FOO=abc
RUN --mount=type=cache,target=/cache,mode=0773 touch /cache/$FOO && ls -l /cache | wc -l > /out

FROM scratch
COPY --from=base /out /
D
  build_local
  out_equal out $'2\n'
  build_local --no-cache --build-arg FOO=def
  out_equal out $'2\n'
  # safety check without no-cache
  build_local --build-arg FOO=ghi
  out_equal out $'3\n'
}

# attestation_layers REF: the layers of REF's attestation manifest (unknown/unknown), as a JSON list of statements;
# fails unless REF is an index of exactly one image and its attestation.
attestation_layers() {
  python3 - "$1" <<'PY'
import json, sys, urllib.request
host, rest = sys.argv[1].split("/", 1)
repo, tag = rest.rsplit(":", 1)
accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
get = lambda what, ref: urllib.request.urlopen(urllib.request.Request(f"http://{host}/v2/{repo}/{what}/{ref}", headers={"Accept": accept})).read()
index = json.loads(get("manifests", tag))
assert len(index["manifests"]) == 2, index
att = [d for d in index["manifests"] if d.get("platform", {}).get("os") == "unknown"]
assert len(att) == 1, index
m = json.loads(get("manifests", att[0]["digest"]))
print(json.dumps([json.loads(get("blobs", l["digest"])) for l in m["layers"]]))
PY
}

testSBOMScannerImage() {
  start_registry
  dockerfile <<'D'
FROM busybox:latest
COPY <<-"EOF" /scan.sh
	set -e
	cat <<BUNDLE > $BUILDKIT_SCAN_DESTINATION/spdx.json
	{
	  "_type": "https://in-toto.io/Statement/v0.1",
	  "predicateType": "https://spdx.dev/Document",
	  "predicate": {"name": "sbom-scan"}
	}
	BUNDLE
EOF
CMD sh /scan.sh
D
  local scanner=$REGISTRY/buildkit/testsbomscanner:latest
  build -o "type=image,name=$scanner,push=true"
  printf '\nFROM scratch\nCOPY <<EOF /foo\ndata\nEOF\n' | dockerfile
  local target=$REGISTRY/buildkit/testsbomscannertarget:latest
  build --attest "type=sbom,generator=$scanner" -o "type=image,name=$target,push=true"
  read_pushed "$target" > "$WORK/image.json"
  python3 - "$WORK/image.json" <<'PY'
import json, sys
images = json.load(open(sys.argv[1]))["images"]
assert len(images) == 1 and list(images.values())[0][0]["foo"] == "data\n", images
PY
  attestation_layers "$target" | python3 -c '
import json, sys
layers = json.load(sys.stdin)
assert len(layers) == 1, layers
s = layers[0]
assert s["_type"] == "https://in-toto.io/Statement/v0.1", s
assert s["predicateType"] == "https://spdx.dev/Document", s
assert s["predicate"]["name"] == "sbom-scan", s
'
}

testSBOMScannerArgs() {
  start_registry
  dockerfile <<'D'
FROM busybox:latest
COPY <<-"EOF" /scan.sh
	set -e
	cat <<BUNDLE > $BUILDKIT_SCAN_DESTINATION/spdx.json
	{
	  "_type": "https://in-toto.io/Statement/v0.1",
	  "predicateType": "https://spdx.dev/Document",
	  "predicate": {"name": "core"}
	}
	BUNDLE
	if [ "${BUILDKIT_SCAN_SOURCE_EXTRAS}" ]; then
		for src in "${BUILDKIT_SCAN_SOURCE_EXTRAS}"/*; do
			cat <<BUNDLE > $BUILDKIT_SCAN_DESTINATION/$(basename $src).spdx.json
			{
			  "_type": "https://in-toto.io/Statement/v0.1",
			  "predicateType": "https://spdx.dev/Document",
			  "predicate": {"name": "extra"}
			}
			BUNDLE
		done
	fi
EOF
CMD sh /scan.sh
D
  local scanner=$REGISTRY/buildkit/testsbomscannerargs:latest
  build -o "type=image,name=$scanner,push=true"
  # scan an image with no additional sboms
  printf '\nFROM scratch as base\nCOPY <<EOF /foo\ndata\nEOF\nFROM base\n' | dockerfile
  local target=$REGISTRY/buildkit/testsbomscannerargstarget1:latest
  build --attest "type=sbom,generator=$scanner" --build-arg BUILDKIT_SBOM_SCAN_CONTEXT=true \
    --build-arg BUILDKIT_SBOM_SCAN_STAGE=true -o "type=image,name=$target,push=true"
  attestation_layers "$target" | python3 -c '
import json, sys
layers = json.load(sys.stdin)
assert len(layers) == 1 and layers[0]["predicate"]["name"] == "core", layers
'
  dockerfile <<'D'

ARG BUILDKIT_SBOM_SCAN_CONTEXT=true

FROM scratch as file
ARG BUILDKIT_SBOM_SCAN_STAGE=true
COPY <<EOF /file
data
EOF

FROM scratch as base
ARG BUILDKIT_SBOM_SCAN_STAGE=true
COPY --from=file /file /foo

FROM scratch as base2
ARG BUILDKIT_SBOM_SCAN_STAGE=true
COPY --from=file /file /bar
RUN non-existent-command-would-fail

FROM base
ARG BUILDKIT_SBOM_SCAN_STAGE=true
D
  # scan an image with additional sboms
  target=$REGISTRY/buildkit/testsbomscannertarget2:latest
  build --attest "type=sbom,generator=$scanner" -o "type=image,name=$target,push=true"
  attestation_layers "$target" | python3 -c '
import json, sys
layers = json.load(sys.stdin)
assert len(layers) == 4, layers
names = sorted(l["predicate"]["name"] for l in layers)
assert names == ["core", "extra", "extra", "extra"], names
'
  # scan an image with additional sboms, but disable them
  target=$REGISTRY/buildkit/testsbomscannertarget3:latest
  build --attest "type=sbom,generator=$scanner" --build-arg BUILDKIT_SBOM_SCAN_STAGE=false \
    --build-arg BUILDKIT_SBOM_SCAN_CONTEXT=false -o "type=image,name=$target,push=true"
  attestation_layers "$target" | python3 -c '
import json, sys
assert len(json.load(sys.stdin)) == 1
'
}

testCgroupParent() {
  root_only "--cgroup-parent places containers in the host's cgroups"
  # The Go test needs cgroup v2; here the parent is made in the pids hierarchy of cgroup v1 when there is no v2.
  local name=test.$RANDOM$RANDOM dir
  if [ -e /sys/fs/cgroup/cgroup.subtree_control ]; then
    dir=/sys/fs/cgroup/$name
  else
    [ -d /sys/fs/cgroup/pids ] || skip "no pids controller (cgroup v1 or v2) on this machine"
    dir=/sys/fs/cgroup/pids/$name
  fi
  mkdir "$dir"
  # The runtime makes the parent in every hierarchy it uses; all of them go when the test ends.
  trap 'rmdir /sys/fs/cgroup/'"$name"' /sys/fs/cgroup/*/'"$name"' 2>/dev/null || true' RETURN
  echo 10 > "$dir/pids.max"
  dockerfile <<'D'

FROM alpine AS base
RUN mkdir /out; (for i in $(seq 1 10); do sleep 1 & done 2>/out/error); cat /proc/self/cgroup > /out/cgroup
FROM scratch
COPY --from=base /out /
D
  build_local --cgroup-parent "$name"
  # BuildKit's test asserts here that "foocgroup" is not in /proc/self/cgroup, a name it never uses, so that line
  # cannot fail. kiln gives no cgroup namespace; what it can show is where the step ran: under the parent.
  assert_contains "$(cat "$OUT/cgroup")" "/$name/"
  out_contains error "Resource temporarily unavailable"
}
