/* procstat.h: what /proc tells about a process a benchmark measures (the
 * daemon, a proxy, a ZooKeeper server): the CPU time it has used and the
 * memory it holds. */
#ifndef MLD_PROCSTAT_H
#define MLD_PROCSTAT_H

/* utime + stime of @pid (all its threads) in clock ticks, or -1. */
long long proc_cpu_ticks(long pid);

/* The same in milliseconds, or -1. */
long proc_cpu_ms(long pid);

/* The number of a "@key: N kB" line of /proc/@pid/status (VmRSS, VmHWM...),
 * or -1 if there is none. */
long proc_status_kb(long pid, const char *key);

#endif
