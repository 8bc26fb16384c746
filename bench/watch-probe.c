/* watch-probe.c: how fast leader changes reach the clients that wait for
 * them (built as bench/watch-probe, run by the script bench/watch).
 *
 * It starts nothing but `mesos-leader --watch` (with --leader-cmd): the
 * script starts ZooKeeper, two bench/backend processes WITHOUT --zk (each
 * with its own --id) and mesos-leaderd. This program registers both backends
 * as masters with its own ZooKeeper session (MasterInfo JSON in ephemeral
 * sequential json.info_ znodes, as Mesos does: the first one leads), waits
 * until --target names the first as the leader in GET /leaderd/v1/leader,
 * then holds the clients open:
 *   --polls N   long polls: GET /leaderd/v1/leader?wait=INDEX&timeout=300,
 *               asked again with the new index as soon as one is answered;
 *   --events N  server-sent event streams: GET /leaderd/v1/leader with
 *               Accept: text/event-stream;
 *   --leader-cmd PATH  `PATH --watch --zk URL` (mesos-leader), its lines
 *               read from a pipe;
 * and, --warmup + --changes times:
 *
 *   t0  just before a synchronous zoo_delete() of the leader's znode;
 *   tw  when its own child watch on the path fires (ZooKeeper sends the
 *       notification to every watcher before the delete's answer);
 *   t1  when zoo_delete() returned: the znode has left ZooKeeper;
 *   tc  for each client, when it first read a document, event or line that
 *       names the other master as the leader (the time read() returned);
 *   with --daemon-log (the daemon's stderr at --log-level debug): when the
 *   daemon logged "watch fired on" and "leader changed" (to the millisecond,
 *   its log's resolution);
 *
 * then registers the deleted master again (the standby now) and waits until
 * the daemon lists it with its address and every client has seen that
 * document, so that changes never overlap. Prints one "change ..." line per
 * change with key=value pairs, times in milliseconds relative to t1
 * (CLOCK_MONOTONIC); per kind of client the first, median and last client.
 * Exits 1 when a client's connection ends or a change does not reach every
 * client within 30 s. */
#include "config.h"

#include "benchutil.h"
#include "masterpair.h"
#include "zkreg.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "zk/zkurl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define MAX_ROUNDS    10000
#define MAX_CLIENTS   20000
#define ZK_SESSION_MS 10000
#define WAIT_MS       30000 /* for ZooKeeper, the daemon, a change to reach everyone */
#define MAX_BUFFERED  (1 << 20)
#define CONNECT_BATCH 200 /* event streams connected before their heads are awaited */

extern char **environ;

enum kind { K_POLL, K_EVENTS, K_CMD, K_COUNT };
static const char *const kind_name[K_COUNT] = {"poll", "events", "cmd"};

struct options {
    struct pair_args pair;
    const char *leader_cmd, *daemon_log;
    unsigned long changes, warmup, polls, events;
};

/* One waiting client; its fields after `fd` are the io thread's, except
 * those marked (lock). */
struct client {
    enum kind kind;
    int fd;
    struct strbuf in;     /* bytes read and not parsed yet */
    struct strbuf body;   /* K_EVENTS: the event stream, chunks undone */
    bool head_done;       /* K_EVENTS: its response head was read */
    uint64_t index;       /* (lock) index of the last document read */
    int leader;           /* (lock) the master it names as leader, or -1 */
    uint64_t got_ns;      /* (lock) when it first named the new leader */
    struct client *owner; /* for epoll: the client itself */
};

struct shared {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct options opt;
    atomic_bool stop;
    struct client *clients;
    size_t n_clients, n_kind[K_COUNT];
    int ep;
    pid_t cmd_pid;
    bool failed;    /* (lock) a client's connection ended */
    int new_leader; /* (lock) the master a change waits for, or -1 */
    size_t n_got;   /* (lock) clients that saw it */
};

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: watch-probe --zk URL --target HOST:PORT --master ID=PORT --master ID=PORT "
        "[OPTIONS]\n"
        "Leader changes in ZooKeeper, timed until the daemon's waiting clients hear of them.\n\n"
        "%s"
        "  --changes N         measured leader changes (default 20)\n"
        "  --warmup N          leader changes first made and not counted (default 2)\n"
        "  --polls N           long-poll clients (default 1)\n"
        "  --events N          server-sent event clients (default 1)\n"
        "  --leader-cmd PATH   also run PATH --watch --zk URL (mesos-leader)\n"
        "  --daemon-log FILE   the daemon's log (debug level) for its own times\n"
        "  -h, --help          print this help\n",
        PAIR_ARGS_HELP);
}

