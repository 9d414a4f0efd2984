# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_outline_test.go (see lib.sh): the frontend.outline
# subrequest is `kiln build --call outline --format json`, whose answer has BuildKit's shape (sources, and
# locations as a source index and line ranges). Sourced by run.sh.

# outline_json ARGS...: the outline of $CTX as JSON, in $WORK/outline.json.
outline_json() { kiln build --call outline --format json "$@" "$CTX" > "$WORK/outline.json" || fail "the outline failed"; }

testOutlineArgs() {
  dockerfile <<'D'

ARG inherited=box
ARG inherited2=box2
ARG unused=abc${inherited2}
# sfx is a suffix
ARG sfx="usy${inherited}"

FROM b${sfx} AS first
# this is not assigned to anything
ARG FOO=123
# BAR is a number
ARG BAR=456
RUN true

FROM alpine${unused} AS second
ARG BAZ
RUN true

FROM scratch AS third
ARG ABC=a

# target defines build target
FROM third AS target
COPY --from=first /etc/passwd /

FROM second
D
  outline_json --build-arg BAR=678 --target target
  python3 - "$WORK/outline.json" "$CTX/Dockerfile" <<'PY'
import base64, json, sys
o = json.load(open(sys.argv[1]))
assert o["name"] == "target", o
assert o["description"] == "defines build target", o
assert len(o["sources"]) == 1 and base64.b64decode(o["sources"][0]) == open(sys.argv[2], "rb").read()
args = o["args"]
assert len(args) == 5, args
def check(a, name, value, description, line=None):
    assert a["name"] == name and a.get("value", "") == value and a.get("description", "") == description, a
    if line is not None:
        assert a["location"]["sourceIndex"] == 0 and a["location"]["ranges"][0]["start"]["line"] == line, a
check(args[0], "inherited", "box", "", 2)
check(args[1], "sfx", "usybox", "is a suffix", 6)
check(args[2], "FOO", "123", "", 10)
check(args[3], "BAR", "678", "is a number")
check(args[4], "ABC", "a", "")
PY
}

testOutlineSecrets() {
  dockerfile <<'D'

FROM busybox AS first
RUN --mount=type=secret,target=/etc/passwd,required=true --mount=type=ssh true

FROM alpine AS second
RUN --mount=type=secret,id=unused --mount=type=ssh,id=ssh2 true

FROM scratch AS third
ARG BAR
RUN --mount=type=secret,id=second${BAR} true

FROM third AS target
COPY --from=first /foo /
RUN --mount=type=ssh,id=ssh3,required true

FROM second
D
  outline_json --build-arg BAR=678 --target target
  python3 - "$WORK/outline.json" "$CTX/Dockerfile" <<'PY'
import base64, json, sys
o = json.load(open(sys.argv[1]))
assert base64.b64decode(o["sources"][0]) == open(sys.argv[2], "rb").read()
def check(m, name, required, line):
    assert m["name"] == name and m.get("required", False) == required, m
    assert m["location"]["sourceIndex"] == 0 and m["location"]["ranges"][0]["start"]["line"] == line, m
assert len(o["secrets"]) == 2, o["secrets"]
check(o["secrets"][0], "passwd", True, 3)
check(o["secrets"][1], "second678", False, 10)
assert len(o["ssh"]) == 2, o["ssh"]
check(o["ssh"][0], "default", False, 3)
check(o["ssh"][1], "ssh3", True, 14)
PY
}

testOutlineRecursiveArgs() {
  dockerfile <<'D'
ARG FOO=123
ARG ABC=abc
ARG DEF=def
ARG FOO=${FOO}${ABC}
ARG BAR=${FOO}456
ARG FOO=${FOO}456${BAR}
FROM scratch
ARG FOO
ARG INFOO=123
ARG INBAR=${INFOO}456
ARG INFOO=${INFOO}456${INBAR}
D
  outline_json
  python3 - "$WORK/outline.json" <<'PY'
import json, sys
args = json.load(open(sys.argv[1]))["args"]
got = [(a["name"], a.get("value", "")) for a in args]
assert got == [("ABC", "abc"), ("BAR", "123abc456"), ("FOO", "123abc456123abc456"), ("INBAR", "123456"),
               ("INFOO", "123456123456")], got
PY
}
