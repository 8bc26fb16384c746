/* zkserver.c: real ZooKeeper 3.8 servers (Debian's package) on free
 * loopback ports: standalone or an ensemble, stopped, killed, restarted and
 * frozen by PID, asked for their mode with the "srvr" four-letter command.
 *
 * A cluster's state is its directory: each node's zoo.cfg, data, server.log
 * and pid file. Reading PIDs from the files (and checking /proc/PID/cmdline
 * names the node's zoo.cfg before signalling) keeps a cluster usable from
 * check's forked tests, and lets a guard process (see internal.h) kill the
 * servers and remove the directory once every process that could use them
 * has gone, even a test that check killed for taking too long. */
#include "config.h"

#include "internal.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NODES          9
#define DEFAULT_CLASSPATH  "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
#define SLF4J_SIMPLE_JAR   "/usr/share/java/slf4j-simple.jar"
#define ZOOKEEPER_JAR      "/usr/share/java/zookeeper.jar"
#define MAIN_CLASS         "org.apache.zookeeper.server.quorum.QuorumPeerMain"
#define FOUR_LW_TIMEOUT_MS 1000
#define STOP_TIMEOUT_MS    10000
#define LOG_TAIL_BYTES     3000

struct zk_node {
    int client_port, quorum_port, election_port;
    char *dir, *cfg, *pidfile, *log;
};

struct zk_cluster {
    int n;
    char *dir;
    char *connect;
    char *java, *classpath;
    struct zkh_options opt;
    char **extra_cfg;
    struct zk_node nodes[MAX_NODES];
    pid_t owner;
    struct harness_guard guard;
    bool stopped;
    struct zk_cluster *next; /* in the registry */
};

static struct zk_cluster *registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

static void kill_all(struct zk_cluster *zk);

/* ---------------------------------------------------------------------------
 * Availability
 * ------------------------------------------------------------------------- */

static int find_java(char **ret)
{
    const char *env = getenv("HARNESS_JAVA");

    if (env && *env) {
        if (access(env, X_OK) < 0)
            return harness_set_error(-ENOENT, "HARNESS_JAVA '%s' is not executable", env);
        *ret = xstrdup(env);
        return 0;
    }
    if (harness_find_program("java", ret) < 0)
        return harness_set_error(-ENOENT, "java is not installed (apt-get install "
                                          "default-jre-headless)");
    return 0;
}

static int find_classpath(char **ret)
{
    const char *env = getenv("HARNESS_ZK_CLASSPATH");

    if (env && *env) {
        *ret = xstrdup(env);
        return 0;
    }
    if (access(ZOOKEEPER_JAR, R_OK) < 0)
        return harness_set_error(-ENOENT, "%s is missing (apt-get install zookeeper)",
                                 ZOOKEEPER_JAR);
    if (access(SLF4J_SIMPLE_JAR, R_OK) == 0)
        *ret = xstrdup(DEFAULT_CLASSPATH ":" SLF4J_SIMPLE_JAR);
    else
        *ret = xstrdup(DEFAULT_CLASSPATH);
    return 0;
}

bool zkh_available(void)
{
    char *java = NULL, *cp = NULL;
    bool ok = find_java(&java) == 0 && find_classpath(&cp) == 0;

    free(java);
    free(cp);
    return ok;
}

void zkh_skip_if_unavailable(void)
{
    if (zkh_available())
        return;
    fprintf(stderr, "SKIP: cannot run ZooKeeper: %s\n", harness_error());
    exit(77);
}

/* ---------------------------------------------------------------------------
 * PIDs and files
 * ------------------------------------------------------------------------- */

/* Whether /proc/PID/cmdline contains @needle. */
static bool cmdline_has(pid_t pid, const char *needle)
{
    char path[64], *text = NULL;
    size_t len = 0;
    bool found;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    if (harness_read_file(path, &text, &len) < 0)
        return false;
    found = memmem(text, len, needle, strlen(needle)) != NULL;
    free(text);
    return found;
}