static int parse_option(int ch, const char *arg, struct options *o)
{
    switch (ch) {
    case 'n':
        return bench_parse_ulong(arg, MAX_ROUNDS, &o->changes);
    case 'w':
        return bench_parse_ulong(arg, MAX_ROUNDS, &o->warmup);
    case 'p':
        return bench_parse_ulong(arg, MAX_CLIENTS, &o->polls);
    case 'e':
        return bench_parse_ulong(arg, MAX_CLIENTS, &o->events);
    case 'c':
        o->leader_cmd = arg;
        return 0;
    case 'l':
        o->daemon_log = arg;
        return 0;
    case 'h':
        usage(stdout);
        exit(0);
    default:
        return pair_args_option(&o->pair, ch, arg);
    }
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"zk", required_argument, NULL, 'z'},
                                             {"target", required_argument, NULL, 't'},
                                             {"master", required_argument, NULL, 'm'},
                                             {"changes", required_argument, NULL, 'n'},
                                             {"warmup", required_argument, NULL, 'w'},
                                             {"polls", required_argument, NULL, 'p'},
                                             {"events", required_argument, NULL, 'e'},
                                             {"leader-cmd", required_argument, NULL, 'c'},
                                             {"daemon-log", required_argument, NULL, 'l'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct options){.changes = 20, .warmup = 2, .polls = 1, .events = 1};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        rc = parse_option(ch, optarg, o);
    if (rc == 0 &&
        (optind != argc || !pair_args_complete(&o->pair) || o->changes == 0 ||
         o->polls + o->events + (o->leader_cmd != NULL) == 0 || o->polls + o->events > MAX_CLIENTS))
        rc = -EINVAL;
    if (rc < 0)
        usage(stderr);
    return rc;
}

/* ---- what the clients read ---------------------------------------------- */

/* The master a leader document names: 0 or 1, or -1 (none, or another). */
static int leader_in_document(const struct options *o, const char *doc)
{
    const char *p = strstr(doc, "\"leader\":{\"id\":\"");

    if (!p)
        return -1;
    p += strlen("\"leader\":{\"id\":\"");
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(o->pair.id[i]);
        if (strncmp(p, o->pair.id[i], n) == 0 && p[n] == '"')
            return i;
    }
    return -1;
}

static uint64_t index_in_document(const char *doc)
{
    const char *p = strstr(doc, "\"index\":");

    return p ? strtoull(p + strlen("\"index\":"), NULL, 10) : 0;
}

/* A client read a document (or a line) naming @leader, at @now. */
static void observe(struct shared *sh, struct client *c, uint64_t index, int leader, uint64_t now)
{
    pthread_mutex_lock(&sh->lock);
    if (index)
        c->index = index;
    c->leader = leader;
    if (sh->new_leader >= 0 && leader == sh->new_leader && c->got_ns == 0) {
        c->got_ns = now;
        sh->n_got++;
    }
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
}

static void observe_document(struct shared *sh, struct client *c, const char *doc, uint64_t now)
{
    observe(sh, c, index_in_document(doc), leader_in_document(&sh->opt, doc), now);
}

static int send_text(int fd, const char *text)
{
    size_t len = strlen(text);

    /* A request is small: the socket buffer takes it whole. */
    return send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -EIO;
}

static int send_poll(struct shared *sh, struct client *c)
{
    char req[256];
    uint64_t index;

    pthread_mutex_lock(&sh->lock);
    index = c->index;
    pthread_mutex_unlock(&sh->lock);
    snprintf(req, sizeof(req),
             "GET /leaderd/v1/leader?wait=%llu&timeout=300 HTTP/1.1\r\nHost: localhost\r\n\r\n",
             (unsigned long long)index);
    return send_text(c->fd, req);
}

