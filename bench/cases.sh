# The two build cases bench/rootless.sh and bench/snapshotters.sh compare on: small (COPY + RUN that chowns) and
# runs40 (forty RUN steps), both FROM busybox:bench. Sourced.

# make_cases DIR: DIR/small and DIR/runs40, each a build context.
make_cases() {
  mkdir -p "$1/small" "$1/runs40"
  echo hello > "$1/small/app.txt"
  printf 'FROM busybox:bench\nCOPY app.txt /app/\nRUN cat /app/app.txt > /app/copy && chown -R 1000:1000 /app\n' \
    > "$1/small/Dockerfile"
  echo 0 > "$1/runs40/seed"
  { echo "FROM busybox:bench"; echo "COPY seed /seed"; for i in $(seq 40); do echo "RUN echo $i >> /steps"; done; } \
    > "$1/runs40/Dockerfile"
}

# changed_file DIR CASE: the context file a "changed" build changes.
changed_file() { echo "$1/$2/$([ "$2" = small ] && echo app.txt || echo seed)"; }
