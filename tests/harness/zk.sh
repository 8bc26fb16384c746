#!/bin/bash
# zk.sh: real ZooKeeper servers for scripts (the README sandbox, benchmarks).
#
# Needs bash (it talks to the servers through /dev/tcp; nc is not needed),
# Java, and Debian's zookeeper package.
#
#   zk.sh start DIR [NODES] [BASEPORT]
#       Starts NODES servers (1, the default: standalone; 3: an ensemble)
#       under DIR on free loopback ports, or with BASEPORT on fixed ones
#       (node i, from 1, gets client port BASEPORT+i-1, quorum port
#       BASEPORT+10+i-1 and election port BASEPORT+20+i-1). Writes the
#       connect string to DIR/connect and node i's PID to DIR/i/pid, and
#       waits until every node serves. When DIR already holds a cluster, its
#       stopped nodes are started again with their ports and data.
#   zk.sh stop DIR      Stops every node by PID (SIGTERM, then SIGKILL after
#                       10 s) and waits until they have exited; data stays.
#   zk.sh status DIR    One line per node; exits 0 when every node serves.
#
# Environment: JAVA (default: java in PATH), ZK_CLASSPATH, ZK_TICK_MS (200),
# ZK_HEAP_MB (128), ZK_START_TIMEOUT (seconds, 30).
set -eu

CLASSPATH_DEFAULT=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar

die() {
    echo "zk.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# zk_4lw PORT CMD: prints the server's answer to a four-letter command.
zk_4lw() {
    local out
    exec 3<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null || return 1
    printf '%s' "$2" >&3
    out=$(timeout 2 cat <&3) || true
    exec 3<&- 3>&-
    printf '%s\n' "$out"
}

# node_mode PORT: prints leader, follower, standalone... or nothing.
node_mode() {
    zk_4lw "$1" srvr 2>/dev/null | sed -n 's/^Mode: //p'
}

# node_pid DIR I: prints the PID of node I when it runs.
node_pid() {
    local pid
    [ -f "$1/$2/pid" ] || return 1
    pid=$(cat "$1/$2/pid")
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$1/$2/zoo.cfg" || return 1
    echo "$pid"
}

client_port() {
    sed -n 's/^clientPort=//p' "$1/$2/zoo.cfg"
}

# used_ports: every local TCP port in use, one per line.
used_ports() {
    local f
    for f in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$f" ] && awk 'NR > 1 { n = split($2, a, ":"); print a[n] }' "$f"
    done | while read -r hex; do echo $((16#$hex)); done
}

# free_ports N: prints N distinct ports that nothing uses now, below the
# range the kernel hands out to outgoing connections (from 32768).
free_ports() {
    local used n=0 port
    used=" $(used_ports | tr '\n' ' ') "
    while [ "$n" -lt "$1" ]; do
        port=$((15000 + RANDOM % 17000))
        case "$used" in *" $port "*) continue ;; esac
        used="$used$port "
        echo "$port"
        n=$((n + 1))
    done
}

write_configs() {
    local dir=$1 nodes=$2 base=$3 i ports=() connect=""
    if [ -n "$base" ]; then
        for ((i = 0; i < nodes; i++)); do
            ports+=($((base + i)) $((base + 10 + i)) $((base + 20 + i)))
        done
    else
        mapfile -t ports < <(free_ports $((3 * nodes)))
    fi
    for ((i = 1; i <= nodes; i++)); do
        mkdir -p "$dir/$i/data"
        echo "$i" >"$dir/$i/data/myid"
        {
            echo "tickTime=${ZK_TICK_MS:-200}"
            echo "initLimit=50"
            echo "syncLimit=10"
            echo "minSessionTimeout=$((2 * ${ZK_TICK_MS:-200}))"
            echo "maxSessionTimeout=60000"
            echo "dataDir=$dir/$i/data"
            echo "clientPort=${ports[3 * (i - 1)]}"
            echo "clientPortAddress=127.0.0.1"
            echo "admin.enableServer=false"
            echo "4lw.commands.whitelist=srvr,ruok,stat,mntr,conf"
            echo "forceSync=no"
            echo "reconfigEnabled=false"
            if [ "$nodes" -gt 1 ]; then
                for ((k = 1; k <= nodes; k++)); do
                    echo "server.$k=127.0.0.1:${ports[3 * (k - 1) + 1]}:${ports[3 * (k - 1) + 2]}"
                done
            fi
        } >"$dir/$i/zoo.cfg"
        connect="$connect${connect:+,}127.0.0.1:${ports[3 * (i - 1)]}"
    done
    echo "$connect" >"$dir/connect"
}

start_node() {
    local dir=$1 i=$2 java
    java=${JAVA:-$(command -v java)} || die "java is not installed"
    "$java" "-Xmx${ZK_HEAP_MB:-128}m" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
        -cp "${ZK_CLASSPATH:-$CLASSPATH_DEFAULT}" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/$i/zoo.cfg" \
        </dev/null >>"$dir/$i/server.log" 2>&1 &
    echo $! >"$dir/$i/pid"
}

nodes_of() {
    local n=0
    while [ -f "$1/$((n + 1))/zoo.cfg" ]; do n=$((n + 1)); done
    echo "$n"
}

wait_serving() {
    local dir=$1 nodes=$2 deadline=$((SECONDS + ${ZK_START_TIMEOUT:-30})) i
    for ((i = 1; i <= nodes; i++)); do
        until [ -n "$(node_mode "$(client_port "$dir" "$i")")" ]; do
            if ! node_pid "$dir" "$i" >/dev/null; then
                tail -n 30 "$dir/$i/server.log" >&2
                die "node $i exited (see $dir/$i/server.log)"
            fi
            [ "$SECONDS" -lt "$deadline" ] || die "node $i does not serve (see $dir/$i/server.log)"
            sleep 0.05
        done
    done
}

cmd_start() {
    local dir=$1 nodes=${2:-1} base=${3:-} i
    case "$nodes" in [1-9]) ;; *) die "NODES must be 1 to 9, not '$nodes'" ;; esac
    mkdir -p "$1"
    dir=$(cd "$1" && pwd)
    if [ -f "$dir/connect" ]; then
        nodes=$(nodes_of "$dir")
    else
        write_configs "$dir" "$nodes" "$base"
    fi
    for ((i = 1; i <= nodes; i++)); do
        node_pid "$dir" "$i" >/dev/null || start_node "$dir" "$i"
    done
    wait_serving "$dir" "$nodes"
    cat "$dir/connect"
}