/* Long poll: each whole answer is a document; then the next wait. */
static int parse_poll(struct shared *sh, struct client *c, uint64_t now)
{
    for (;;) {
        const char *end = strstr(c->in.data ? c->in.data : "", "\r\n\r\n");
        size_t hlen, vlen, blen;
        const char *v;

        if (!end)
            return 0;
        hlen = (size_t)(end - c->in.data) + 4;
        if (strncmp(c->in.data + 9, "200", 3) != 0)
            return -EPROTO;
        if ((v = bench_header(c->in.data, hlen, "Content-Length", &vlen)) != NULL)
            blen = strtoul(v, NULL, 10);
        else if ((blen = bench_chunked_length(c->in.data + hlen, c->in.len - hlen)) == 0)
            return 0;
        if (c->in.len - hlen < blen)
            return 0;
        observe_document(sh, c, c->in.data + hlen, now);
        strbuf_consume(&c->in, hlen + blen);
        if (send_poll(sh, c) < 0)
            return -EIO;
    }
}

/* One event (its lines, without the blank line that ends it). */
static void parse_event(struct shared *sh, struct client *c, const char *ev, uint64_t now)
{
    const char *data = strstr(ev, "data: ");

    if (ev[0] == ':' || !data)
        return; /* a comment: keepalive */
    observe_document(sh, c, data, now);
}

/* Event stream: the head once, then chunks into c->body, cut into events. */
static int parse_events(struct shared *sh, struct client *c, uint64_t now)
{
    char *end;

    if (!c->head_done) {
        end = strstr(c->in.data ? c->in.data : "", "\r\n\r\n");
        if (!end)
            return 0;
        if (strncmp(c->in.data + 9, "200", 3) != 0)
            return -EPROTO;
        strbuf_consume(&c->in, (size_t)(end - c->in.data) + 4);
        c->head_done = true;
    }
    for (;;) { /* whole chunks: "SIZE\r\nDATA\r\n" */
        const char *lf = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
        size_t size, off;

        if (!lf)
            break;
        size = strtoul(c->in.data, NULL, 16);
        off = (size_t)(lf - c->in.data) + 1;
        if (size == 0)
            return -EPIPE; /* the stream ended */
        if (c->in.len - off < size + 2)
            break;
        strbuf_append(&c->body, c->in.data + off, size);
        strbuf_consume(&c->in, off + size + 2);
    }
    while (c->body.len && (end = strstr(c->body.data, "\n\n")) != NULL) {
        *end = '\0';
        parse_event(sh, c, c->body.data, now);
        strbuf_consume(&c->body, (size_t)(end - c->body.data) + 2);
    }
    return 0;
}

/* mesos-leader --watch: one "host:port" line per change. */
static int parse_lines(struct shared *sh, struct client *c, uint64_t now)
{
    char *lf;

    while (c->in.len && (lf = memchr(c->in.data, '\n', c->in.len)) != NULL) {
        const char *colon;
        unsigned long port;
        int leader = -1;

        *lf = '\0';
        colon = strrchr(c->in.data, ':');
        port = colon ? strtoul(colon + 1, NULL, 10) : 0;
        for (int i = 0; i < 2; i++)
            if (port && port == sh->opt.pair.port[i])
                leader = i;
        observe(sh, c, 0, leader, now);
        strbuf_consume(&c->in, (size_t)(lf - c->in.data) + 1);
    }
    return 0;
}

/* ---- the io thread ------------------------------------------------------ */

/* Reads what @c has; 0, or an error when its connection ended. */
static int client_read(struct shared *sh, struct client *c)
{
    char buf[64 * 1024];
    uint64_t now = 0;
    int rc = 0;

    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0)
            return n == 0 ? -EPIPE : -errno;
        if (!now)
            now = time_now_ns();
        strbuf_append(&c->in, buf, (size_t)n);
        if (c->in.len > MAX_BUFFERED)
            return -E2BIG;
    }
    if (c->kind == K_POLL)
        rc = parse_poll(sh, c, now);
    else if (c->kind == K_EVENTS)
        rc = parse_events(sh, c, now);
    else
        rc = parse_lines(sh, c, now);
    return rc;
}

