# shellcheck shell=bash disable=SC2034 # the variables are for the sourcing script
# bench/peers-lib.sh: the peers of mesos-leaderd as the benchmarks run them
# (bench/peers, bench/percall, bench/storm). Sourced after bench/lib.sh,
# never run. It writes the configuration of nginx and haproxy in front of a
# Mesos master and starts them in the foreground from a directory under $TMP
# (nginx: 1 worker, upstream keepalive, HTTP/1.1 to the upstream,
# proxy_buffering off for the scheduler API; haproxy: nbthread 1, option
# http-no-delay), starts bench/backend and mesos-leaderd, and runs wrk as
# bench/peers does (1 thread, $CONNECTIONS keep-alive connections).
#
# Globals the sourcing script sets: CONNECTIONS (wrk), NOFILE,
# NGINX_CONNECTIONS and HAPROXY_MAXCONN (peers_limits sets all three),
# optionally NGINX_BACKLOG (nginx's listen backlog; nginx's default when
# unset) and LEADERD_WRAP (an array: a command to run the daemon under).
# Globals set here: T_HANDLE (the process to stop), T_PID (the process that
# serves: nginx's worker), T_PORT, B_PORT, SPAWNED_PID.

# The stream count bench/peers sizes nginx and haproxy for by default.
PEERS_STREAMS_MAX=9950

# forget_pid PID: drops PID from the cleanup list once it was stopped (PIDs
# are reused: the cleanup must never signal a stranger).
forget_pid() {
    local i keep=()
    for i in "${BENCH_PIDS[@]}"; do
        [ "$i" = "$1" ] || keep+=("$i")
    done
    BENCH_PIDS=("${keep[@]}")
}

stop_spawned() {
    bench_stop_pid "$1"
    forget_pid "$1"
}

alive() {
    kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# port_open PORT: whether something accepts connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT PID WHAT: polls until PORT accepts; fails if PID exits first.
wait_port() {
    local deadline=$((SECONDS + 30))
    until port_open "$1"; do
        alive "$2" || bench_die "$3 exited before it listened (see $TMP)"
        [ "$SECONDS" -lt "$deadline" ] || bench_die "$3 does not listen on port $1 (see $TMP)"
        sleep 0.05
    done
}

# cpu_ticks PID: utime + stime of the process, in clock ticks.
cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

need_package() { # COMMAND PACKAGE
    command -v "$1" >/dev/null && return 0
    [ "$(id -u)" = 0 ] || bench_die "$1 is not installed: apt-get install $2"
    bench_log "installing $2 (apt-get install -y $2)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >>"$TMP/apt.log" 2>&1; then
        apt-get update >>"$TMP/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >>"$TMP/apt.log" 2>&1 ||
            bench_die "apt-get install $2 failed (see $TMP/apt.log)"
    fi
}

# peers_limits STREAMS_MAX: NOFILE (this shell's open-files limit, which
# every process started here inherits), HAPROXY_MAXCONN and
# NGINX_CONNECTIONS for up to STREAMS_MAX streams.
peers_limits() {
    NOFILE=$(ulimit -n)
    # Two descriptors a connection, a few for the listener, logs and polling.
    HAPROXY_MAXCONN=$(((NOFILE - 40) / 2))
    # nginx starts closing connections that wait for a request ("worker_connections
    # are not enough, reusing connections") once fewer than 1/16 of its
    # worker_connections are free: with 20000 it holds only 9375 streams.
    NGINX_CONNECTIONS=$((((2 * $1 + 100) * 16 + 14) / 15))
    [ "$NGINX_CONNECTIONS" -ge "$NOFILE" ] || NGINX_CONNECTIONS=$NOFILE
}

# peers_versions: NGINX_VERSION, NGINX_PACKAGE, HAPROXY_VERSION, WRK_VERSION.
peers_versions() {
    NGINX_VERSION=$(nginx -v 2>&1 | sed 's|.*nginx/||')
    NGINX_PACKAGE=$(dpkg-query -W -f '${Package} ${Version}\n' nginx-light nginx-core nginx 2>/dev/null |
        awk 'NF == 2 { print $1 " " $2; exit }') || true
    HAPROXY_VERSION=$(haproxy -v 2>&1 | sed -n 's/^HA-\{0,1\}Proxy version \([^ ]*\).*/\1/p' | head -n 1)
    WRK_VERSION="wrk $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f2)"
}

# start_backend NAME OPTIONS...: a bench/backend; sets SPAWNED_PID and B_PORT.
start_backend() {
    local name=$1
    shift
    bench_spawn "$name" "$BACKEND" "$@"
    bench_wait_line "$TMP/$name.out" '^backend ready port=' "$SPAWNED_PID" "bench/backend ($name)"
    B_PORT=$(sed -n 's/^backend ready port=\([0-9]*\).*/\1/p' "$TMP/$name.out")
}

# start_leaderd NAME ZK_URL [PORT]: mesos-leaderd with its default settings
# (under LEADERD_WRAP, if set), once it reports healthy (a leader known);
# sets T_HANDLE, T_PID, T_PORT.
start_leaderd() {
    local deadline
    T_PORT=${3:-$(bench_free_port)}
    bench_spawn "$1" ${LEADERD_WRAP[@]+"${LEADERD_WRAP[@]}"} "$DAEMON" --zk "$2" \
        --listen "127.0.0.1:$T_PORT" --config /dev/null --log-level info
    T_HANDLE=$SPAWNED_PID T_PID=$SPAWNED_PID
    bench_wait_line "$TMP/$1.log" 'ready on ' "$T_PID" "mesos-leaderd ($1)" 120
    deadline=$((SECONDS + 30))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$T_PORT/leaderd/health")" = 200 ]; do
        alive "$T_PID" || bench_die "mesos-leaderd ($1) exited (see $TMP/$1.log)"
        [ "$SECONDS" -lt "$deadline" ] || bench_die "mesos-leaderd ($1) knows no leader after 30 s"
        sleep 0.05
    done
}

