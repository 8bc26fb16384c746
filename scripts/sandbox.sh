#!/bin/bash
# scripts/sandbox.sh: mesos-leaderd on a local sandbox, from a fresh clone.
#
# Installs what is missing (as root), builds, then starts a real ZooKeeper,
# two stand-in Mesos masters and mesos-leaderd on loopback, and shows the
# whole story: mesos-leader prints the leader, a call and an event stream go
# through 127.0.0.1 to the leader, the leader stops, the stream ends, and the
# next call is answered by the new leader. Everything it started is stopped
# at the end (or on Ctrl-C). Set KEEP=1 to leave it running until Enter.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# Bold headings on a terminal only: no escape codes in a log or a pipe.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '   %s\n' "$*"; }

step "Installing what is missing and building"
scripts/deps.sh test
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build
# The same -Werror build as scripts/test.sh (and CI), so that running both
# in either order builds once, the same way.
(cd build && { [ -f Makefile ] || ../configure -q --enable-werror; } &&
    make -j"$(nproc)" -s >/dev/null && make -s tests/standin/mesos-standin >/dev/null)
bin=$top/build

sandbox=$(mktemp -d /tmp/mesos-leaderd-sandbox.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$top/tests/harness/zk.sh" stop "$sandbox/zk" >/dev/null 2>&1 || true
    rm -rf "$sandbox"
}
trap cleanup EXIT

# waitfor FILE TEXT: waits (up to 20 s) until FILE holds a line with TEXT.
waitfor() {
    for _ in $(seq 1 400); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$2' in $1:" >&2
    cat "$1" >&2
    return 1
}

# free_port: a loopback port nothing listens on.
free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

step "Starting a real ZooKeeper"
"$top/tests/harness/zk.sh" start "$sandbox/zk" 1 >/dev/null
zk="zk://$(cat "$sandbox/zk/connect")/mesos"
say "ZooKeeper serving; the masters register under $zk"

step "Starting two stand-in Mesos masters"
for m in a b; do
    "$bin/tests/standin/mesos-standin" --zk "$zk" --port 0 --id "master-$m" \
        --heartbeat-interval 1 >"$sandbox/$m.out" 2>"$sandbox/$m.err" &
    pids+=($!)
    eval "pid_$m=$!"
    waitfor "$sandbox/$m.out" "standin ready"
    say "master-$m: $(cat "$sandbox/$m.out")"
done

step "Starting mesos-leaderd"
port=5050
if (exec 3<>/dev/tcp/127.0.0.1/5050) 2>/dev/null; then port=$(free_port); fi
"$bin/src/cmd/mesos-leaderd" --zk "$zk" --listen "127.0.0.1:$port" >"$sandbox/leaderd.log" 2>&1 &
pids+=($!)
waitfor "$sandbox/leaderd.log" "ready on"
say "$(grep -m1 'ready on' "$sandbox/leaderd.log" | sed 's/^.*notice: //')"
api="http://127.0.0.1:$port"

step "mesos-leader prints the leader"
say "\$ mesos-leader --zk $zk"
say "$("$bin/src/cmd/mesos-leader" --zk "$zk")"
"$bin/src/cmd/mesos-leader" --zk "$zk" --all | sed 's/^/   /'

answered_by() { curl -s "$api/master/state" | grep -o '"id":"master-[ab]"' | head -1; }

step "A call through 127.0.0.1:$port is answered by the leader"
say "\$ curl -s $api/master/state   ->  $(answered_by)"
say "\$ curl -s -X POST -H 'Content-Type: application/json' -d '{\"type\":\"GET_HEALTH\"}' $api/api/v1"
say "$(curl -s -X POST -H 'Content-Type: application/json' -d '{"type":"GET_HEALTH"}' "$api/api/v1")"

step "An event stream (scheduler SUBSCRIBE) through the proxy"
curl -sN -D "$sandbox/stream.headers" -X POST -H 'Content-Type: application/json' \
    -d '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"demo","name":"sandbox"}}}' \
    "$api/api/v1/scheduler" >"$sandbox/stream.body" 2>/dev/null &
stream_pid=$!
pids+=($stream_pid)
waitfor "$sandbox/stream.body" "HEARTBEAT"
say "$(grep -i '^Mesos-Stream-Id' "$sandbox/stream.headers" | tr -d '\r')"
say "first records: $(head -c 160 "$sandbox/stream.body" | tr '\n' ' ')..."

leader=$(answered_by)
if [ "$leader" = '"id":"master-a"' ]; then victim=a; victim_pid=$pid_a; else victim=b; victim_pid=$pid_b; fi
step "Stopping the leader (master-$victim): its znode leaves ZooKeeper"
kill -TERM "$victim_pid"
wait "$victim_pid" 2>/dev/null || true
for _ in $(seq 1 200); do
    kill -0 "$stream_pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$stream_pid" 2>/dev/null; then say "the stream is still open"; else say "the stream through the proxy ended: clients re-subscribe"; fi
waitfor "$sandbox/leaderd.log" "leader changed: now .*was"
say "$(grep 'leader changed' "$sandbox/leaderd.log" | tail -1 | sed 's/^.*notice: //')"

step "The new leader"
say "\$ mesos-leader --zk $zk"
say "$("$bin/src/cmd/mesos-leader" --zk "$zk")"
say "\$ curl -s $api/master/state   ->  $(answered_by)"
say "\$ curl -s $api/leaderd/v1/leader"
say "$(curl -s "$api/leaderd/v1/leader" | head -c 300)..."

if [ "${KEEP:-0}" = 1 ]; then
    step "Still running on $api (ZooKeeper: $zk). Press Enter to stop everything."
    read -r _
fi
step "Done: stopping everything"
