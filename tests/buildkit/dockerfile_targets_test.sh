# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_targets_test.go (see lib.sh): the frontend.targets
# subrequest is `kiln build --call targets --format json`, whose answer has BuildKit's shape. Sourced by run.sh.

testTargetsList() {
  dockerfile <<'D'

# build defines stage for compiling the binary
FROM alpine AS build
RUN true

FROM busybox as second
RUN false

FROM alpine
RUN false

# binary returns the compiled binary
FROM second AS binary
D
  kiln build --call targets --format json "$CTX" > "$WORK/targets.json" || fail "the targets call failed"
  python3 - "$WORK/targets.json" "$CTX/Dockerfile" <<'PY'
import base64, json, sys
l = json.load(open(sys.argv[1]))
assert len(l["sources"]) == 1 and base64.b64decode(l["sources"][0]) == open(sys.argv[2], "rb").read()
t = l["targets"]
assert len(t) == 4, t
def check(x, name, base, description, default, line):
    assert x.get("name", "") == name and x.get("description", "") == description and x.get("default", False) == default, x
    if base is not None: assert x.get("base") == base, x
    assert x["location"]["sourceIndex"] == 0 and x["location"]["ranges"][0]["start"]["line"] == line, x
check(t[0], "build", "alpine", "defines stage for compiling the binary", False, 3)
check(t[1], "second", "busybox", "", False, 6)
check(t[2], "", "alpine", "", False, 9)
check(t[3], "binary", None, "returns the compiled binary", True, 13)
PY
}