# nginx_conf DIR PORT UPSTREAM_PORT [BACKUP_PORT]: nginx in front of a Mesos
# master; with BACKUP_PORT, a second master as a backup server that takes
# over once the first refuses a connection.
nginx_conf() {
    local servers="server 127.0.0.1:$3;"
    [ -z "${4:-}" ] ||
        servers="server 127.0.0.1:$3 max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$4 backup;"
    cat <<EOF
# nginx in front of a Mesos master, as the benchmarks under bench/ run it.
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $1/nginx.pid;
error_log $1/error.log warn;
events {
    worker_connections $NGINX_CONNECTIONS;
}
http {
    access_log off;
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    keepalive_requests 1000000;
    upstream mesos {
        $servers
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$2${NGINX_BACKLOG:+ backlog=$NGINX_BACKLOG};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location / {
            proxy_pass http://mesos;
        }
        # The scheduler API carries SUBSCRIBE event streams: relay as it comes.
        location ~ ^(/master)?/api/v1/scheduler\$ {
            proxy_pass http://mesos;
            proxy_buffering off;
            proxy_read_timeout 75s;
        }
    }
}
EOF
}

haproxy_conf() { # PORT UPSTREAM_PORT
    cat <<EOF
# haproxy in front of a Mesos master, as the benchmarks under bench/ run it.
global
    nbthread 1
    ulimit-n $NOFILE
    maxconn $HAPROXY_MAXCONN

defaults
    mode http
    option http-no-delay
    maxconn $HAPROXY_MAXCONN
    timeout connect 5s
    timeout http-request 10s
    timeout http-keep-alive 60s
    # Streams carry a heartbeat every second; 75 s as Mesos's agents allow.
    timeout client 75s
    timeout server 75s

frontend mesos
    bind 127.0.0.1:$1
    default_backend master

backend master
    server leader 127.0.0.1:$2
EOF
}

# start_nginx NAME UPSTREAM_PORT [BACKUP_PORT]: sets T_HANDLE (master),
# T_PID (the worker), T_PORT.
start_nginx() {
    local dir=$TMP/$1 deadline=$((SECONDS + 30))
    mkdir -p "$dir"
    T_PORT=$(bench_free_port)
    nginx_conf "$dir" "$T_PORT" "$2" "${3:-}" >"$dir/nginx.conf"
    bench_spawn "$1" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;'
    T_HANDLE=$SPAWNED_PID
    wait_port "$T_PORT" "$T_HANDLE" "nginx ($1)"
    T_PID=""
    while [ -z "$T_PID" ]; do
        T_PID=$(pgrep -P "$T_HANDLE" | head -n 1) || true
        [ -n "$T_PID" ] || [ "$SECONDS" -lt "$deadline" ] || bench_die "nginx ($1) has no worker"
        [ -n "$T_PID" ] || sleep 0.05
    done
}

# start_haproxy NAME UPSTREAM_PORT: sets T_HANDLE, T_PID, T_PORT.
start_haproxy() {
    local dir=$TMP/$1
    mkdir -p "$dir"
    T_PORT=$(bench_free_port)
    haproxy_conf "$T_PORT" "$2" >"$dir/haproxy.cfg"
    bench_spawn "$1" haproxy -f "$dir/haproxy.cfg" -db
    T_HANDLE=$SPAWNED_PID
    T_PID=$SPAWNED_PID
    wait_port "$T_PORT" "$T_PID" "haproxy ($1)"
}

# check PORT: both request mixes answer as expected.
check() {
    local post state
    post=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d '{"framework_id":{"value":"bench-0000"},"type":"DECLINE","decline":{"offer_ids":[]}}' \
        "http://127.0.0.1:$1/api/v1/scheduler") || true
    state=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/master/state") || true
    if [ "$post" != 202 ] || [ "$state" != 200 ]; then
        bench_die "port $1 answers POST with '$post' (want 202), GET /master/state with '$state' (want 200)"
    fi
}

url() { # MIX PORT
    case "$1" in
    post) echo "http://127.0.0.1:$2/api/v1/scheduler" ;;
    state) echo "http://127.0.0.1:$2/master/state" ;;
    esac
}

# wrk_calls OUT MIX PORT SECONDS: one run of wrk (1 thread, $CONNECTIONS
# keep-alive connections, --latency; MIX post: bench/scheduler-call.lua,
# state: GET /master/state), its output in OUT.
wrk_calls() {
    local script=()
    [ "$2" = post ] && script=(-s "$SRCDIR/bench/scheduler-call.lua")
    wrk -t1 -c"$CONNECTIONS" -d"${4}s" --latency "${script[@]}" "$(url "$2" "$3")" \
        >"$1" 2>&1 || bench_die "wrk failed: $(tail -n 3 "$1")"
}

# wrk_figures OUT: "rps p50_ms p99_ms requests non2xx errors" of a wrk output.
wrk_figures() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            if (v ~ /m$/) return v * 60000
            return v
        }
        /^ *50%/ { p50 = ms($2) }
        /^ *99%/ { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        / requests in / { req = $1 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
        END { printf "%.0f %.3f %.3f %d %d %d\n", rps, p50, p99, req, bad, err }' "$1"
}

median() { # numbers on stdin
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
