/* fuzz_cfg.c: libFuzzer target for the configuration file parser.
 *
 * The input is a configuration file, handed to cfg_load() through a memfd.
 * Whatever it holds, loading must either fail with a message naming the
 * file and line (or a setting) or succeed with values inside their bounds. */
#include "config.h"

#include "service/cfg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) fail(const char *what)
{
    fprintf(stderr, "fuzz_cfg: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    char *argv[] = {(char *)"mesos-leaderd", (char *)"-c", path, NULL};
    enum cfg_action action;
    struct errbuf err = {{0}};
    struct cfg cfg;
    int fd = memfd_create("fuzz-cfg", MFD_CLOEXEC);

    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        fail("cannot write the memfd");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (cfg_load(3, argv, &cfg, &action, &err) == 0) {
        if (!cfg.listen || !cfg.zk_url.hosts || !cfg.zk_url.path || cfg.retry_tries < 1 ||
            cfg.retry_tries > 20 || cfg.max_connections < 1 || cfg.max_body > (1ull << 30))
            fail("accepted a value outside its bounds");
        cfg_done(&cfg);
    } else if (err.msg[0] == '\0') {
        fail("refused without saying why");
    }
    close(fd);
    return 0;
}