static void *io_main(void *arg)
{
    struct shared *sh = arg;
    struct epoll_event evs[256];

    while (!sh->stop) {
        int n = epoll_wait(sh->ep, evs, 256, 100);

        for (int i = 0; i < n; i++) {
            struct client *c = evs[i].data.ptr;
            int rc = client_read(sh, c);

            if (rc == 0)
                continue;
            fprintf(stderr, "watch-probe: a %s client's connection ended: %s\n", kind_name[c->kind],
                    strerror(-rc));
            epoll_ctl(sh->ep, EPOLL_CTL_DEL, c->fd, NULL);
            pthread_mutex_lock(&sh->lock);
            sh->failed = true;
            pthread_cond_broadcast(&sh->cond);
            pthread_mutex_unlock(&sh->lock);
        }
    }
    return NULL;
}

/* ---- the clients ---------------------------------------------------------- */

static int connect_target(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static int watch_fd(struct shared *sh, struct client *c)
{
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};

    bench_socket_setup(c->fd);
    return epoll_ctl(sh->ep, EPOLL_CTL_ADD, c->fd, &e) < 0 ? -errno : 0;
}

static int open_http_client(struct shared *sh, struct client *c)
{
    static const char events_req[] = "GET /leaderd/v1/leader HTTP/1.1\r\nHost: localhost\r\n"
                                     "Accept: text/event-stream\r\n\r\n";
    int rc;

    c->fd = connect_target(&sh->opt.pair.target);
    if (c->fd < 0)
        return c->fd;
    rc = c->kind == K_POLL ? send_poll(sh, c) : send_text(c->fd, events_req);
    return rc < 0 ? rc : watch_fd(sh, c);
}

/* Starts `PATH --watch --zk URL` with its standard output into a pipe. */
static int open_cmd_client(struct shared *sh, struct client *c)
{
    char watch[] = "--watch", zk[] = "--zk";
    char *argv[] = {(char *)sh->opt.leader_cmd, watch, zk, (char *)sh->opt.pair.zk, NULL};
    posix_spawn_file_actions_t fa;
    int pipefd[2], rc;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    rc = posix_spawn(&sh->cmd_pid, sh->opt.leader_cmd, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        sh->cmd_pid = 0;
        return -rc;
    }
    c->fd = pipefd[0];
    return watch_fd(sh, c);
}

static int open_clients(struct shared *sh)
{
    const struct options *o = &sh->opt;
    size_t i = 0;
    int rc = 0;

    sh->n_kind[K_POLL] = o->polls;
    sh->n_kind[K_EVENTS] = o->events;
    sh->n_kind[K_CMD] = o->leader_cmd != NULL;
    sh->n_clients = o->polls + o->events + sh->n_kind[K_CMD];
    sh->clients = xcalloc(sh->n_clients, sizeof(*sh->clients));
    for (int k = 0; k < K_COUNT; k++) {
        for (size_t j = 0; j < sh->n_kind[k] && rc == 0; j++, i++) {
            struct client *c = &sh->clients[i];
            c->kind = (enum kind)k;
            c->leader = -1;
            rc = k == K_CMD ? open_cmd_client(sh, c) : open_http_client(sh, c);
            if (rc < 0)
                fprintf(stderr, "watch-probe: cannot open %s client %zu: %s\n", kind_name[k], j + 1,
                        strerror(-rc));
        }
    }
    return rc;
}

static void close_clients(struct shared *sh)
{
    for (size_t i = 0; i < sh->n_clients; i++) {
        struct client *c = &sh->clients[i];
        if (c->fd > 0)
            close(c->fd);
        strbuf_done(&c->in);
        strbuf_done(&c->body);
    }
    if (sh->cmd_pid > 0) {
        kill(sh->cmd_pid, SIGTERM);
        waitpid(sh->cmd_pid, NULL, 0);
    }
    free(sh->clients);
}

/* ---- waiting ---------------------------------------------------------------- */

/* Whether every client names @leader (the HTTP ones in a document of at
 * least @index); under the lock. */
