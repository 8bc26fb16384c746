# bench/fleet-tables.awk: the Markdown tables of bench/fleet, from the lines
# bench/fleet-run prints ("what key=value ..."). Rest and memory come from the
# first run of each size; leader changes are medians over the rounds.

function field(key,   i, kv) {
    for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == key)
            return substr($i, length(key) + 2)
    }
    return ""
}

function sum3(text,   v) {
    split(text, v, ",")
    return v[1] + v[2] + v[3]
}

function median(list,   v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
            t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
        }
    return n ? v[int((n + 1) / 2)] : ""
}

function group(x) {
    return sprintf("%\047d", x)
}

$1 == "start" && !(field("n") in started) { n = field("n"); started[n] = field("seconds"); sizes[++ns] = n }
$1 == "idle" && !(field("n") in zk) {
    n = field("n"); zk[n] = field("zk_cpu_ms_per_s"); zk0[n] = field("zk_alone_cpu_ms_per_s")
    tr[n] = field("trackers_cpu_ms_per_s")
}
$1 == "memory" && !(field("n") in heap) {
    n = field("n"); heap[n] = sum3(field("heap_kb")); heap0[n] = sum3(field("heap_alone_kb"))
    rss[n] = sum3(field("rss_kb")); rss0[n] = sum3(field("rss_alone_kb"))
}
$1 == "change" {
    n = field("n"); rounds[n]++
    del[n] = del[n] " " field("delete_ms"); p50[n] = p50[n] " " field("p50_ms")
    p99[n] = p99[n] " " field("p99_ms"); mx[n] = mx[n] " " field("max_ms")
    zkc[n] = zkc[n] " " field("zk_cpu_ms"); trc[n] = trc[n] " " field("trackers_cpu_ms")
}
$1 == "storm" { storms[++nst] = $0 }

END {
    print "### At rest"
    print ""
    print "| trackers | started in | ZooKeeper CPU (alone) | per 1,000 sessions | trackers' CPU, each | live Java heap, 3 servers (alone) | heap per session | resident memory, 3 servers (alone) |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= ns; i++) {
        n = sizes[i]
        printf "| %s | %.0f s | %.0f ms/s (%.0f) | %.0f ms/s | %.0f µs/s | %.1f MiB (%.1f) | %.2f KiB | %.0f MiB (%.0f) |\n",
            group(n), started[n], zk[n], zk0[n], (zk[n] - zk0[n]) * 1000 / n, tr[n] * 1000 / n,
            heap[n] / 1024, heap0[n] / 1024, (heap[n] - heap0[n]) / n, rss[n] / 1024, rss0[n] / 1024
    }
    print ""
    print "CPU is per second of wall time, summed over the three servers (ms/s; 1,000 ms/s"
    print "is one core busy); the trackers' is per tracker. Live heap is what a full"
    print "collection leaves (`jcmd GC.run`, then `GC.heap_info`)."
    print ""
    print "### Leader change"
    print ""
    print "| trackers | znode deleted in | p50 over trackers | p99 | last tracker | ZooKeeper CPU per change | trackers' CPU per change | rounds |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= ns; i++) {
        n = sizes[i]
        if (!rounds[n])
            continue
        printf "| %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %d |\n", group(n),
            median(del[n]), median(p50[n]), median(p99[n]), median(mx[n]), median(zkc[n]),
            median(trc[n]), rounds[n]
    }
    print ""
    print "From just before `zoo_delete()` of the leading master's znode to the moment each"
    print "tracker reports the standby as the known leader (its data read); medians over"
    print "the rounds."
    print ""
    print "### Reconnect storms"
    print ""
    print "| trackers | event | session timeout | sessions lost | election | refused attempts | back: first | p50 | p90 | last | expired (trackers / ZooKeeper) |"
    print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for (i = 1; i <= nst; i++) {
        $0 = storms[i]
        ev = field("kind") == "kill-leader" ? "leader killed (SIGKILL)" : "follower restarted"
        el = field("election_ms") + 0 >= 0 ? field("election_ms") " ms" : "-"
        printf "| %s | %s | %d s | %s | %s | %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %s / %s |\n",
            group(field("n")), ev, field("session_timeout_ms") / 1000, group(field("lost")), el,
            group(field("refused_without_quorum")), field("back_first_ms"), field("back_p50_ms"),
            field("back_p90_ms"), field("back_max_ms"), field("expired"),
            field("expired_in_server_logs")
    }
    print ""
    print "Times from the signal to the server; a follower takes about 0.3 s to close its"
    print "connections after SIGTERM. \"Refused attempts\" are the connections the servers"
    print "turned away while no quorum served (\"ZooKeeperServer not running\" in their"
    print "logs); \"election\" is how long the new leader's election took by its own log."
    print "Back: a tracker is back once connected again with the leader read. Expired:"
    print "trackers that gave their session up after the session timeout without"
    print "reconnecting, and sessions ZooKeeper expired. The last rows: the largest fleet"
    print "again with the session timeout at 30 s (storms only)."
}
