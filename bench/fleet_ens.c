/* fleet_ens.c: a three-node ZooKeeper ensemble for bench/fleet-run.
 *
 * Debian's zookeeper package, started as the project's tests start it (see
 * tests/harness/zkserver.c) but configured as in production: tickTime 2 s,
 * initLimit 10, syncLimit 5, transactions synced to disk, the JVM's default
 * collector (G1) and compilers; INFO logs (slf4j-simple) in each node's
 * server.log. One difference: maxClientCnxns=0, because every simulated
 * host connects from 127.0.0.1 and ZooKeeper allows 60 connections per
 * client address by default. Nodes are started, signalled and measured by
 * PID. */
#include "config.h"

#include "fleet.h"
#include "procstat.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLASSPATH \
    "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
#define MAIN_CLASS "org.apache.zookeeper.server.quorum.QuorumPeerMain"
#define START_MS   60000

/* A port nothing listens on now, below the kernel's range for outgoing
 * connections (thousands of trackers will take ports from that range). */
static int free_port(void)
{
    for (;;) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok, one = 1;

        sa.sin_port = htons((uint16_t)(15000 + random() % 17000));
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (ok)
            return ntohs(sa.sin_port);
    }
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -EIO;
}

static int write_node_config(const struct ens *e, int i)
{
    struct strbuf sb = {0};
    char *path;
    int r;

    strbuf_printf(&sb,
                  "tickTime=2000\ninitLimit=10\nsyncLimit=5\n"
                  "dataDir=%s/%d/data\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                  "maxClientCnxns=0\nadmin.enableServer=false\nreconfigEnabled=false\n"
                  "4lw.commands.whitelist=srvr,mntr,ruok\n",
                  e->dir, i + 1, e->client_port[i]);
    for (int k = 0; k < ENS_NODES; k++)
        strbuf_printf(&sb, "server.%d=127.0.0.1:%d:%d\n", k + 1, e->quorum_port[k],
                      e->election_port[k]);
    path = xasprintf("%s/%d/zoo.cfg", e->dir, i + 1);
    r = write_text(path, sb.data);
    free(path);
    strbuf_done(&sb);
    return r;
}

static int prepare(struct ens *e)
{
    struct strbuf connect = {0};
    int r = 0;

    for (int i = 0; i < ENS_NODES; i++) {
        e->client_port[i] = free_port();
        e->quorum_port[i] = free_port();
        e->election_port[i] = free_port();
        strbuf_printf(&connect, "%s127.0.0.1:%d", i ? "," : "", e->client_port[i]);
    }
    snprintf(e->connect, sizeof(e->connect), "%s", connect.data);
    strbuf_done(&connect);
    for (int i = 0; i < ENS_NODES && r == 0; i++) {
        char *data = xasprintf("%s/%d/data", e->dir, i + 1);
        char *myid = xasprintf("%s/myid", data);
        char id[8];
        char *node = xasprintf("%s/%d", e->dir, i + 1);
        snprintf(id, sizeof(id), "%d\n", i + 1);
        if ((mkdir(node, 0755) < 0 && errno != EEXIST) ||
            (mkdir(data, 0755) < 0 && errno != EEXIST))
            r = -errno;
        if (r == 0)
            r = write_text(myid, id);
        if (r == 0)
            r = write_node_config(e, i);
        free(node);
        free(data);
        free(myid);
    }
    return r;
}

static int spawn_node(struct ens *e, int i)
{
    char heap[32];
    char *cfg = xasprintf("%s/%d/zoo.cfg", e->dir, i + 1);
    char *log = xasprintf("%s/%d/server.log", e->dir, i + 1);
    pid_t pid;

    snprintf(heap, sizeof(heap), "-Xmx%dm", e->heap_mb);
    pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        setpgid(0, 0);
        execl(e->java, e->java, heap, "-Djava.awt.headless=true", "-Djava.net.preferIPv4Stack=true",
              "-Dorg.slf4j.simpleLogger.showDateTime=true", "-cp", e->classpath, MAIN_CLASS, cfg,
              (char *)NULL);
        _exit(127);
    }
    free(cfg);
    free(log);
    if (pid < 0)
        return -errno;
    e->pid[i] = pid;
    return 0;
}