static bool all_name(const struct shared *sh, int leader, uint64_t index)
{
    for (size_t i = 0; i < sh->n_clients; i++) {
        const struct client *c = &sh->clients[i];
        if (c->leader != leader || (c->kind != K_CMD && c->index < index))
            return false;
    }
    return true;
}

/* Waits until every client names @leader at @index or later; 0, -EPIPE (a
 * client is gone) or -ETIMEDOUT. */
static int wait_all_name(struct shared *sh, int leader, uint64_t index)
{
    struct timespec deadline;
    int rc = 0;

    bench_deadline_in(&deadline, WAIT_MS);
    pthread_mutex_lock(&sh->lock);
    while (rc == 0 && !sh->failed && !all_name(sh, leader, index))
        rc = pthread_cond_timedwait(&sh->cond, &sh->lock, &deadline);
    rc = sh->failed ? -EPIPE : rc ? -ETIMEDOUT : 0;
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

/* ---- the daemon's own view ---------------------------------------------- */

/* GET /leaderd/v1/leader on a new connection: the document in @doc; 0 or
 * a negative errno. */
static int fetch_document(const struct sockaddr_in *sa, struct strbuf *doc)
{
    static const char req[] =
        "GET /leaderd/v1/leader HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    struct strbuf buf = {0};
    char chunk[16 * 1024];
    const char *body;
    ssize_t n;
    int fd = connect_target(sa), rc = 0;

    if (fd < 0)
        return fd;
    if (send_text(fd, req) < 0)
        rc = -EIO;
    while (rc == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno != EINTR)
            rc = -errno;
        else if (n > 0)
            strbuf_append(&buf, chunk, (size_t)n);
    }
    close(fd);
    body = buf.data ? strstr(buf.data, "\r\n\r\n") : NULL;
    if (rc == 0 && (!body || strncmp(buf.data + 9, "200", 3) != 0))
        rc = -EPROTO;
    strbuf_reset(doc);
    if (rc == 0)
        strbuf_puts(doc, body + 4);
    strbuf_done(&buf);
    return rc;
}

/* Polls the daemon (every 10 ms, at most WAIT_MS) until its document names
 * @leader as the leader and lists @standby with an address; returns that
 * document's index, or 0 on timeout. */
static uint64_t wait_daemon(const struct shared *sh, int leader, const struct master *standby)
{
    const char *base = zkreg_member_name(standby->znode);
    uint64_t deadline = time_now_ns() + (uint64_t)WAIT_MS * 1000000u, index = 0;
    struct strbuf doc = {0};

    while (index == 0 && time_now_ns() < deadline) {
        if (fetch_document(&sh->opt.pair.target, &doc) == 0 &&
            leader_in_document(&sh->opt, doc.data) == leader) {
            const char *p = strstr(doc.data, base);
            const char *brace = p ? strchr(p, '}') : NULL;
            const char *addr = p ? strstr(p, "\"address\"") : NULL;
            if (addr && brace && addr < brace)
                index = index_in_document(doc.data);
        }
        if (index == 0)
            bench_sleep_ms(10);
    }
    strbuf_done(&doc);
    return index;
}

/* The time of a line of the daemon's log ("YYYY-MM-DD HH:MM:SS.mmm ...",
 * local time), in ns since the epoch, or 0. */
