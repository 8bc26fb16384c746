/* fuzz_cfg.c: libFuzzer target for the configuration file parser.
 *
 * The input is a configuration file, handed to cfg_load() through a memfd.
 * Whatever it holds ([cluster] sections included), loading must either fail
 * with a message naming the file and line (or a setting) or succeed with
 * values inside their bounds in every cluster. */
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
        if (cfg.n_clusters < 1 || cfg.n_clusters > CFG_MAX_CLUSTERS)
            fail("accepted a number of clusters outside its bounds");
        for (size_t k = 0; k < cfg.n_clusters; k++) {
            const struct cfg_cluster *c = &cfg.clusters[k];
            if (!c->listen || !c->zk_url.hosts || !c->zk_url.path || c->retry_tries < 1 ||
                c->retry_tries > 20 || c->max_connections < 1 || c->max_body > (1ull << 30) ||
                !c->shared_read_paths)
                fail("accepted a value outside its bounds");
            for (size_t i = 0; c->shared_read_paths[i]; i++) {
                if (c->shared_read_paths[i][0] != '/')
                    fail("accepted a shared read path without '/'");
            }
        }
        cfg_done(&cfg);
    } else if (err.msg[0] == '\0') {
        fail("refused without saying why");
    }
    close(fd);
    return 0;
}
