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

testAddGit() {
  bk_alpine_with_apk git
  local repo=$WORK/git-repo
  git_repo "$repo" v0.0.1 v0.0.2 v0.0.3
  local v2 v3
  v2=$(git -C "$repo" rev-parse v0.0.2)
  v3=$(git -C "$repo" rev-parse v0.0.3)
  http_files "$repo"
  cat > "$CTX/Dockerfile" <<D

FROM alpine

# Basic case
ADD $HTTP_URL/.git#v0.0.1 /x
RUN cd /x && \\
  [ "\$(cat foo)" = "foo of v0.0.1" ]

# Complicated case
ARG REPO="$HTTP_URL/.git"
ARG TAG="v0.0.2"
ADD --keep-git-dir=true --chown=4242:8484 --checksum=$v2 \${REPO}#\${TAG} /buildkit-chowned
RUN apk add git
USER 4242
RUN cd /buildkit-chowned && \\
  [ "\$(cat foo)" = "foo of v0.0.2" ] && \\
  [ "\$(stat -c %u foo)" = "4242" ] && \\
  [ "\$(stat -c %g foo)" = "8484" ] && \\
  [ -z "\$(git status -s)" ]
D
  build
  # Additional test: ADD from Git URL with checksum but without keep-git-dir flag
  cat > "$CTX/Dockerfile" <<D

FROM alpine
ARG REPO="$HTTP_URL/.git"
ARG TAG="v0.0.3"
ADD --checksum=$v3 \${REPO}#\${TAG} /nogitdir
RUN [ -f /nogitdir/foo ]
RUN [ "\$(cat /nogitdir/foo)" = "foo of v0.0.3" ]
RUN [ ! -d /nogitdir/.git ]
D
  build
  # access initial ref again that was already pulled
  cat > "$CTX/Dockerfile" <<D

		FROM alpine
		ARG REPO="$HTTP_URL/.git"
		ARG TAG="v0.0.2"
		ADD --keep-git-dir --checksum=$v2 \${REPO}#\${TAG} /nogitdir
		RUN [ -f /nogitdir/foo ]
		RUN [ "\$(cat /nogitdir/foo)" = "foo of v0.0.2" ]
		RUN [ -d /nogitdir/.git ]
		
D
  build
  # Additional test: ADD from Git URL using commitHashV3 for both checksum and ref
  cat > "$CTX/Dockerfile" <<D

	FROM alpine
	ARG REPO="$HTTP_URL/.git"
	ARG COMMIT="$v3"
	ADD --keep-git-dir=true --checksum=$v3 \${REPO}#\${COMMIT} /commitdir
	RUN [ -f /commitdir/foo ]
	RUN [ "\$(cat /commitdir/foo)" = "foo of v0.0.3" ]
	RUN [ -d /commitdir/.git ]
	
D
  build
  # checksum does not match
  cat > "$CTX/Dockerfile" <<D

	FROM alpine
	ARG REPO="$HTTP_URL/.git"
	ARG TAG="v0.0.3"
	ADD --checksum=$v2 \${REPO}#\${TAG} /faildir
	
D
  assert_contains "$(build_error)" "expected checksum to match"
  #  checksum is garbage
  cat > "$CTX/Dockerfile" <<D

	FROM alpine
	ARG REPO="$HTTP_URL/.git"
	ARG TAG="v0.0.3"
	ADD --checksum=foobar \${REPO}#\${TAG} /faildir
	
D
  local err
  err=$(build_error)
  assert_contains "$err" "invalid checksum"
  assert_contains "$err" "expected hex commit hash"
}

