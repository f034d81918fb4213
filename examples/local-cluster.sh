#!/usr/bin/env bash
# Starts a local 3-node ActorGrid cluster on this machine and keeps it in the foreground.
#
#   examples/local-cluster.sh              # build (incremental) + start; Ctrl-C leaves gracefully
#   examples/local-cluster.sh --no-build   # use the existing Release build
#   examples/local-cluster.sh --clean      # wipe .local-cluster/data first (a fresh cluster)
#
# Nodes share one SQLite journal (.local-cluster/data, WAL mode), use remoting ports 4053-4055 and HTTP
# ports 5080-5082; nodes 2 and 3 join through node 1. Logs: .local-cluster/node-N.log.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$repo/.local-cluster"
configuration="${CONFIGURATION:-Release}"
dll="$repo/src/ActorGrid.Node/bin/$configuration/net10.0/ActorGrid.Node.dll"
ready_timeout="${READY_TIMEOUT:-90}"
build=1

for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --clean) rm -rf "$state/data" ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "local-cluster: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

for port in 4053 4054 4055 5080 5081 5082; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "local-cluster: port $port is already in use (another cluster running?)" >&2
    exit 1
  fi
done

if [[ $build == 1 ]]; then
  echo "Building the node ($configuration)..."
  dotnet build "$repo/src/ActorGrid.Node" -c "$configuration" --nologo -v quiet -clp:ErrorsOnly
elif [[ ! -f $dll ]]; then
  echo "local-cluster: $dll does not exist; run without --no-build" >&2
  exit 1
fi

mkdir -p "$state/data"
pids=()

stop_all() {
  trap - INT TERM EXIT
  if ((${#pids[@]} == 0)); then return; fi
  echo
  echo "Stopping: SIGTERM to ${pids[*]} (graceful leave, shards hand off)..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "node $pid did not stop within 60 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    local rc=0
    wait "$pid" 2>/dev/null || rc=$?
    echo "  node pid $pid exited with code $rc"
  done
  pids=()
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

for n in 1 2 3; do
  args=(--port $((4052 + n)) --http "http://127.0.0.1:$((5079 + n))" --resp $((6378 + n)) --data "$state/data")
  if ((n > 1)); then args+=(--seed 127.0.0.1:4053); fi
  # Each node runs from the state folder, so nothing lands in the source tree.
  (cd "$state" && exec dotnet "$dll" "${args[@]}") >"$state/node-$n.log" 2>&1 &
  pids+=($!)
  echo "node $n: pid ${pids[-1]}, http://127.0.0.1:$((5079 + n)), redis 127.0.0.1:$((6378 + n)), remoting 127.0.0.1:$((4052 + n)), log $state/node-$n.log"
done

up_members() { curl -fsS --max-time 2 "http://127.0.0.1:$1/cluster" 2>/dev/null | grep -o '"status":"Up"' | wc -l; }

echo "Waiting for all three nodes to see 3 Up members (up to ${ready_timeout}s)..."
deadline=$((SECONDS + ready_timeout))
while :; do
  ready=0
  for n in 1 2 3; do
    if ! kill -0 "${pids[n - 1]}" 2>/dev/null; then
      echo "local-cluster: node $n exited during start; last lines of its log:" >&2
      tail -n 20 "$state/node-$n.log" >&2
      exit 1
    fi
    if (($(up_members $((5079 + n))) == 3)); then ready=$((ready + 1)); fi
  done
  ((ready == 3)) && break
  if ((SECONDS >= deadline)); then
    echo "local-cluster: the cluster did not form within ${ready_timeout}s; see $state/node-*.log" >&2
    exit 1
  fi
  sleep 0.5
done

cat <<INFO

ActorGrid local cluster is up (3 members):
  http://127.0.0.1:5080   http://127.0.0.1:5081   http://127.0.0.1:5082
  Redis protocol on 6379, 6380, 6381
Try:
  curl -s http://127.0.0.1:5081/cluster
  redis-cli -p 6380 SET greeting hello
  dotnet run --project src/ActorGrid.Cli -- cluster status --node http://127.0.0.1:5082
Ctrl-C stops all three gracefully.
INFO

# Stay in the foreground until Ctrl-C (or until a node dies on its own, which is worth knowing about).
wait -n "${pids[@]}" || true
echo "local-cluster: a node exited unexpectedly; stopping the others" >&2
exit 1
