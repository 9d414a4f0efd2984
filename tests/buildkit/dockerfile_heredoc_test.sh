# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_heredoc_test.go (see lib.sh). Sourced by run.sh.

testCopyHeredoc() {
  dockerfile <<'D'

FROM busybox AS build

RUN adduser -D user
WORKDIR /dest

COPY <<EOF single
single file
EOF

COPY <<EOF <<EOF2 double/
first file
EOF
second file
EOF2

RUN mkdir -p /permfiles
COPY --chmod=777 <<EOF /permfiles/all
dummy content
EOF
COPY --chmod=0644 <<EOF /permfiles/rw
dummy content
EOF
COPY --chown=user:user <<EOF /permfiles/owned
dummy content
EOF
RUN stat -c "%04a" /permfiles/all >> perms && \
	stat -c "%04a" /permfiles/rw >> perms && \
	stat -c "%U:%G" /permfiles/owned >> perms

FROM scratch
COPY --from=build /dest /

D
  build_local
  out_equal single $'single file\n'
  out_equal double/EOF $'first file\n'
  out_equal double/EOF2 $'second file\n'
  out_equal perms $'0777\n0644\nuser:user\n'
}

testCopyHeredocSpecialSymbols() {
  dockerfile <<'D'

FROM scratch

COPY <<EOF quotefile
"quotes in file"
EOF

COPY <<EOF slashfile1
\
EOF
COPY <<EOF slashfile2
\\
EOF
COPY <<EOF slashfile3
\$
EOF

COPY <<"EOF" rawslashfile1
\
EOF
COPY <<"EOF" rawslashfile2
\\
EOF
COPY <<"EOF" rawslashfile3
\$
EOF

D
  build_local
  out_equal quotefile $'"quotes in file"\n'
  out_equal slashfile1 $'\n'
  out_equal slashfile2 $'\\\n'
  out_equal slashfile3 $'$\n'
  out_equal rawslashfile1 $'\\\n'
  out_equal rawslashfile2 $'\\\\\n'
  out_equal rawslashfile3 $'\\$\n'
}

testRunBasicHeredoc() {
  dockerfile <<'D'

FROM busybox AS build

RUN <<EOF
echo "i am" >> /dest
whoami >> /dest
EOF

FROM scratch
COPY --from=build /dest /dest

D
  build_local
  out_equal dest $'i am\nroot\n'
}

testRunFakeHeredoc() {
  dockerfile <<'D'

FROM busybox AS build

SHELL ["/bin/awk"]
RUN <<EOF
BEGIN {
	print "foo" > "/dest"
}
EOF

FROM scratch
COPY --from=build /dest /dest

D
  build_local
  out_equal dest $'foo\n'
}

testRunShebangHeredoc() {
  dockerfile <<'D'

FROM busybox AS build

RUN <<EOF
#!/bin/awk -f
BEGIN {
	print "hello" >> "/dest"
	print "world" >> "/dest"
}
EOF

FROM scratch
COPY --from=build /dest /dest

D
  build_local
  out_equal dest $'hello\nworld\n'
}

testRunComplexHeredoc() {
  dockerfile <<'D'

FROM busybox AS build

WORKDIR /dest

RUN cat <<EOF1 | tr '[:upper:]' '[:lower:]' > ./out1; \
	cat <<EOF2 | tr '[:lower:]' '[:upper:]' > ./out2
hello WORLD
EOF1
HELLO world
EOF2

RUN <<EOF 3<<IN1 4<<IN2 awk -f -
BEGIN {
	while ((getline line < "/proc/self/fd/3") > 0)
		print tolower(line) > "./fd3"
	while ((getline line < "/proc/self/fd/4") > 0)
		print toupper(line) > "./fd4"
}
EOF
hello WORLD
IN1
HELLO world
IN2

FROM scratch
COPY --from=build /dest /

D
  build_local
  out_equal out1 $'hello world\n'
  out_equal out2 $'HELLO WORLD\n'
  out_equal fd3 $'hello world\n'
  out_equal fd4 $'HELLO WORLD\n'
}

testHeredocIndent() {
  dockerfile <<'D'

FROM busybox AS build

COPY <<EOF /dest/foo-copy
	foo
EOF

COPY <<-EOF /dest/bar-copy
	bar
EOF

RUN <<EOF
echo "
	foo" > /dest/foo-run
EOF

RUN <<-EOF
echo "
	bar" > /dest/bar-run
EOF

RUN <<EOF
#!/bin/sh
echo "
	foo" > /dest/foo2-run
EOF

RUN <<-EOF
#!/bin/sh
echo "
	bar" > /dest/bar2-run
EOF

RUN <<EOF sh > /dest/foo3-run
echo "
	foo"
EOF

RUN <<-EOF sh > /dest/bar3-run
echo "
	bar"
EOF

FROM scratch
COPY --from=build /dest /

D
  build_local
  out_equal foo-copy $'\tfoo\n'
  out_equal foo-run $'\n\tfoo\n'
  out_equal foo2-run $'\n\tfoo\n'
  out_equal foo3-run $'\n\tfoo\n'
  out_equal bar-copy $'bar\n'
  out_equal bar-run $'\nbar\n'
  out_equal bar2-run $'\nbar\n'
  out_equal bar3-run $'\nbar\n'
}

testHeredocVarSubstitution() {
  dockerfile <<'D'

FROM busybox as build

ARG name=world

COPY <<EOF /dest/c1
Hello ${name}!
EOF
COPY <<'EOF' /dest/c2
Hello ${name}!
EOF
COPY <<"EOF" /dest/c3
Hello ${name}!
EOF

COPY <<EOF /dest/q1
Hello '${name}'!
EOF
COPY <<EOF /dest/q2
Hello "${name}"!
EOF
COPY <<'EOF' /dest/qsingle1
Hello '${name}'!
EOF
COPY <<'EOF' /dest/qsingle2
Hello "${name}"!
EOF
COPY <<"EOF" /dest/qdouble1
Hello '${name}'!
EOF
COPY <<"EOF" /dest/qdouble2
Hello "${name}"!
EOF

RUN <<EOF
greeting="Hello"
echo "${greeting} ${name}!" > /dest/r1
EOF
RUN <<EOF
name="new world"
echo "Hello ${name}!" > /dest/r2
EOF

FROM scratch
COPY --from=build /dest /

D
  build_local
  out_equal c1 $'Hello world!\n'
  out_equal c2 $'Hello ${name}!\n'
  out_equal c3 $'Hello ${name}!\n'
  out_equal q1 $'Hello \'world\'!\n'
  out_equal q2 $'Hello "world"!\n'
  out_equal qsingle1 $'Hello \'${name}\'!\n'
  out_equal qsingle2 $'Hello "${name}"!\n'
  out_equal qdouble1 $'Hello \'${name}\'!\n'
  out_equal qdouble2 $'Hello "${name}"!\n'
  out_equal r1 $'Hello world!\n'
  out_equal r2 $'Hello new world!\n'
}

testOnBuildHeredoc() {
  dockerfile <<'D'

FROM busybox
ONBUILD RUN <<EOF
echo "hello world" >> /dest
EOF

D
  start_registry
  local target=$REGISTRY/buildkit/testonbuildheredoc:latest
  build -o "type=image,name=$target,push=true"
  rm -rf "$KILN_ROOT"
  bk_images
  printf '\n\tFROM %s AS base\n\tFROM scratch\n\tCOPY --from=base /dest /dest\n\t' "$target" | dockerfile
  build_local
  out_equal dest $'hello world\n'
}
