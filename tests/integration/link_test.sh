#!/usr/bin/env bash
# COPY --link: when the image below changes, the copy is not run again, and its layer is the same blob in both
# images (rebased, as BuildKit's MergeOp does); --chown by name is refused with the line.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx/app"
head -c 100000 /dev/urandom > "$ctx/app/data.bin"
cat > "$ctx/Dockerfile" <<'EOF2'
FROM busybox:test
ARG BASE_VERSION=1
RUN echo "$BASE_VERSION" > /base-version
COPY --link app /app/
CMD ["cat", "/base-version"]
EOF2
layers() { kiln inspect "$1" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["config"]["rootfs"]["diff_ids"]))'; }

kiln build -q -t link:1 "$ctx" >/dev/null
out=$(kiln build --progress plain --build-arg BASE_VERSION=2 -t link:2 "$ctx" 2>&1) || fail "rebuild failed:"$'\n'"$out"
copy_step=$(grep -m1 -E '^#[0-9]+ \[stage-0 4/5\] COPY --link' <<<"$out" | cut -d' ' -f1)
[ -n "$copy_step" ] || fail "no COPY --link step in:"$'\n'"$out"
grep -q "^$copy_step CACHED" <<<"$out" || fail "the linked copy ran again though only the image below it changed:"$'\n'"$out"
assert_eq "$(kiln run --rm link:2)" "2" "the rebased image's base"
kiln run --rm link:2 cmp /app/data.bin /app/data.bin >/dev/null || fail "the linked file is not there"
last1=$(layers link:1 | awk '{print $NF}')
last2=$(layers link:2 | awk '{print $NF}')
assert_eq "$last2" "$last1" "the linked layer's diff id after a rebase"
[ "$(layers link:1 | awk '{print $(NF-1)}')" != "$(layers link:2 | awk '{print $(NF-1)}')" ] || fail "the RUN layers should differ"

printf 'FROM busybox:test\nCOPY --link --chown=app app /app/\n' > "$ctx/Dockerfile.names"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.names" "$ctx")
assert_contains "$err" "Dockerfile.names:2:13: COPY --link --chown=app: a linked layer has no /etc/passwd"
echo "PASS"
