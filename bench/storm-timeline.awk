# storm-timeline.awk: the daemon's side of a re-subscribe storm, for
# bench/storm --profile perf. Reads `perf script -F time,event,trace` of a
# recording made with -k CLOCK_MONOTONIC (accept4 results, upstream connects,
# shutdowns, and the uprobes storm:accept_turn, storm:batch,
# storm:batch_done__return, storm:take_over) and prints, in ms after the
# watch instant tw (ns, -v tw=...): each event's count, first and last time;
# the batches that ended the old leader's streams and the time they spanned;
# how many connections one wake-up of the listening socket (accept_turn)
# accepted at most; the longest pause between two accepts; and the accepts
# per 50 ms.

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
    } else if (ev ~ /accept_turn/) {
        note("on_listen (a wake-up of the listening socket)", t)
        if (since_run > max_run)
            max_run = since_run
        turns_accepting += since_run > 0
        since_run = 0
    } else if (ev ~ /batch_done/) {
        note("a batch of old streams ended (return)", t)
    } else if (ev ~ /batch/) {
        note("a batch of old streams ended (call)", t)
    } else if (ev ~ /take_over/) {
        note("stream_out_new (socket taken over)", t)
    }
}

END {
    printf "%-40s %7s %10s %10s  (ms after the watch)\n", "event", "count", "first", "last"
    for (k in n)
        printf "%-40s %7d %10.1f %10.1f\n", k, n[k], first[k], last[k]
    b = "a batch of old streams ended (call)"
    e = "a batch of old streams ended (return)"
    if ((b in n) && (e in n))
        printf "old streams ended in %d batches, from %.1f to %.1f ms\n", n[b], first[b], last[e]
    # on_listen runs before its accepts: each wake-up's accepts are counted
    # at the next one.
    if (since_run > max_run)
        max_run = since_run
    turns_accepting += since_run > 0
    printf "accepts: at most %d per wake-up of the listening socket, in %d wake-ups; longest pause between two: %.1f ms (from %.1f ms)\n",
        max_run, turns_accepting, gap, gap_at
    printf "accepts per 50 ms:"
    for (b = -20; b <= 60; b++)
        if (b in bin)
            printf " %d:%d", b * 50, bin[b]
    printf "\n"
}
