#!/usr/bin/env bash
# RUN --device with CDI specs (BuildKit's dockerfile:1-labs): a device's environment, device nodes and mounts reach
# the step; a device needs --allow device unless its spec allows it; a required device that no spec names fails.
source "$(dirname "$0")/lib.sh"
root_only "device nodes are made by the runtime as root"
import_busybox

export KILN_CDI_SPEC_DIRS=$WORK/cdi
mkdir -p "$KILN_CDI_SPEC_DIRS"
echo "from the vendor" > "$WORK/vendor.txt"
cat > "$KILN_CDI_SPEC_DIRS/acme.yaml" <<Y
cdiVersion: "0.6.0"
kind: acme.example/sensor
devices:
- name: one
  containerEdits:
    env: [SENSOR=one]
    deviceNodes:
    - path: /dev/acme-sensor
      hostPath: /dev/null
    mounts:
    - hostPath: $WORK/vendor.txt
      containerPath: /opt/acme/info
      options: [ro, bind]
Y
ctx=$WORK/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'D'
FROM busybox:test
RUN --device=acme.example/sensor=one,required \
    echo "$SENSOR" > /env && echo written > /dev/acme-sensor && test -c /dev/acme-sensor && cat /opt/acme/info > /info
D
err=$(must_fail kiln build -q "$ctx")
assert_contains "$err" "device acme.example/sensor=one is not allowed: kiln build --allow device"
kiln build -q --allow device -t dev:1 "$ctx" > /dev/null || fail "a build with a CDI device failed"
assert_eq "$(kiln run --rm dev:1 cat /env)" "one" "the device's environment"
assert_eq "$(kiln run --rm dev:1 cat /info)" "from the vendor" "the device's mount"
kiln run --rm dev:1 sh -c '! test -e /dev/acme-sensor' || fail "the device node must not stay in the image"

sed -i 's/sensor=one,required/sensor=two,required/' "$ctx/Dockerfile"
err=$(must_fail kiln build -q --allow device "$ctx")
assert_contains "$err" "device acme.example/sensor=two is required but no CDI spec names it"
echo "PASS"
