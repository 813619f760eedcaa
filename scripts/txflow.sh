#!/bin/sh
# Starts one txflow process from dist with its Node/V8 flags and environment defaults: the one place they are
# written. npm's scripts (`npm run api`), the Dockerfile's entry point and the launchers (npm start, the cluster,
# chaos, bench, tests) all run this script, which `exec`s node: the process keeps its PID and gets the signals.
#   sh scripts/txflow.sh <api|worker|all-in-one|reconcile|mock> [arguments of the process]
set -eu

usage() {
  echo "usage: api | worker | all-in-one | reconcile [options] | mock (got: ${1:-nothing})" >&2
  exit 64
}

[ $# -gt 0 ] || usage
process=$1
shift
root=$(dirname "$0")/..

case "$process" in
  api | worker | all-in-one)
    # glibc gives each allocating thread its own malloc arena (up to 8 per core); the worker's dozen threads
    # held 20-40 MB freed but never returned. Two cut its peak RSS at no cost in throughput (decision 0011).
    # A value already set wins; empty counts as unset.
    MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
    export MALLOC_ARENA_MAX
    # V8 sizes its heap from the machine's memory and collects lazily below that: uncapped, each kept 100+ MB
    # of garbage under load; capped, each stays under 250 MB RSS through 10,000 transactions (decision 0012).
    # The all-in-one's API and worker share one heap with the same cap.
    set -- --max-old-space-size=128 --max-semi-space-size=4 "$root/dist/src/$process/main.js" "$@"
    ;;
  reconcile) set -- "$root/dist/src/reconcile/main.js" "$@" ;;
  # Development tooling (tools/mock), in its own image target.
  mock) set -- "$root/dist/tools/mock/main.js" "$@" ;;
  *) usage "$process" ;;
esac
# The entry point is the first argument that is not a flag of node's.
for main in "$@"; do case "$main" in --*) ;; *) break ;; esac done
if [ ! -f "$main" ]; then
  # The production image holds the product only; the mock is its own image (docker build --target mock).
  [ "$process" = mock ] && [ ! -d "$root/tools" ] && echo "the mock is not in this image: it is the Dockerfile's mock target (docker build --target mock)" >&2 && exit 1
  echo "$main is missing: run \`npm run build\` first" >&2
  exit 1
fi
# TXFLOW_NICE (0-19) is added to the niceness the process starts with; empty or unset: as started. A worker on a
# machine it shares with its Temporal server and API runs niced (npm start, decision 0028): it takes the CPU the
# others leave.
case "${TXFLOW_NICE:-}" in
  '') exec node "$@" ;;
  [0-9] | 1[0-9]) exec nice -n "$TXFLOW_NICE" node "$@" ;;
  *) echo "TXFLOW_NICE must be an integer from 0 to 19 (got: $TXFLOW_NICE)" >&2 && exit 64 ;;
esac
