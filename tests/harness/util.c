/* util.c: the harness's error message, paths in the build and source trees,
 * temporary directories and whole-file reads and writes. */
#include "config.h"

#include "internal.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char last_error[1024];

int harness_set_error(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return code;
}

void harness_print_error(void)
{
    fprintf(stderr, "harness: %s\n", last_error);
}

const char *harness_error(void)
{
    return last_error;
}

static char *dir_path(const char *var, const char *rel)
{
    const char *dir = getenv(var);

    if (!dir || !*dir)
        dir = ".";
    while (rel[0] == '/')
        rel++;
    return xasprintf("%s/%s", dir, rel);
}

char *harness_builddir_path(const char *rel)
{
    return dir_path("HARNESS_BUILDDIR", rel);
}

char *harness_srcdir_path(const char *rel)
{
    return dir_path("HARNESS_SRCDIR", rel);
}

const char *harness_tmpdir(void)
{
    const char *t = getenv("TMPDIR");

    return t && t[0] == '/' ? t : "/tmp";
}

bool harness_keep(void)
{
    const char *k = getenv("HARNESS_KEEP");

    return k && *k && strcmp(k, "0") != 0;
}

char *harness_mkdtemp(const char *prefix)
{
    return harness_mkdtemp_in(harness_tmpdir(), prefix);
}

char *harness_mkdtemp_in(const char *parent, const char *prefix)
{
    char *path = xasprintf("%s/%s-XXXXXX", parent, prefix);

    if (!mkdtemp(path)) {
        harness_set_error(-errno, "cannot create a directory like '%s': %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (remove(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int harness_rm_rf(const char *path)
{
    int r = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

    if (r == -1 && errno == ENOENT)
        return 0;
    if (r != 0)
        return harness_set_error(r < 0 && r != -1 ? r : -errno, "cannot remove '%s'", path);
    return 0;
}

int harness_read_file(const char *path, char **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0, cap = 4096;
    char *buf;
    ssize_t n;

    if (fd < 0)
        return harness_set_error(-errno, "cannot open '%s': %s", path, strerror(errno));
    buf = xmalloc(cap);
    while ((n = read(fd, buf + len, cap - len - 1)) != 0) {
        if (n < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            close(fd);
            free(buf);
            return harness_set_error(-e, "cannot read '%s': %s", path, strerror(e));
        }
        len += (size_t)n;
        if (cap - len < 2) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    close(fd);
    buf[len] = '\0';
    *ret = buf;
    if (ret_len)
        *ret_len = len;
    return 0;
}

int harness_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const char *p = data;

    if (fd < 0)
        return harness_set_error(-errno, "cannot create '%s': %s", path, strerror(errno));
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return harness_set_error(-e, "cannot write '%s': %s", path, strerror(e));
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) < 0)
        return harness_set_error(-errno, "cannot write '%s': %s", path, strerror(errno));
    return 0;
}

void harness_nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

void harness_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}
