# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_addgit_test.go (see lib.sh). Sourced by run.sh.

testAddGitChecksumCache() {
  local repo=$WORK/git-$$
  git_repo "$repo" v0.0.1 v0.0.2
  local hash
  hash=$(git -C "$repo" rev-parse v0.0.2)
  http_files "$repo"
  # First build: without checksum, from tag, generate unique.txt from /dev/urandom and copy to scratch
  printf '\nFROM alpine AS src\nADD --keep-git-dir %s/.git#v0.0.2 /repo\nRUN head -c 16 /dev/urandom | base64 > /repo/unique.txt\nFROM scratch\nCOPY --from=src /repo/unique.txt /\n' "$HTTP_URL" | dockerfile
  build_local
  local unique1
  unique1=$(cat "$OUT/unique.txt")
  # Second build: with checksum, should match cache even though this one sets commitHash and get same unique.txt
  printf '\nFROM alpine AS src\nADD --keep-git-dir --checksum=%s %s/.git#v0.0.2 /repo\nRUN head -c 16 /dev/urandom | base64 > /repo/unique.txt\nFROM scratch\nCOPY --from=src /repo/unique.txt /\n' "$hash" "$HTTP_URL" | dockerfile
  rm -rf "$OUT"
  build_local
  assert_eq "$(cat "$OUT/unique.txt")" "$unique1" "cache should be matched and unique file content should be the same"
}