/* The running server of node @i, or 0. Reaps it if it died as our child. */
static pid_t node_pid(const struct zk_cluster *zk, int i)
{
    const struct zk_node *node = &zk->nodes[i];
    char *text = NULL;
    long pid;

    if (harness_read_file(node->pidfile, &text, NULL) < 0)
        return 0;
    pid = strtol(text, NULL, 10);
    free(text);
    if (pid <= 0 || harness_pid_exited((pid_t)pid, true, NULL) != 0)
        return 0;
    return cmdline_has((pid_t)pid, node->cfg) ? (pid_t)pid : 0;
}

static int write_pidfile(const struct zk_node *node, pid_t pid)
{
    char *tmp = xasprintf("%s.tmp", node->pidfile);
    char text[32];
    int r, n = snprintf(text, sizeof(text), "%d\n", (int)pid);

    r = harness_write_file(tmp, text, (size_t)n);
    if (r == 0 && rename(tmp, node->pidfile) < 0)
        r = harness_set_error(-errno, "cannot rename '%s': %s", tmp, strerror(errno));
    free(tmp);
    return r;
}

/* Prints the end of a node's server.log (why it failed is there). */
static void print_log_tail(const struct zk_node *node)
{
    char *text = NULL;
    size_t len = 0, from;

    if (harness_read_file(node->log, &text, &len) < 0)
        return;
    from = len > LOG_TAIL_BYTES ? len - LOG_TAIL_BYTES : 0;
    fprintf(stderr, "harness: %s %s:\n%s\n", node->log, from ? "ends with" : "is", text + from);
    free(text);
}

/* ---------------------------------------------------------------------------
 * Four-letter words
 * ------------------------------------------------------------------------- */

static int connect_loopback(int port, int timeout_ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);

    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            close(fd);
            return -err;
        }
        if (poll(&pfd, 1, timeout_ms) <= 0) {
            close(fd);
            return -ETIMEDOUT;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            close(fd);
            return -(err ? err : EIO);
        }
    }
    return fd;
}

/* Sends @cmd to 127.0.0.1:@port and reads the answer until EOF. */
static int four_letter(int port, const char *cmd, int timeout_ms, char **ret)
{
    uint64_t deadline = time_now_ms() + (uint64_t)timeout_ms;
    struct strbuf out = {0};
    int fd = connect_loopback(port, timeout_ms);
    char buf[4096];

    if (fd < 0)
        return fd;
    if (send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) != (ssize_t)strlen(cmd)) {
        close(fd);
        return -EIO;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = time_now_ms();
        ssize_t n;
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
            break;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            close(fd);
            *ret = strbuf_steal(&out);
            return 0;
        }
        strbuf_append(&out, buf, (size_t)n);
    }
    close(fd);
    strbuf_done(&out);
    return -ETIMEDOUT;
}

int zkh_4lw(const struct zk_cluster *zk, int i, const char *cmd, char **ret)
{
    if (i < 0 || i >= zk->n)
        return -EINVAL;
    return four_letter(zk->nodes[i].client_port, cmd, FOUR_LW_TIMEOUT_MS, ret);
}

const char *zkh_node_mode(const struct zk_cluster *zk, int i)
{
    static const char *const modes[] = {"leader", "follower", "standalone", "observer"};
    const char *result = NULL, *m;
    char *text = NULL;

    if (zkh_4lw(zk, i, "srvr", &text) < 0)
        return NULL;
    m = strstr(text, "Mode: ");
    for (size_t k = 0; m && k < sizeof(modes) / sizeof(modes[0]); k++) {
        if (strncmp(m + 6, modes[k], strlen(modes[k])) == 0)
            result = modes[k];
    }
    free(text);
    return result;
}

/* ---------------------------------------------------------------------------
 * Starting and stopping nodes
 * ------------------------------------------------------------------------- */

