# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_chmod_non_octal_test.go (see lib.sh). Sourced by run.sh.

testChmodNonOctal() {
  local expected="" copies="" verify="" tc src dst mode is_dir
  for tc in "file f1 go-w 0" "file f2 u=rw,g=r,o=r 0" "file f3 a+X 0" \
            "dir d1 go-w 1" "dir d2 u+rw,g+r,o-x,o+w 1" "dir d3 a+X 1"; do
    read -r src dst mode is_dir <<<"$tc"
    if [ "$is_dir" = 1 ]; then
      # a nested input dir, because COPY copies a directory's contents
      expected+="RUN mkdir -p /input/dirs/$dst && cp -a /input/$src /input/dirs/$dst/$dst"$'\n'
      expected+="RUN cp -a /input/dirs/$dst/. /expected/ && chmod $mode /expected/$dst"$'\n'
      copies+="COPY --from=base --chmod=$mode /input/dirs/$dst /"$'\n'
    else
      expected+="RUN cp -a /input/$src /expected/$dst && chmod $mode /expected/$dst"$'\n'
      copies+="COPY --from=base --chmod=$mode /input/$src /$dst"$'\n'
    fi
    verify+="RUN [ \"\$(stat -c %A /actual/$dst)\" = \"\$(stat -c %A /expected/$dst)\" ]"$'\n'
  done
  dockerfile <<D

FROM alpine as base
RUN <<eot
	set -ex
	mkdir /input
	touch /input/file
	chmod 666 /input/file
	mkdir /input/dir
	chmod 124 /input/dir
	mkdir /expected
eot
$expected

FROM scratch as result
$copies

FROM base
COPY --from=result / /actual/
$verify

D
  build
}
