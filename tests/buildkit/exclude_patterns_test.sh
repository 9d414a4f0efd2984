# Ported from BuildKit v0.24.0 frontend/dockerfile/exclude_patterns_test.go (see lib.sh). Sourced by run.sh.

testExcludedFilesOnCopy() {
  mkdir -p "$CTX/dir1" "$CTX/dir2" "$CTX/dir3"
  local f
  for f in dir1/file-101.png:2 dir1/file-102.txt:3 dir1/file-103.jpeg:4 dir2/file-201.pdf:6 dir2/file-202.jpeg:7 \
           dir2/file-203.png:8 dir3/file-301.mp3:9 dir3/file-302.mpeg:10; do
    printf '%s' "${f#*:}" | ctx_file "${f%%:*}" 0600
  done
  check_excluded() {
    while read -r name excluded content; do
      if [ "$excluded" = true ]; then
        out_missing "$name"
      else
        out_equal "$name" "$content"
      fi
    done <<'CASES'
builder1/1/dir1/file-101.png true -
builder1/1/dir1/file-102.txt false 3
builder1/1/dir1/file-103.jpeg true -
builder1/1/dir2/file-201.pdf false 6
builder1/1/dir2/file-202.jpeg true -
builder1/1/dir2/file-203.png true -
builder1/1/dir3/file-301.mp3 false 9
builder1/1/dir3/file-302.mpeg false 10
builder2/2/dir1/file-101.png false 2
builder2/2/dir1/file-102.txt true -
builder2/2/dir1/file-103.jpeg false 4
builder2/2/dir2/file-201.pdf true -
builder2/2/dir2/file-202.jpeg false 7
builder2/2/dir2/file-203.png false 8
builder2/2/dir3/file-301.mp3 false 9
builder2/2/dir3/file-302.mpeg false 10
builder3/3/file-301.mp3 true -
builder3/3/file-302.mpeg false 10
builder4/4/file-101.png true -
builder4/4/file-102.txt true -
builder4/4/file-103.jpeg true -
builder4/4/file-201.pdf true -
builder4/4/file-202.jpeg true -
builder4/4/file-203.png true -
builder4/4/file-301.mp3 true -
builder4/4/file-301.mp3 true -
builder4/4/file-302.mpeg false 10
builder5/5/file-101.png true -
builder5/5/file-102.txt false 3
builder5/5/file-103.jpeg true -
builder5/5/file-201.pdf true -
builder5/5/file-202.jpeg true -
builder5/5/file-203.png true -
builder5/5/file-301.mp3 true -
builder5/5/file-301.mp3 true -
builder5/5/file-302.mpeg true -
CASES
    # As all files are excluded, the directory must be empty
    [ -d "$OUT/builder6/6" ] && [ -z "$(ls -A "$OUT/builder6/6")" ] || fail "builder6/6 is not an empty directory"
  }
  # First, from a plain directory (the Dockerfile lives elsewhere, as in the Go test).
  local dfdir=$WORK/df-$$
  mkdir -p "$dfdir"
  cat > "$dfdir/Dockerfile" <<'D'

# ignore all the image files
FROM scratch as builder1
COPY --exclude=*/*.png --exclude=*/*.jpeg . /1

# ignore all document files
FROM scratch as builder2
COPY --exclude=*/*.pdf --exclude=*/*.txt . /2

# ignore all mp3 files
FROM scratch as builder3
ADD --exclude=*.mp3 dir3/ /3/

# Ignore everything, keeping only .mpeg files, using src as a wildcard.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder4
COPY --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/

# Ignore everything, keeping only txt files.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder5
ADD --exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5

# Exclude all files. No idea how it could be useful, but it should not be forbidden.
FROM scratch as builder6
ADD --exclude=* dir* /6

FROM scratch
COPY --from=builder1 / /builder1
COPY --from=builder2 / /builder2
COPY --from=builder3 / /builder3
COPY --from=builder4 / /builder4
COPY --from=builder5 / /builder5
COPY --from=builder6 / /builder6

D
  build_local -f "$dfdir/Dockerfile"
  check_excluded
  # Then from a git repository served over HTTP on 127.0.0.1, through ADD.
  (cd "$CTX" && git init -q && git config --local user.email test && git config --local user.name test &&
    git add ./* && git commit -qm 0.1 && git tag 0.1 && git update-server-info)
  local port
  port=$(free_port)
  python3 -m http.server --bind 127.0.0.1 --directory "$CTX" "$port" >/dev/null 2>&1 &
  REGISTRY_PIDS+=($!)
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  sed "s#SERVER_URL#http://127.0.0.1:$port#" > "$dfdir/Dockerfile" <<'D'

FROM scratch AS base
ARG REPO="SERVER_URL/.git"
ARG TAG="0.1"
ADD --keep-git-dir=true ${REPO}#${TAG} /

# ignore all the image files
FROM scratch as builder1
COPY --from=base --exclude=*/*.png --exclude=*/*.jpeg . /1

# ignore all document files
FROM scratch as builder2
COPY --from=base --exclude=*/*.pdf --exclude=*/*.txt . /2

# ignore all mp3 files
FROM scratch as builder3
COPY --from=base --exclude=*.mp3 dir3/ /3/

# Ignore everything, keeping only .mpeg files, using src as a wildcard.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder4
COPY --from=base --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/

# Ignore everything, keeping only txt files.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder5
COPY --from=base --exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5

# Exclude all files. No idea how it could be useful, but it should not be forbidden.
FROM scratch as builder6
COPY --from=base --exclude=* dir* /6

FROM scratch
COPY --from=builder1 / /builder1
COPY --from=builder2 / /builder2
COPY --from=builder3 / /builder3
COPY --from=builder4 / /builder4
COPY --from=builder5 / /builder5
COPY --from=builder6 / /builder6

D
  rm -rf "$OUT"
  kiln build --progress plain -o "type=local,dest=$OUT" -f "$dfdir/Dockerfile" "$dfdir" > "$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log"; fail "the build from git failed"; }
  check_excluded
}