static int spawn_node(struct zk_cluster *zk, int i)
{
    struct zk_node *node = &zk->nodes[i];
    char heap[32];
    const char *argv[] = {zk->java,
                          heap,
                          "-XX:+UseSerialGC",
                          "-XX:TieredStopAtLevel=1",
                          "-Djava.awt.headless=true",
                          "-Djava.net.preferIPv4Stack=true",
                          "-Dorg.slf4j.simpleLogger.showDateTime=true",
                          "-cp",
                          zk->classpath,
                          MAIN_CLASS,
                          node->cfg,
                          NULL};
    struct harness_spawn sp = {.path = zk->java, .argv = (char *const *)argv};
    pid_t pid;
    int r;

    snprintf(heap, sizeof(heap), "-Xmx%dm", zk->opt.heap_mb);
    sp.stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    sp.stdout_fd = open(node->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    sp.stderr_fd = sp.stdout_fd;
    if (sp.stdin_fd < 0 || sp.stdout_fd < 0)
        r = harness_set_error(-errno, "cannot open '%s': %s", node->log, strerror(errno));
    else
        r = harness_spawn(&sp, &pid);
    if (sp.stdin_fd >= 0)
        close(sp.stdin_fd);
    if (sp.stdout_fd >= 0)
        close(sp.stdout_fd);
    if (r == 0) {
        r = write_pidfile(node, pid);
        if (r < 0) {
            kill(pid, SIGKILL);
            harness_pid_wait(pid, STOP_TIMEOUT_MS, true, NULL);
        }
    }
    return r;
}

/* Waits until node @i serves, failing early when its process died. */
static int wait_serving(const struct zk_cluster *zk, int i, uint64_t deadline)
{
    for (;;) {
        if (zkh_node_mode(zk, i))
            return 0;
        if (!node_pid(zk, i)) {
            print_log_tail(&zk->nodes[i]);
            return harness_set_error(-ESRCH, "ZooKeeper node %d exited (see %s)", i,
                                     zk->nodes[i].log);
        }
        if (time_now_ms() >= deadline)
            return harness_set_error(-ETIMEDOUT, "ZooKeeper node %d does not serve (see %s)", i,
                                     zk->nodes[i].log);
        harness_nap_ms(20);
    }
}

int zkh_wait_serving(const struct zk_cluster *zk, int i, int timeout_ms)
{
    uint64_t deadline = time_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    if (i < 0 || i >= zk->n)
        return -EINVAL;
    for (;;) {
        if (zkh_node_mode(zk, i))
            return 0;
        if (time_now_ms() >= deadline)
            return harness_set_error(-ETIMEDOUT, "ZooKeeper node %d does not serve", i);
        harness_nap_ms(20);
    }
}

int zkh_wait_leader(const struct zk_cluster *zk, int timeout_ms, int *ret_index)
{
    uint64_t deadline = time_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    for (;;) {
        int leader = -1, serving = 0, running = 0;
        for (int i = 0; i < zk->n; i++) {
            const char *mode;
            if (!node_pid(zk, i))
                continue;
            running++;
            mode = zkh_node_mode(zk, i);
            serving += mode != NULL;
            if (mode && (strcmp(mode, "leader") == 0 || strcmp(mode, "standalone") == 0))
                leader = i;
        }
        if (leader >= 0 && serving == running) {
            if (ret_index)
                *ret_index = leader;
            return 0;
        }
        if (time_now_ms() >= deadline)
            return harness_set_error(-ETIMEDOUT, "no ZooKeeper leader within %d ms", timeout_ms);
        harness_nap_ms(20);
    }
}

/* Signals node @i and waits for it to exit; escalates to SIGKILL. */
static int end_node(struct zk_cluster *zk, int i, int sig)
{
    pid_t pid;
    int r;

    if (i < 0 || i >= zk->n)
        return -EINVAL;
    pid = node_pid(zk, i);
    if (!pid)
        return harness_set_error(-ESRCH, "ZooKeeper node %d is not running", i);
    kill(pid, sig);
    kill(pid, SIGCONT); /* a paused node could not act on SIGTERM */
    r = harness_pid_wait(pid, STOP_TIMEOUT_MS, true, NULL);
    if (r == 0) {
        kill(pid, SIGKILL);
        r = harness_pid_wait(pid, STOP_TIMEOUT_MS, true, NULL);
    }
    unlink(zk->nodes[i].pidfile);
    return r == 1 ? 0 : harness_set_error(-ETIMEDOUT, "ZooKeeper node %d does not exit", i);
}

int zkh_stop_node(struct zk_cluster *zk, int i)
{
    return end_node(zk, i, SIGTERM);
}

int zkh_kill_node(struct zk_cluster *zk, int i)
{
    return end_node(zk, i, SIGKILL);
}

int zkh_start_node(struct zk_cluster *zk, int i)
{
    uint64_t deadline = time_now_ms() + (uint64_t)zk->opt.start_timeout_ms;
    int running = 0, r;

    if (i < 0 || i >= zk->n)
        return -EINVAL;
    if (node_pid(zk, i))
        return harness_set_error(-EALREADY, "ZooKeeper node %d is running", i);
    r = spawn_node(zk, i);
    if (r < 0)
        return r;
    for (int k = 0; k < zk->n; k++)
        running += node_pid(zk, k) != 0;
    if (running * 2 <= zk->n)
        return 0; /* no quorum yet: nothing can serve */
    for (int k = 0; k < zk->n && r == 0; k++) {
        if (node_pid(zk, k))
            r = wait_serving(zk, k, deadline);
    }
    return r;
}

/* Pauses (SIGSTOP) or resumes node @i and waits until it took effect. */
static int freeze(struct zk_cluster *zk, int i, bool stop)
{
    pid_t pid;

    if (i < 0 || i >= zk->n)
        return -EINVAL;
    pid = node_pid(zk, i);
    if (!pid)
        return harness_set_error(-ESRCH, "ZooKeeper node %d is not running", i);
    return harness_freeze_pid(pid, stop, 2000);
}

int zkh_pause_node(struct zk_cluster *zk, int i)
{
    return freeze(zk, i, true);
}

int zkh_resume_node(struct zk_cluster *zk, int i)
{
    return freeze(zk, i, false);
}

/* ---------------------------------------------------------------------------
 * The cluster
 * ------------------------------------------------------------------------- */

static bool is_observer(const struct zk_cluster *zk, int i)
{
    return zk->n > 1 && i >= zk->n - zk->opt.observers;
}

static void write_cfg(const struct zk_cluster *zk, int i, struct strbuf *sb)
{
    const struct zk_node *node = &zk->nodes[i];

    strbuf_printf(sb,
                  "tickTime=%d\ninitLimit=50\nsyncLimit=10\n"
                  "minSessionTimeout=%d\nmaxSessionTimeout=%d\n"
                  "dataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                  "admin.enableServer=false\n"
                  "4lw.commands.whitelist=srvr,ruok,stat,mntr,conf\n"
                  "forceSync=no\npreAllocSize=4096\nreconfigEnabled=false\n",
                  zk->opt.tick_ms, zk->opt.min_session_ms, zk->opt.max_session_ms, node->dir,
                  node->client_port);
    for (int k = 0; zk->n > 1 && k < zk->n; k++)
        strbuf_printf(sb, "server.%d=127.0.0.1:%d:%d%s\n", k + 1, zk->nodes[k].quorum_port,
                      zk->nodes[k].election_port, is_observer(zk, k) ? ":observer" : "");
    if (is_observer(zk, i))
        strbuf_puts(sb, "peerType=observer\n");
    for (char **l = zk->extra_cfg; l && *l; l++)
        strbuf_printf(sb, "%s\n", *l);
}

/* Creates the node directories, their zoo.cfg and myid. */
static int prepare_nodes(struct zk_cluster *zk)
{
    int ports[3 * MAX_NODES];
    struct strbuf sb = {0};
    int r = harness_free_ports(ports, zk->n == 1 ? 1 : 3 * zk->n);

    for (int i = 0; i < zk->n && r == 0; i++) {
        struct zk_node *node = &zk->nodes[i];
        char *data, *myid, id[16];
        node->client_port = ports[zk->n == 1 ? 0 : 3 * i];
        node->quorum_port = zk->n == 1 ? 0 : ports[3 * i + 1];
        node->election_port = zk->n == 1 ? 0 : ports[3 * i + 2];
        node->dir = xasprintf("%s/node%d", zk->dir, i + 1);
        node->cfg = xasprintf("%s/zoo.cfg", node->dir);
        node->pidfile = xasprintf("%s/pid", node->dir);
        node->log = xasprintf("%s/server.log", node->dir);
        data = xasprintf("%s/data", node->dir);
        myid = xasprintf("%s/myid", data);
        if (mkdir(node->dir, 0755) < 0 || mkdir(data, 0755) < 0)
            r = harness_set_error(-errno, "cannot create '%s': %s", data, strerror(errno));
        snprintf(id, sizeof(id), "%d\n", i + 1);
        if (r == 0)
            r = harness_write_file(myid, id, strlen(id));
        free(data);
        free(myid);
    }
    for (int i = 0; i < zk->n && r == 0; i++) {
        strbuf_reset(&sb);
        write_cfg(zk, i, &sb);
        r = harness_write_file(zk->nodes[i].cfg, sb.data, sb.len);
    }
    strbuf_done(&sb);
    return r;
}

/* At exit, stop the clusters this process started and did not stop. */
static void cleanup_at_exit(void)
{
    pid_t self = getpid();

    pthread_mutex_lock(&registry_lock);
    for (struct zk_cluster *zk = registry; zk; zk = zk->next) {
        if (zk->owner == self && !zk->stopped)
            kill_all(zk);
    }
    pthread_mutex_unlock(&registry_lock);
}

static void register_atexit(void)
{
    atexit(cleanup_at_exit);
}

static void registry_add(struct zk_cluster *zk)
{
    pthread_once(&atexit_once, register_atexit);
    pthread_mutex_lock(&registry_lock);
    zk->next = registry;
    registry = zk;
    pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(struct zk_cluster *zk)
{
    pthread_mutex_lock(&registry_lock);
    for (struct zk_cluster **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == zk) {
            *pp = zk->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

static void resolve_options(struct zk_cluster *zk, const struct zkh_options *opt)
{
    size_t n = 0;

    if (opt)
        zk->opt = *opt;
    if (zk->opt.tick_ms <= 0)
        zk->opt.tick_ms = 200;
    if (zk->opt.min_session_ms <= 0)
        zk->opt.min_session_ms = 2 * zk->opt.tick_ms;
    if (zk->opt.max_session_ms <= 0)
        zk->opt.max_session_ms = 60000;
    if (zk->opt.start_timeout_ms <= 0)
        zk->opt.start_timeout_ms = 30000;
    if (zk->opt.heap_mb <= 0)
        zk->opt.heap_mb = 128;
    while (opt && opt->extra_cfg && opt->extra_cfg[n])
        n++;
    zk->extra_cfg = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        zk->extra_cfg[i] = xstrdup(opt->extra_cfg[i]);
    zk->opt.extra_cfg = NULL;
}

static void build_connect_string(struct zk_cluster *zk)
{
    struct strbuf sb = {0};

    for (int i = 0; i < zk->n; i++)
        strbuf_printf(&sb, "%s127.0.0.1:%d", i ? "," : "", zk->nodes[i].client_port);
    zk->connect = strbuf_steal(&sb);
}

static void cluster_free(struct zk_cluster *zk)
{
    for (int i = 0; i < zk->n; i++) {
        free(zk->nodes[i].dir);
        free(zk->nodes[i].cfg);
        free(zk->nodes[i].pidfile);
        free(zk->nodes[i].log);
    }
    harness_strv_free(zk->extra_cfg);
    free(zk->dir);
    free(zk->connect);
    free(zk->java);
    free(zk->classpath);
    free(zk);
}

/* Whether a node failed because another process took one of its ports
 * between our choice and its bind (tests running in parallel). */
static bool port_clash(const struct zk_cluster *zk)
{
    bool clash = false;

    for (int i = 0; i < zk->n && !clash; i++) {
        char *text = NULL;
        if (harness_read_file(zk->nodes[i].log, &text, NULL) == 0)
            clash = strstr(text, "Address already in use") != NULL;
        free(text);
    }
    return clash;
}

/* Throws the nodes away (processes, directories) to start on new ports. */
static void reset_nodes(struct zk_cluster *zk)
{
    for (int i = 0; i < zk->n; i++) {
        pid_t pid = node_pid(zk, i);
        if (pid) {
            kill(pid, SIGKILL);
            harness_pid_wait(pid, STOP_TIMEOUT_MS, true, NULL);
        }
        harness_rm_rf(zk->nodes[i].dir);
        free(zk->nodes[i].dir);
        free(zk->nodes[i].cfg);
        free(zk->nodes[i].pidfile);
        free(zk->nodes[i].log);
        memset(&zk->nodes[i], 0, sizeof(zk->nodes[i]));
    }
    free(zk->connect);
    zk->connect = NULL;
}

/* Starts every node and waits until all serve. */
static int start_all(struct zk_cluster *zk)
{
    uint64_t deadline = time_now_ms() + (uint64_t)zk->opt.start_timeout_ms;
    int r = 0;

    for (int i = 0; i < zk->n && r == 0; i++)
        r = spawn_node(zk, i);
    for (int i = 0; i < zk->n && r == 0; i++)
        r = wait_serving(zk, i, deadline);
    return r;
}

struct zk_cluster *zkh_start(int nodes, const struct zkh_options *opt)
{
    struct zk_cluster *zk;
    int r;

    if (nodes < 1 || nodes > MAX_NODES) {
        harness_set_error(-EINVAL, "cannot start %d ZooKeeper nodes (1 to %d)", nodes, MAX_NODES);
        harness_print_error();
        return NULL;
    }
    zk = xnew(struct zk_cluster);
    zk->n = nodes;
    zk->owner = getpid();
    zk->guard.fd = -1;
    resolve_options(zk, opt);
    r = find_java(&zk->java);
    if (r == 0)
        r = find_classpath(&zk->classpath);
    if (r == 0 && !(zk->dir = harness_mkdtemp("zk")))
        r = -EIO;
    if (r < 0) {
        harness_print_error();
        cluster_free(zk);
        return NULL;
    }
    r = harness_guard_start(zk->dir, &zk->guard);
    if (r < 0) {
        harness_print_error();
        harness_rm_rf(zk->dir);
        cluster_free(zk);
        return NULL;
    }
    registry_add(zk);
    for (int attempt = 1;; attempt++) {
        r = prepare_nodes(zk);
        if (r < 0)
            break;
        build_connect_string(zk);
        r = start_all(zk);
        if (r == 0 || attempt == 3 || !port_clash(zk))
            break;
        fprintf(stderr, "harness: a ZooKeeper port was taken meanwhile; trying new ports\n");
        reset_nodes(zk);
    }
    if (r < 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", harness_error());
        harness_print_error();
        zkh_stop(zk);
        harness_set_error(r, "%s", msg);
        return NULL;
    }
    return zk;
}

const char *zkh_connect_string(const struct zk_cluster *zk)
{
    return zk->connect;
}

int zkh_nodes(const struct zk_cluster *zk)
{
    return zk->n;
}

int zkh_node_port(const struct zk_cluster *zk, int i)
{
    return i >= 0 && i < zk->n ? zk->nodes[i].client_port : -EINVAL;
}

pid_t zkh_node_pid(const struct zk_cluster *zk, int i)
{
    return i >= 0 && i < zk->n ? node_pid(zk, i) : 0;
}

const char *zkh_dir(const struct zk_cluster *zk)
{
    return zk->dir;
}

/* Kills the servers, dismisses the guard and removes the directory. */
static void kill_all(struct zk_cluster *zk)
{
    pid_t pids[MAX_NODES] = {0};

    for (int i = 0; i < zk->n; i++) {
        pids[i] = node_pid(zk, i);
        if (pids[i])
            kill(pids[i], SIGKILL);
    }
    for (int i = 0; i < zk->n; i++) {
        if (pids[i])
            harness_pid_wait(pids[i], STOP_TIMEOUT_MS, true, NULL);
    }
    harness_guard_dismiss(&zk->guard);
    if (harness_keep())
        fprintf(stderr, "harness: kept ZooKeeper's directory %s\n", zk->dir);
    else
        harness_rm_rf(zk->dir);
    zk->stopped = true;
}

void zkh_stop(struct zk_cluster *zk)
{
    if (!zk)
        return;
    kill_all(zk);
    registry_remove(zk);
    cluster_free(zk);
}