cmd_stop() {
    local dir i pid pids=() deadline
    [ -d "$1" ] || die "no directory '$1'"
    dir=$(cd "$1" && pwd)
    for ((i = 1; i <= $(nodes_of "$dir"); i++)); do
        if pid=$(node_pid "$dir" "$i"); then
            kill -TERM "$pid" 2>/dev/null || true
            kill -CONT "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
        rm -f "$dir/$i/pid"
    done
    deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
            sleep 0.05
        done
    done
}

cmd_status() {
    local dir i pid mode port ok=0
    [ -f "$1/connect" ] || die "no ZooKeeper cluster in '$1'"
    dir=$(cd "$1" && pwd)
    echo "connect: $(cat "$dir/connect")"
    for ((i = 1; i <= $(nodes_of "$dir"); i++)); do
        port=$(client_port "$dir" "$i")
        if pid=$(node_pid "$dir" "$i"); then
            mode=$(node_mode "$port")
            echo "node $i: pid $pid, port $port, ${mode:-not serving}"
            [ -n "$mode" ] || ok=1
        else
            echo "node $i: stopped, port $port"
            ok=1
        fi
    done
    return $ok
}

[ $# -ge 2 ] || usage
case "$1" in
start) shift && cmd_start "$@" ;;
stop) cmd_stop "$2" ;;
status) cmd_status "$2" ;;
*) usage ;;
esac