/* Sends a four-letter word to node @i; its answer into @buf. */
static int four_letter(const struct ens *e, int i, const char *cmd, char *buf, size_t size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)e->client_port[i]),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t len = 0;
    uint64_t deadline = time_now_ms() + 3000;

    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) {
        if (fd >= 0)
            close(fd);
        return -EIO;
    }
    while (len + 1 < size && time_now_ms() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;
        if (poll(&p, 1, 500) <= 0)
            continue;
        n = recv(fd, buf + len, size - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return len ? 0 : -EIO;
}

int ens_mode(const struct ens *e, int i, char *buf, size_t size, int *ret_conns)
{
    char text[4096];
    const char *m, *c;

    if (e->pid[i] <= 0 || four_letter(e, i, "srvr", text, sizeof(text)) < 0)
        return -EIO;
    m = strstr(text, "Mode: ");
    if (!m)
        return -EIO;
    snprintf(buf, size, "%.*s", (int)strcspn(m + 6, "\n"), m + 6);
    c = strstr(text, "Connections: ");
    if (ret_conns)
        *ret_conns = c ? atoi(c + 13) - 1 : -1;
    return 0;
}

static int wait_serving(struct ens *e, int i, uint64_t deadline)
{
    char mode[32];
    int status;

    while (ens_mode(e, i, mode, sizeof(mode), NULL) < 0) {
        if (waitpid(e->pid[i], &status, WNOHANG) == e->pid[i]) {
            fprintf(stderr, "fleet: ZooKeeper node %d exited (see %s/%d/server.log)\n", i + 1,
                    e->dir, i + 1);
            e->pid[i] = 0;
            return -ESRCH;
        }
        if (time_now_ms() > deadline) {
            fprintf(stderr, "fleet: ZooKeeper node %d does not serve\n", i + 1);
            return -ETIMEDOUT;
        }
        usleep(50000);
    }
    return 0;
}

int ens_start(struct ens *e, const char *dir, int heap_mb)
{
    uint64_t deadline = time_now_ms() + START_MS;
    int r;

    e->dir = xstrdup(dir);
    e->heap_mb = heap_mb;
    e->java = xstrdup(getenv("JAVA") ? getenv("JAVA") : "/usr/bin/java");
    e->classpath = xstrdup(CLASSPATH);
    r = prepare(e);
    for (int i = 0; i < ENS_NODES && r == 0; i++)
        r = spawn_node(e, i);
    for (int i = 0; i < ENS_NODES && r == 0; i++)
        r = wait_serving(e, i, deadline);
    return r;
}

int ens_start_node(struct ens *e, int i, int timeout_ms)
{
    int r = spawn_node(e, i);

    return r < 0 ? r : wait_serving(e, i, time_now_ms() + (uint64_t)timeout_ms);
}

int ens_end_node(struct ens *e, int i, int sig)
{
    uint64_t deadline = time_now_ms() + 10000;
    int status;

    if (e->pid[i] <= 0)
        return -ESRCH;
    kill(e->pid[i], sig);
    while (waitpid(e->pid[i], &status, WNOHANG) != e->pid[i]) {
        if (time_now_ms() > deadline) {
            kill(e->pid[i], SIGKILL);
            deadline = UINT64_MAX;
        }
        usleep(10000);
    }
    e->pid[i] = 0;
    return 0;
}

void ens_stop(struct ens *e)
{
    for (int i = 0; i < ENS_NODES; i++) {
        if (e->pid[i] > 0)
            ens_end_node(e, i, SIGTERM);
    }
    free(e->dir);
    free(e->java);
    free(e->classpath);
    e->dir = e->java = e->classpath = NULL;
}

int ens_leader(const struct ens *e, int timeout_ms)
{
    uint64_t deadline = time_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        int leader = -1, serving = 0, running = 0;
        for (int i = 0; i < ENS_NODES; i++) {
            char mode[32];
            if (e->pid[i] <= 0)
                continue;
            running++;
            if (ens_mode(e, i, mode, sizeof(mode), NULL) < 0)
                continue;
            serving++;
            if (strcmp(mode, "leader") == 0)
                leader = i;
        }
        if (leader >= 0 && serving == running)
            return leader;
        if (time_now_ms() > deadline)
            return -ETIMEDOUT;
        usleep(20000);
    }
}

long ens_cpu_ms(const struct ens *e, int i)
{
    return e->pid[i] > 0 ? proc_cpu_ms(e->pid[i]) : -1;
}

long ens_rss_kb(const struct ens *e, int i)
{
    return proc_status_kb(e->pid[i], "VmRSS");
}

long ens_heap_used_kb(const struct ens *e, int i)
{
    char cmd[256], line[512];
    long used = -1;
    FILE *f;

    snprintf(cmd, sizeof(cmd), "jcmd %d GC.run >/dev/null 2>&1 && jcmd %d GC.heap_info 2>/dev/null",
             (int)e->pid[i], (int)e->pid[i]);
    f = popen(cmd, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        const char *u = strstr(line, " used ");
        if (u && strstr(line, "heap") && used < 0)
            used = strtol(u + 6, NULL, 10);
    }
    pclose(f);
    return used;
}

long ens_log_count(const struct ens *e, int i, const char *needle)
{
    char *path = xasprintf("%s/%d/server.log", e->dir, i + 1);
    char line[4096];
    long n = 0;
    FILE *f = fopen(path, "r");

    free(path);
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

long ens_last_election_ms(const struct ens *e, int i)
{
    static const char needle[] = "LEADING - LEADER ELECTION TOOK - ";
    char *path = xasprintf("%s/%d/server.log", e->dir, i + 1);
    char line[4096];
    long ms = -1;
    FILE *f = fopen(path, "r");

    free(path);
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, needle);
        if (p)
            ms = strtol(p + sizeof(needle) - 1, NULL, 10);
    }
    fclose(f);
    return ms;
}
