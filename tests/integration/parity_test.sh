#!/usr/bin/env bash
# Parity with BuildKit: each case under tests/parity/cases is built by kiln and compared, file by file and config
# by config, with what a current BuildKit built from it (tests/parity/golden, recorded by tests/parity/record.sh).
source "$(dirname "$0")/lib.sh"
PARITY=$(cd "$(dirname "$0")/../parity" && pwd)
parity_base_rootfs "$WORK/base.tar"
kiln import "$WORK/base.tar" busybox:anchor >/dev/null

failed=()
count=0
for golden in "$PARITY"/golden/*/; do
  name=$(basename "$golden")
  ctx=$WORK/cases/$name
  mkdir -p "$WORK/cases" && cp -a "$PARITY/cases/$name" "$ctx"
  parity_prepare "$ctx"
  for base in $(parity_bases "$ctx"); do
    kiln build -q -t "${base%%=*}" -f "$ctx/${base#*=}/Dockerfile" "$ctx" >/dev/null || fail "$name: the base ${base%%=*} failed"
  done
  parity_serve "$ctx"
  give_to_test_user -R "$ctx"  # a context is its builder's (some of its files are 0600)
  read -ra flags <<<"$(parity_args "$ctx")"
  for i in "${!flags[@]}"; do  # a named context's directory is relative to the case
    [ "$i" -gt 0 ] && [ "${flags[i-1]}" = --build-context ] && flags[i]=${flags[i]%%=*}=$ctx/${flags[i]#*=}
  done
  [ -z "$PARITY_SERVER" ] || flags+=(--build-arg "SERVER=$PARITY_SERVER")
  out=$WORK/out/$name
  as_test_user mkdir -p "$out/tree"
  count=$((count + 1))
  built=true
  kiln build -q "${flags[@]}" -t "parity-$name" -o "type=local,dest=$out/tree" "$ctx" >"$out/log" 2>&1 || built=false
  parity_stop_serving
  if ! $built; then
    echo "$name: kiln failed:"; cat "$out/log"; failed+=("$name"); continue
  fi
  kiln inspect "parity-$name" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["config"]))' | parity_config "$PARITY_SERVER" > "$out/config.json"
  if diff "$golden/tree.txt" <(parity_tree "$out/tree") > "$out/tree.diff" &&
     diff "$golden/config.json" "$out/config.json" > "$out/config.diff"; then
    echo "$name: same as BuildKit"
  else
    echo "$name: DIFFERENT (< BuildKit, > kiln)"
    cat "$out/tree.diff" "$out/config.diff" 2>/dev/null | head -40 || true
    failed+=("$name")
  fi
done
[ "$count" -gt 0 ] || fail "no golden parity results in $PARITY/golden"
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} of $count parity cases differ from BuildKit: ${failed[*]}"
echo "PASS: $count parity cases match BuildKit"
