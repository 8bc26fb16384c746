# shellcheck shell=bash disable=SC2034 # the variables are for the sourcing script
# bench/lib.sh: shared helpers of the benchmark scripts (bench/streams,
# bench/throughput). Sourced, never run. It finds the source and build trees,
# builds what the benchmark needs, starts ZooKeeper, the fast backend or the
# stand-in master, and mesos-leaderd (waiting for their "ready" lines, never
# for a fixed time), stops every process it started (by PID, on any exit),
# and writes a result section into docs/benchmarks.md.
#
# Globals a script may set before bench_setup: BENCH_NAME.
# Environment: MLD_BENCH_DAEMON=PATH measures that mesos-leaderd binary (an
# older build, say, for before/after figures) with the load tools of
# --builddir.
# Globals set here: SRCDIR BUILDDIR TMP DAEMON BACKEND STREAMLOAD STANDIN
# ZK_CONNECT ZK_URL BACKEND_PID BACKEND_PORT DAEMON_PID DAEMON_PORT BENCH_IDLE.

BENCH_PIDS=()
BENCH_OK=0
BENCH_KEEP=0
BENCH_BUILD=1
BENCH_LOG_LEVEL=info
ZK_DIR=""
ZK_OWN_PID=""

bench_die() {
    echo "$BENCH_NAME: error: $*" >&2
    exit 1
}

bench_log() {
    echo "$BENCH_NAME: $*" >&2
}

# bench_setup: locates the trees and installs the cleanup trap.
bench_setup() {
    SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    if [ -z "${BUILDDIR:-}" ]; then
        BUILDDIR=$SRCDIR/build
        [ -f "$BUILDDIR/Makefile" ] || BUILDDIR=$SRCDIR
    fi
    BUILDDIR=$(cd "$BUILDDIR" && pwd) || bench_die "no build directory '$BUILDDIR'"
    DAEMON=${MLD_BENCH_DAEMON:-$BUILDDIR/src/cmd/mesos-leaderd}
    BACKEND=$BUILDDIR/bench/backend
    STREAMLOAD=$BUILDDIR/bench/streamload
    STANDIN=$BUILDDIR/tests/standin/mesos-standin
    TMP=$(mktemp -d "/tmp/mld-bench-$BENCH_NAME.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

# bench_build TARGET...: makes the given targets unless --no-build was given.
bench_build() {
    [ "$BENCH_BUILD" = 1 ] || return 0
    [ -f "$BUILDDIR/Makefile" ] || bench_die "'$BUILDDIR' is not configured (see docs/HACKING.md)"
    make -s -C "$BUILDDIR" "$@" >"$TMP/build.log" 2>&1 ||
        { tail -n 30 "$TMP/build.log" >&2; bench_die "make $* failed"; }
}

# bench_stop_pid PID: SIGTERM, then SIGKILL after 10 s; waits for the exit.
bench_stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
    local i
    trap - EXIT
    for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
        bench_stop_pid "${BENCH_PIDS[i]}"
    done
    [ -n "$ZK_OWN_PID" ] && bench_stop_pid "$ZK_OWN_PID"
    [ -n "$ZK_DIR" ] && bash "$SRCDIR/tests/harness/zk.sh" stop "$ZK_DIR" >/dev/null 2>&1
    if [ "$BENCH_OK" = 1 ] && [ "$BENCH_KEEP" = 0 ]; then
        rm -rf "$TMP"
    else
        echo "$BENCH_NAME: logs kept in $TMP" >&2
    fi
}

# bench_spawn NAME CMD...: starts CMD in the background, stdout to
# $TMP/NAME.out and stderr to $TMP/NAME.log; sets SPAWNED_PID.
bench_spawn() {
    local name=$1
    shift
    "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.log" &
    SPAWNED_PID=$!
    BENCH_PIDS+=("$SPAWNED_PID")
}

# bench_wait_line FILE REGEX PID WHAT [TIMEOUT_S]: polls until FILE has a
# line matching REGEX; fails when PID exits first or on timeout.
bench_wait_line() {
    local file=$1 re=$2 pid=$3 what=$4 deadline=$((SECONDS + ${5:-30}))
    until grep -qE -- "$re" "$file" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "${file%.*}.log" >&2 2>/dev/null
            bench_die "$what exited before it was ready (see $TMP)"
        fi
        [ "$SECONDS" -lt "$deadline" ] || bench_die "$what not ready after ${5:-30} s (see $TMP)"
        sleep 0.05
    done
}

# bench_free_port: prints a loopback TCP port nothing listens on or uses.
bench_free_port() {
    local used port
    used=" $(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        while read -r hex; do echo $((16#$hex)); done | tr '\n' ' ') "
    while :; do
        port=$((20000 + RANDOM % 12000))
        case "$used" in *" $port "*) continue ;; esac
        echo "$port"
        return
    done
}

# zk_serving PORT: whether the ZooKeeper server on PORT answers srvr with a mode.
zk_serving() {
    local out
    exec 3<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null || return 1
    printf 'srvr' >&3
    out=$(timeout 2 cat <&3) || true
    exec 3<&- 3>&-
    grep -q '^Mode: ' <<<"$out"
}

