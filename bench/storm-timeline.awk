# storm-timeline.awk: the daemon's side of a re-subscribe storm, for
# bench/storm --profile perf. Reads `perf script -F time,event,trace` of a
# recording made with -k CLOCK_MONOTONIC (accept4 results, upstream connects,
# shutdowns, and the uprobes storm:run_mhd, storm:leader_changed,
# storm:leader_changed_done__return, storm:take_over) and prints, in ms after
# the watch instant tw (ns, -v tw=...): each event's count, first and last
# time; how long exchange_leader_changed() ran; how many connections one
# libmicrohttpd turn (run_mhd) accepted at most; the longest pause between
# two accepts; and the accepts per 50 ms.

function ms(t) {
    return (t * 1e9 - tw) / 1e6
}

function note(k, t) {
    n[k]++
    if (!(k in first))
        first[k] = t
    last[k] = t
}

# accept4's return value is printed in hex; errors are huge unsigned values.
function accepted(v) {
    return v ~ /^0x/ && length(v) < 10
}

{
    t = ms($1 + 0)
    ev = $2
    sub(/:$/, "", ev)
    if (ev ~ /sys_exit_accept4/) {
        if (accepted($NF)) {
            note("accept4 returned a connection", t)
            bin[int((t + 1000) / 50) - 20]++
            since_run++
            if (prev != "" && t - prev > gap) {
                gap = t - prev
                gap_at = prev
            }
            prev = t
        }
    } else if (ev ~ /sys_enter_connect/) {
        note("connect (upstream)", t)
    } else if (ev ~ /sys_enter_shutdown/) {
        note("shutdown (a client stream ended)", t)
    } else if (ev ~ /run_mhd/) {
        note("run_mhd (a libmicrohttpd turn)", t)
        if (since_run > max_run)
            max_run = since_run
        turns_accepting += since_run > 0
        since_run = 0
    } else if (ev ~ /leader_changed_done/) {
        note("exchange_leader_changed returned", t)
        if (lc_t != "")
            lc_len = t - lc_t
    } else if (ev ~ /leader_changed/) {
        note("exchange_leader_changed called", t)
        lc_t = t
    } else if (ev ~ /take_over/) {
        note("stream_out_new (socket taken over)", t)
    }
}

END {
    printf "%-40s %7s %10s %10s  (ms after the watch)\n", "event", "count", "first", "last"
    for (k in n)
        printf "%-40s %7d %10.1f %10.1f\n", k, n[k], first[k], last[k]
    if (lc_len != "")
        printf "exchange_leader_changed() ran for %.1f ms\n", lc_len
    printf "accepts: at most %d per libmicrohttpd turn, in %d turns; longest pause between two: %.1f ms (from %.1f ms)\n",
        max_run, turns_accepting, gap, gap_at
    printf "accepts per 50 ms:"
    for (b = -20; b <= 60; b++)
        if (b in bin)
            printf " %d:%d", b * 50, bin[b]
    printf "\n"
}