static uint64_t log_line_time(const char *line)
{
    struct tm tm = {0};
    int ms;
    time_t t;

    if (sscanf(line, "%d-%d-%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    /* The middle of the millisecond the line names: within 0.5 ms. */
    return t < 0 ? 0 : (uint64_t)t * 1000000000u + (uint64_t)ms * 1000000u + 500000u;
}

static long file_size(const char *path)
{
    struct stat st;

    return path && stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* From offset @off of the daemon's log: when it logged the watch and the
 * new leader (ns since the epoch, 0 when not found). */
static void daemon_times(const char *path, long off, uint64_t *watch, uint64_t *switched)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    char *line = NULL;
    size_t cap = 0;

    *watch = *switched = 0;
    if (!f)
        return;
    if (fseek(f, off, SEEK_SET) == 0) {
        while ((!*watch || !*switched) && getline(&line, &cap, f) > 0) {
            if (!*watch && strstr(line, "debug: watch fired on "))
                *watch = log_line_time(line);
            else if (!*switched && strstr(line, ": leader changed: now "))
                *switched = log_line_time(line);
        }
    }
    free(line);
    fclose(f);
}

/* ---- changes ---------------------------------------------------------------- */

struct run {
    struct shared *sh;
    struct master_pair pair;
};

/* What one change measured; times in ns (CLOCK_MONOTONIC). */
struct change {
    uint64_t t0, tw, t1, real_t1, daemon_watch, daemon_switch; /* daemon_*: epoch ns */
    uint64_t *got;                                             /* per client */
};

/* Deletes master @old's znode; waits until every client names the other. */
static int change_leader(struct run *r, int old, struct change *ch)
{
    struct shared *sh = r->sh;
    struct timespec deadline, real;
    int rc = master_pair_watch(&r->pair), wrc = 0;

    if (rc < 0)
        return rc;
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < sh->n_clients; i++)
        sh->clients[i].got_ns = 0;
    sh->n_got = 0;
    sh->new_leader = 1 - old;
    pthread_mutex_unlock(&sh->lock);
    ch->t0 = time_now_ns();
    rc = master_pair_delete(&r->pair, old);
    ch->t1 = time_now_ns();
    clock_gettime(CLOCK_REALTIME, &real);
    ch->real_t1 = (uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec;
    bench_deadline_in(&deadline, WAIT_MS);
    pthread_mutex_lock(&sh->lock);
    while (rc == 0 && wrc == 0 && !sh->failed && sh->n_got < sh->n_clients)
        wrc = pthread_cond_timedwait(&sh->cond, &sh->lock, &deadline);
    sh->new_leader = -1;
    ch->tw = atomic_load(&r->pair.watch.fired_ns);
    for (size_t i = 0; i < sh->n_clients; i++)
        ch->got[i] = sh->clients[i].got_ns;
    pthread_mutex_unlock(&sh->lock);
    if (rc < 0)
        return rc;
    return sh->failed ? -EPIPE : wrc ? -ETIMEDOUT : 0;
}

static double ms_since(uint64_t t, uint64_t since)
{
    return ((double)t - (double)since) / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* Appends " KIND_first_ms=... KIND_median_ms=... KIND_last_ms=..." for the
 * clients of @kind. */
static void kind_times(const struct shared *sh, const struct change *ch, enum kind kind,
                       struct strbuf *out)
{
    uint64_t *v = xcalloc(sh->n_clients, sizeof(*v));
    size_t n = 0;

    for (size_t i = 0; i < sh->n_clients; i++)
        if (sh->clients[i].kind == kind)
            v[n++] = ch->got[i];
    if (n > 0) {
        qsort(v, n, sizeof(*v), cmp_u64);
        strbuf_printf(out, " %s_first_ms=%.3f %s_median_ms=%.3f %s_last_ms=%.3f", kind_name[kind],
                      ms_since(v[0], ch->t1), kind_name[kind], ms_since(v[(n - 1) / 2], ch->t1),
                      kind_name[kind], ms_since(v[n - 1], ch->t1));
    }
    free(v);
}

static void report_change(const struct shared *sh, unsigned long i, const struct change *ch)
{
    struct strbuf line = {0};

    strbuf_printf(&line, "change %lu warmup=%d delete_ms=%.3f watch_ms=", i + 1, i < sh->opt.warmup,
                  ms_since(ch->t1, ch->t0));
    strbuf_printf(&line, ch->tw ? "%.3f" : "n/a", ms_since(ch->tw, ch->t1));
    strbuf_puts(&line, " daemon_watch_ms=");
    strbuf_printf(&line, ch->daemon_watch ? "%.3f" : "n/a",
                  ms_since(ch->daemon_watch, ch->real_t1));
    strbuf_puts(&line, " daemon_switch_ms=");
    strbuf_printf(&line, ch->daemon_switch ? "%.3f" : "n/a",
                  ms_since(ch->daemon_switch, ch->real_t1));
    for (int k = 0; k < K_COUNT; k++)
        kind_times(sh, ch, (enum kind)k, &line);
    printf("%s\n", line.data);
    fflush(stdout);
    strbuf_done(&line);
}

static int run_changes(struct run *r)
{
    struct shared *sh = r->sh;
    const struct options *o = &sh->opt;
    struct change ch = {.got = xcalloc(sh->n_clients, sizeof(uint64_t))};
    int cur = 0, rc = 0;

    for (unsigned long i = 0; rc == 0 && i < o->warmup + o->changes; i++) {
        uint64_t index = wait_daemon(sh, cur, &r->pair.m[1 - cur]);
        long off;

        rc = index ? wait_all_name(sh, cur, index) : -ETIMEDOUT;
        if (rc < 0) {
            fprintf(stderr,
                    "watch-probe: before change %lu, not every client names '%s' with "
                    "'%s' listed: %s\n",
                    i + 1, o->pair.id[cur], r->pair.m[1 - cur].znode, strerror(-rc));
            break;
        }
        off = file_size(o->daemon_log);
        rc = change_leader(r, cur, &ch);
        if (rc < 0) {
            fprintf(stderr, "watch-probe: change %lu did not reach every client: %s\n", i + 1,
                    strerror(-rc));
            break;
        }
        daemon_times(o->daemon_log, off, &ch.daemon_watch, &ch.daemon_switch);
        report_change(sh, i, &ch);
        rc = master_pair_register(&r->pair, cur); /* the standby of the next change */
        cur = 1 - cur;
    }
    free(ch.got);
    return rc;
}

/* ---- main ---------------------------------------------------------------- */

/* Connects, registers both masters (the first leads) and waits until the
 * daemon names the first. */
static int setup(struct run *r, const struct zkurl *u)
{
    const struct options *o = &r->sh->opt;

    r->pair = (struct master_pair){.prog = "watch-probe", .path = u->path};
    master_pair_local(&r->pair, &o->pair);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    if (master_pair_start(&r->pair, u->hosts, ZK_SESSION_MS, WAIT_MS) < 0)
        return -EIO;
    printf("watch-probe registered leader=%s standby=%s\n", r->pair.m[0].znode, r->pair.m[1].znode);
    fflush(stdout);
    if (wait_daemon(r->sh, 0, &r->pair.m[1]) == 0) {
        fprintf(stderr, "watch-probe: the target does not name '%s' as the leader\n",
                o->pair.id[0]);
        return -ETIMEDOUT;
    }
    return 0;
}

/* Opens the clients and waits until each has read the first leader. */
static int start_clients(struct shared *sh, pthread_t *io)
{
    int rc;

    sh->ep = epoll_create1(EPOLL_CLOEXEC);
    if (sh->ep < 0 || pthread_create(io, NULL, io_main, sh) != 0)
        return -EAGAIN;
    rc = open_clients(sh);
    if (rc == 0)
        rc = wait_all_name(sh, 0, 1);
    if (rc == 0)
        printf("watch-probe clients=%zu polls=%zu events=%zu cmd=%zu\n", sh->n_clients,
               sh->n_kind[K_POLL], sh->n_kind[K_EVENTS], sh->n_kind[K_CMD]);
    else
        fprintf(stderr, "watch-probe: the clients did not all read the first leader: %s\n",
                strerror(-rc));
    fflush(stdout);
    return rc;
}

int main(int argc, char **argv)
{
    static struct shared sh;
    struct run r = {.sh = &sh};
    struct zkurl u = {0};
    struct errbuf err = {{0}};
    pthread_t io;
    bool io_started = false;
    int rc;

    if (parse_options(argc, argv, &sh.opt) < 0)
        return 2;
    if (zkurl_parse(sh.opt.pair.zk, &u, &err) < 0) {
        fprintf(stderr, "watch-probe: %s\n", err.msg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    bench_raise_nofile();
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.cond, NULL);
    sh.new_leader = -1;
    sh.ep = -1;
    rc = setup(&r, &u);
    if (rc == 0) {
        rc = start_clients(&sh, &io);
        io_started = sh.ep >= 0;
    }
    if (rc == 0)
        rc = run_changes(&r);
    sh.stop = true;
    if (io_started)
        pthread_join(io, NULL);
    close_clients(&sh);
    master_pair_done(&r.pair); /* the ephemeral znodes go with the session */
    zkurl_done(&u);
    return rc == 0 ? 0 : 1;
}