# zk_start_own: a standalone server without tests/harness/zk.sh.
zk_start_own() {
    local dir=$TMP/zk port deadline=$((SECONDS + 30))
    local cp=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar
    port=$(bench_free_port)
    mkdir -p "$dir/data"
    printf '%s\n' "tickTime=200" "initLimit=50" "syncLimit=10" "dataDir=$dir/data" \
        "clientPort=$port" "clientPortAddress=127.0.0.1" "admin.enableServer=false" \
        "4lw.commands.whitelist=srvr,ruok" "forceSync=no" >"$dir/zoo.cfg"
    command -v java >/dev/null || bench_die "java is not installed (apt-get install zookeeper)"
    java -Xmx128m -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
        </dev/null >"$dir/server.log" 2>&1 &
    ZK_OWN_PID=$!
    until zk_serving "$port"; do
        kill -0 "$ZK_OWN_PID" 2>/dev/null || bench_die "ZooKeeper exited (see $dir/server.log)"
        [ "$SECONDS" -lt "$deadline" ] || bench_die "ZooKeeper does not serve"
        sleep 0.05
    done
    ZK_CONNECT=127.0.0.1:$port
}

# bench_start_zk: sets ZK_CONNECT and ZK_URL.
bench_start_zk() {
    if [ -f "$SRCDIR/tests/harness/zk.sh" ]; then
        ZK_DIR=$TMP/zk
        bash "$SRCDIR/tests/harness/zk.sh" start "$ZK_DIR" >/dev/null ||
            bench_die "tests/harness/zk.sh could not start ZooKeeper"
        ZK_CONNECT=$(cat "$ZK_DIR/connect")
    else
        zk_start_own
    fi
    ZK_URL=zk://$ZK_CONNECT/mesos
}

# bench_start_backend [OPTIONS...]: bench/backend registered in ZooKeeper.
bench_start_backend() {
    bench_spawn backend "$BACKEND" --zk "$ZK_URL" --id bench "$@"
    BACKEND_PID=$SPAWNED_PID
    bench_wait_line "$TMP/backend.out" '^backend ready port=' "$BACKEND_PID" "bench/backend"
    BACKEND_PORT=$(sed -n 's/^backend ready port=\([0-9]*\).*/\1/p' "$TMP/backend.out")
}

# bench_start_daemon [OPTIONS...]: mesos-leaderd following $ZK_URL.
bench_start_daemon() {
    DAEMON_PORT=$(bench_free_port)
    bench_spawn daemon "$DAEMON" --zk "$ZK_URL" --listen "127.0.0.1:$DAEMON_PORT" \
        --config /dev/null --log-level "$BENCH_LOG_LEVEL" "$@"
    DAEMON_PID=$SPAWNED_PID
    # The daemon logs to stderr: daemon.log.
    bench_wait_line "$TMP/daemon.log" 'ready on ' "$DAEMON_PID" "mesos-leaderd"
}

# json_get KEY LINE: a value of a flat one-line JSON object.
json_get() {
    sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2"
}

# bench_machine: one line about this machine and how busy it is now.
bench_machine() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    printf '%s cores (%s), Linux %s, %s GiB RAM; load average before the run: %s\n' \
        "$(nproc)" "${cpu:-unknown CPU}" "$(uname -r)" \
        "$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_version: the daemon's version and the source commit.
bench_version() {
    local v commit
    v=$("$DAEMON" --version 2>/dev/null | head -n 1)
    if [ -n "${MLD_BENCH_DAEMON:-}" ]; then
        # The commit of the tree the binary was built in, if it is a checkout.
        commit=$(git -C "$(dirname "$DAEMON")" rev-parse --short HEAD 2>/dev/null) ||
            commit="unknown ($DAEMON)"
    else
        commit=$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null) || commit="no commit yet"
    fi
    printf '%s, commit %s\n' "${v:-unknown version}" "$commit"
}

# bench_idle_pct: how idle the machine's CPUs were during the last second (%).
bench_idle_pct() {
    local a b
    a=$(head -n 1 /proc/stat)
    sleep 1
    b=$(head -n 1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk '{ idle[NR] = $5 + $6; t = 0; for (i = 2; i <= NF; i++) t += $i; tot[NR] = t }
        END { d = tot[2] - tot[1]; printf "%.0f\n", (d > 0 ? 100 * (idle[2] - idle[1]) / d : 0) }'
}

# bench_wait_idle MAX_S: waits (at most MAX_S seconds; 0: not at all) until
# the CPUs were >= 80 % idle for a second, as other work on the machine
# blurs the figures; sets BENCH_IDLE to the last measure.
bench_wait_idle() {
    local deadline=$((SECONDS + $1))
    BENCH_IDLE=$(bench_idle_pct)
    while [ "$BENCH_IDLE" -lt 80 ] && [ "$SECONDS" -lt "$deadline" ]; do
        BENCH_IDLE=$(bench_idle_pct)
    done
}

# bench_docs_update ID FILE: puts FILE between this benchmark's markers in
# docs/benchmarks.md (replacing what was there, or appending a new section).
bench_docs_update() {
    local id=$1 content=$2 doc=$SRCDIR/docs/benchmarks.md
    if [ ! -f "$doc" ]; then
        {
            echo "# Benchmarks"
            echo
            echo "Figures measured with the tools under \`bench/\` (see the usage at the top of"
            echo "each script). Every section is written by the script named in it; running the"
            echo "same command again replaces that section. Numbers depend on the machine and on"
            echo "what else runs on it: compare figures of the same section, not across machines."
        } >"$doc"
    fi
    awk -v b="<!-- bench:$id:begin -->" -v e="<!-- bench:$id:end -->" -v f="$content" '
        function emit(  line) { print b; while ((getline line < f) > 0) print line; print e }
        $0 == b { emit(); skip = 1; found = 1; next }
        $0 == e { skip = 0; next }
        !skip { print }
        END { if (!found) { print ""; emit() } }' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
    bench_log "updated docs/benchmarks.md (section $id)"
}