testGitQueryString() {
  local submod_dir=$WORK/submod git_dir=$WORK/gitrepo
  mkdir -p "$submod_dir" "$git_dir"
  (cd "$submod_dir" && git init -q && git config --local user.email test && git config --local user.name test &&
    echo 123 > file && git add file && git commit -qm initial && git update-server-info)
  http_files "$submod_dir"
  local submod_url=$HTTP_URL
  (cd "$git_dir" && git init -q && git config --local user.email test && git config --local user.name test && echo base > foo)
  cat > "$git_dir/Dockerfile" <<'D'

FROM scratch AS withgit
COPY .git/HEAD out
FROM scratch as withsubmod
COPY submod/file out
FROM scratch
COPY foo out
D
  (cd "$git_dir" &&
    git -c protocol.allow=always submodule --quiet add "$submod_url/.git" submod &&
    git add Dockerfile foo submod && git commit -qm initial && git tag v0.0.1 && git branch base &&
    echo feature > foo && mkdir sub && echo subfeature > sub/foo && cp Dockerfile sub/ &&
    git add foo sub && git commit -qm feature && git branch feature &&
    git checkout -q -B master base &&
    echo v0.0.2 > foo && git add foo && git commit -qm v0.0.2 && git tag v0.0.2 &&
    echo latest > foo && git add foo && git commit -qm latest && git tag latest &&
    git update-server-info)
  local v2 latest
  v2=$(git -C "$git_dir" rev-parse v0.0.2)
  latest=$(git -C "$git_dir" rev-parse latest)
  [ ${#v2} = 40 ] && [ "$v2" != "$latest" ] || fail "the repository's commits"
  http_files "$git_dir"
  local url=$HTTP_URL
  # name|url|target|expected out (or !error text)
  cat > "$WORK/cases" <<C
tag with invalid commit|$url/.git?tag=v0.0.2&commit=$latest||!expected checksum to match
old style ref|$url/.git#v0.0.2||v0.0.2
querystring ref|$url/.git?ref=base||base
querystring branch|$url/.git?branch=base||base
querystring invalid branch|$url/.git?branch=invalid||!repository does not contain ref
tag as branch|$url/.git?branch=v0.0.2||!repository does not contain ref
allowed mixed refs|$url/.git?tag=v0.0.2#refs/tags/v0.0.2||v0.0.2
v2 by commit|$url/.git?commit=$v2||v0.0.2
v2 by commit (wrong short)|$url/.git?commit=${v2:0:8}||!expected checksum to match
v2 by commit (short)|$url/.git?commit=${latest:0:8}||latest
v2 ref by commit|$url/.git?ref=$v2||v0.0.2
v2 ref by commit (short)|$url/.git?ref=${v2:0:8}||!repository does not contain ref
tag with commit|$url/.git?tag=v0.0.2&commit=$v2||v0.0.2
commit with commit|$url/.git?ref=$v2&commit=$v2||v0.0.2
latest with commit|$url/.git?commit=$latest||latest
mismatch refs|$url/.git?tag=v0.0.2#refs/heads/master||!ref conflicts
sub old-style|$url/.git#feature:sub||subfeature
sub query|$url/.git?subdir=sub&ref=feature||subfeature
withgit|$url/.git?keep-git-dir=true|withgit|$latest
withgitandtag|$url/.git?tag=v0.0.2&keep-git-dir=true|withgit|$v2
withgit-default|$url/.git|withgit|!.git/HEAD": not found
withgit-valueless|$url/.git?keep-git-dir&submodules|withgit|$latest
withgit-forbidden|$url/.git?keep-git-dir=false|withgit|!.git/HEAD": not found
withsubmod|$url/.git|withsubmod|123
withsubmodset|$url/.git?submodules=true|withsubmod|123
withsubmodempty|$url/.git?submodules|withsubmod|123
withoutsubmod|$url/.git?submodules=false|withsubmod|!submod/file": not found
C
  # BuildKit's list has "tag with invalid commit" a second time, after "latest with commit", expecting success:
  # its comment says that works only because the commit is then in its cache. kiln resolves the tag each time, so
  # that case is the first one's, and is not repeated.
  # check_case NAME EXPECTED OUTFILE STATUS: the build's result against the case's expectation.
  check_case() {
    if [ "${2:0:1}" = "!" ]; then
      [ "$4" != 0 ] || fail "$1: the build succeeded"
      assert_contains "$(cat "$WORK/build.log")" "${2:1}" "$1"
    else
      [ "$4" = 0 ] || { cat "$WORK/build.log"; fail "$1: the build failed"; }
      assert_eq "$(cat "$3")" "$2" "$1"
    fi
  }
  local name case_url target expected status
  while IFS='|' read -r name case_url target expected; do
    # context_NAME: the repository is the build context.
    rm -rf "$OUT"
    status=0
    kiln build --progress plain ${target:+--target "$target"} -o "type=local,dest=$OUT" "$case_url" > "$WORK/build.log" 2>&1 || status=$?
    check_case "context_$name" "$expected" "$OUT/out" "$status"
  done < "$WORK/cases"
  kiln prune -a > /dev/null
  while IFS='|' read -r name case_url target expected; do
    # add_NAME: ADD of the repository.
    cat > "$CTX/Dockerfile" <<D

FROM scratch AS main
ADD $case_url /repo/
FROM scratch as withsubmod
COPY --from=main /repo/submod/file /repo/foo
FROM scratch AS withgit
COPY --from=main /repo/.git/HEAD /repo/foo
FROM main
		
D
    rm -rf "$OUT"
    status=0
    kiln build --progress plain ${target:+--target "$target"} -o "type=local,dest=$OUT" "$CTX" > "$WORK/build.log" 2>&1 || status=$?
    check_case "add_$name" "$expected" "$OUT/repo/foo" "$status"
  done < "$WORK/cases"
}
