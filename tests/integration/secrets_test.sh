#!/usr/bin/env bash
# RUN --mount=type=secret: the step sees the secret (as a file or an environment variable), and its value never
# reaches a layer, the image config or history, the cache, the store, an export or the build's output.
source "$(dirname "$0")/lib.sh"
import_busybox

file_secret='file-secret-Zq8xW3vP'
env_secret='env-secret-Kd93LmQa'
printf '%s' "$file_secret" > "$WORK/token.txt"
export KILN_TEST_ENV_SECRET=$env_secret

ctx=$WORK/ctx
mkdir -p "$ctx"
# The Dockerfile holds checksums of the values, not the values.
file_sum=$(printf '%s' "$file_secret" | md5sum | cut -c1-32)
env_sum=$(printf '%s' "$env_secret" | md5sum | cut -c1-32)
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM busybox:test
ARG SECRET_ID=token
RUN --mount=type=secret,id=\$SECRET_ID test "\$(md5sum < /run/secrets/token | cut -c1-32)" = $file_sum && echo "file secret ok"
RUN --mount=type=secret,id=token,target=/root/.config/tok,mode=0440,uid=1000 \\
    stat -c '%a %u' /root/.config/tok > /mode && cat /root/.config/tok && echo
RUN --mount=type=secret,id=api,env=API_KEY test "\$(printf %s "\$API_KEY" | md5sum | cut -c1-32)" = $env_sum && echo "printed: \$API_KEY" && echo "env secret ok"
RUN --mount=type=secret,id=absent echo "an absent optional secret is fine" && test ! -e /run/secrets/absent
CMD ["cat", "/mode"]
DOCKERFILE

out=$(kiln build --progress plain --secret id=token,src="$WORK/token.txt" --secret id=api,env=KILN_TEST_ENV_SECRET \
      -t secret:1 -o type=oci,dest="$WORK/secret.tar" "$ctx" 2>&1) || fail "build with secrets failed:"$'\n'"$out"
assert_contains "$out" "file secret ok"
assert_contains "$out" "env secret ok"
assert_contains "$out" "printed: ****" "a printed secret is masked"
assert_contains "$out" "RUN --mount=type=secret,id=token test" "the step's name shows its flags, expanded"
assert_not_contains "$out" "$file_secret" "the file secret in the build output"
assert_not_contains "$out" "$env_secret" "the env secret in the build output"
assert_eq "$(kiln run --rm secret:1)" "440 1000" "secret file mode and owner"

# No trace of the mount points in the image: /run/secrets and /root/.config were made by the runtime only.
assert_eq "$(kiln run --rm secret:1 sh -c 'ls -a /run /root')" "$(kiln run --rm busybox:test sh -c 'ls -a /run /root')" \
  "mount points left in the image"

# Nowhere in the store (blobs uncompressed, SQLite, snapshots) or the exported archive.
scan=$WORK/scan
mkdir -p "$scan"
tar -xf "$WORK/secret.tar" -C "$scan"
for blob in "$scan"/blobs/sha256/* "$KILN_ROOT"/content/blobs/sha256/*; do
  [ -f "$blob" ] || continue
  if gzip -t "$blob" 2>/dev/null; then zcat "$blob"; else cat "$blob"; fi
done > "$WORK/all-blobs"
for s in "$file_secret" "$env_secret"; do
  ! grep -qF "$s" "$WORK/all-blobs" || fail "secret found in an image blob"
  ! grep -rqF "$s" "$KILN_ROOT" || fail "secret found under the data root: $(grep -rlF "$s" "$KILN_ROOT")"
done
history=$(kiln history secret:1)
assert_not_contains "$history" "$file_secret"

# The secret's value is not part of the cache key: a new value still hits the cache, as in BuildKit.
printf 'rotated-value' > "$WORK/token2.txt"
out=$(kiln build --progress plain --secret id=token,src="$WORK/token2.txt" --secret id=api,env=KILN_TEST_ENV_SECRET \
      -t secret:2 "$ctx" 2>&1) || fail "rebuild failed:"$'\n'"$out"
! grep -qE '^#[0-9]+ [0-9.]+ file secret ok' <<<"$out" || fail "the cached step ran again:"$'\n'"$out"

# A required secret that is missing stops the build, naming it; bad --secret and --mount values are errors.
printf 'FROM busybox:test\nRUN --mount=type=secret,id=needed,required true\n' > "$ctx/Dockerfile.required"
err=$(must_fail kiln build -f "$ctx/Dockerfile.required" "$ctx")
assert_contains "$err" 'secret needed: not found: it is required; pass it with --secret id=needed'
err=$(must_fail kiln build --secret src=/nonexistent "$ctx")
assert_contains "$err" "--secret: id= is required"
err=$(must_fail kiln build --secret id=x,src=/nonexistent/file "$ctx")
assert_contains "$err" "secret x: cannot read /nonexistent/file"
printf 'FROM busybox:test\nRUN --mount=type=secret,id=x,mode=9z true\n' > "$ctx/Dockerfile.badmode"
err=$(must_fail kiln build -f "$ctx/Dockerfile.badmode" "$ctx")
assert_contains "$err" "Dockerfile.badmode:2"
assert_contains "$err" "mode: bad number"
printf 'FROM busybox:test\nRUN --mount=type=secret,id=x,from=stage true\n' > "$ctx/Dockerfile.from"
err=$(must_fail kiln build -f "$ctx/Dockerfile.from" "$ctx")
assert_contains "$err" "a secret mount has no from"
echo PASS
