# storm-costs.awk: where mesos-leaderd's CPU time goes during a re-subscribe
# storm, for bench/storm --profile perf. Reads `perf script -F tid,time,ip,sym,dso`
# of a cpu-clock recording with call graphs (-v hz=the sampling frequency)
# and puts every sample into one step of the storm:
#   - samples outside the event loop thread: "other threads";
#   - from the leaf up, the first frame of the daemon or of libmicrohttpd
#     decides: a libmicrohttpd frame is classified by the system call below it
#     (accept4, send, recv, ...); a frame of the daemon by the first function
#     of the table below found from it towards the root (so a malloc or a
#     system call counts for the step that made it).
# Prints each step's samples, CPU ms and share, largest first.

BEGIN {
    step["route_is_subscribe"] = "SUBSCRIBE check (route_is_subscribe, json-c)"
    step["open_connection"] = "upstream connect (socket, connect, epoll_ctl)"
    step["send_request"] = "upstream request sent"
    step["stream_out_new"] = "take-over of the client socket (dup, setsockopt, epoll_ctl)"
    step["take_over"] = "take-over of the client socket (dup, setsockopt, epoll_ctl)"
    split("exchange_leader_changed exchange_end_stream exchange_end_stream.part.0 upstream_abort " \
          "native_abort conn_free settle stream_out_abort on_upstream_done exchange_free " \
          "stream_out_free on_release", e, " ")
    for (i in e)
        ending[e[i]] = 1
    step["on_event"] = "upstream answer read and parsed (on_event)"
    step["on_connection"] = "new client connection noted (on_connection)"
    step["exchange_on_access"] = "request handling (exchange_on_access: headers, dispatch)"
    step["exchange_new"] = step["exchange_on_access"]
    step["on_uri"] = step["exchange_on_access"]
    step["on_completed"] = "request completed (on_completed)"
    step["trim_heap"] = "heap trim (malloc_trim)"
    step["on_sweep_timer"] = "sweep timer"
    step["run_timers"] = "event loop: timers"
    step["loop_run"] = "event loop: epoll_wait and dispatch"
    mhd_call["accept4"] = "accepting the burst (accept4 by libmicrohttpd)"
    mhd_call["__libc_send"] = "answer headers sent by libmicrohttpd"
    mhd_call["__libc_recv"] = "requests read by libmicrohttpd"
    mhd_call["__GI_epoll_ctl"] = "libmicrohttpd's epoll_ctl"
    mhd_call["epoll_wait"] = "libmicrohttpd's epoll_wait"
    mhd_call["__GI___close"] = "libmicrohttpd closes connections"
    mhd_call["__GI_shutdown"] = "libmicrohttpd closes connections"
}

function own(d) {
    return d ~ /mesos-leaderd\)$/
}

function mhd(d) {
    return d ~ /libmicrohttpd/
}

# Which kind of stream end a sample of an ending function belongs to.
function ending_kind() {
    if (inchain("exchange_leader_changed", 1))
        return "ending the streams at the leader change (exchange_leader_changed)"
    if (inchain("exchange_free", 1) || inchain("on_release", 1))
        return "freeing ended streams (exchange_free: close, free)"
    if (inchain("on_upstream_done", 1))
        return "streams ended by their upstream's end (on_upstream_done)"
    return "ending streams (caller not in the stack)"
}

function classify(    i, j, k) {
    if (tid != main_tid)
        return "other threads (ZooKeeper client, ...)"
    for (i = 1; i <= nf; i++)
        if (sym[i] == "trim_heap")
            return step["trim_heap"]
    for (i = 1; i <= nf && !own(dso[i]) && !mhd(dso[i]); i++)
        ;
    if (mhd(dso[i])) {
        for (j = i - 1; j >= 1; j--)
            if (sym[j] in mhd_call)
                return mhd_call[sym[j]]
        return "libmicrohttpd, other (parsing, pools, bookkeeping)"
    }
    for (k = i; k <= nf; k++) {
        if (sym[k] == "stream_out_write")
            return inchain("take_over", k) ? "first flush (the first record, stream_out_write in take_over)" : "stream data relayed"
        if (sym[k] in ending)
            return ending_kind()
        if (sym[k] in step)
            return step[sym[k]]
    }
    return "unattributed (the stack was cut short below " sym[i] ")"
}

function inchain(name, from,    k) {
    for (k = from; k <= nf; k++)
        if (sym[k] == name)
            return 1
    return 0
}

function flush_sample(    c) {
    if (nf == 0)
        return
    c = classify()
    count[c]++
    total++
    nf = 0
}

/^[^ \t]/ {
    flush_sample()
    tid = $1
    if (main_tid == "")
        main_tid = tid # the first sample is the event loop's (it is the process's main thread)
    next
}

/^[ \t]+[0-9a-f]+ / {
    nf++
    line = $0
    sub(/^[ \t]+[0-9a-f]+ /, "", line)
    d = line
    sub(/^.* \(/, "(", d)
    s = line
    sub(/ \([^(]*\)$/, "", s)
    sub(/\+0x[0-9a-f]+$/, "", s)
    sym[nf] = s
    dso[nf] = d
    next
}

/^$/ {
    flush_sample()
}

END {
    flush_sample()
    printf "%-82s %7s %7s %6s\n", "step", "samples", "CPU", "share"
    for (c in count)
        order[c] = count[c]
    while (1) {
        best = ""
        for (c in order)
            if (best == "" || order[c] > order[best])
                best = c
        if (best == "")
            break
        printf "%-82s %7d %5.0f ms %5.1f%%\n", best, count[best], count[best] * 1000 / hz,
            100 * count[best] / total
        delete order[best]
    }
    printf "%-82s %7d %5.0f ms\n", "all", total, total * 1000 / hz
}
