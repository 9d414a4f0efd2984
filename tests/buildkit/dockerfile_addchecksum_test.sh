# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_addchecksum_test.go (see lib.sh). Sourced by run.sh.

testAddChecksum() {
  local files=$WORK/files-$$
  mkdir -p "$files"
  printf content1 > "$files/foo"
  http_files "$files"
  local sum hex
  sum=sha256:$(printf content1 | sha256sum | cut -d' ' -f1)
  hex=${sum#sha256:}
  echo "Valid"
  printf '\nFROM scratch\nADD --checksum=%s %s /tmp/foo\n' "$sum" "$HTTP_URL/foo" | dockerfile
  build
  echo "DigestFromEnv"
  printf '\nFROM scratch\nENV DIGEST=%s\nENV LINK=%s\nADD --checksum=${DIGEST} ${LINK} /tmp/foo\n' "$sum" "$HTTP_URL/foo" | dockerfile
  build
  echo "DigestMismatch"
  printf '\nFROM scratch\nADD --checksum=%s %s /tmp/foo\n' "sha256:$(printf '' | sha256sum | cut -d' ' -f1)" "$HTTP_URL/foo" | dockerfile
  build_error >/dev/null
  echo "DigestWithKnownButUnsupportedAlgoName"
  printf '\nFROM scratch\nADD --checksum=md5:7e55db001d319a94b0b713529a756623 %s /tmp/foo\n' "$HTTP_URL/foo" | dockerfile
  build_error >/dev/null
  echo "DigestWithUnknownAlgoName"
  printf '\nFROM scratch\nADD --checksum=unknown:%s %s /tmp/foo\n' "$hex" "$HTTP_URL/foo" | dockerfile
  build_error >/dev/null
  echo "DigestWithoutAlgoName"
  printf '\nFROM scratch\nADD --checksum=%s %s /tmp/foo\n' "$hex" "$HTTP_URL/foo" | dockerfile
  build_error >/dev/null
  echo "NonHTTPSource"
  printf 'local file' | ctx_file foo 0600
  printf '\nFROM scratch\nADD --checksum=%s foo /tmp/foo\n' "sha256:$(printf 'local file' | sha256sum | cut -d' ' -f1)" | dockerfile
  build_error >/dev/null
}
