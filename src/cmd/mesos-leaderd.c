/* mesos-leaderd.c: the daemon's entry point: read the configuration, then
 * run the service (src/service/daemon.c). */
#include "config.h"

#include "base/log.h"
#include "service/cfg.h"
#include "service/daemon.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

/* --test-config speaks to a person at a terminal: plain lines on stderr,
 * without the log's timestamp and level. */
static void print_warning(void *data, const char *msg)
{
    (void)data;
    fprintf(stderr, "mesos-leaderd: warning: %s\n", msg);
}

/* Checks the configuration, says so, and returns the exit status. */
static int test_config(struct cfg *cfg)
{
    cfg_warn(cfg, print_warning, NULL);
    if (cfg->config_file && cfg->has_sections)
        printf("configuration OK (%s, %zu clusters)\n", cfg->config_file, cfg->n_clusters);
    else if (cfg->config_file)
        printf("configuration OK (%s)\n", cfg->config_file);
    else
        printf("configuration OK (no configuration file)\n");
    cfg_done(cfg);
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    struct cfg cfg;
    struct errbuf err = {{0}};
    enum cfg_action action;
    int status;

    log_init("mesos-leaderd", LOG_INFO);
    if (cfg_load(argc, argv, &cfg, &action, &err) < 0) {
        if (cfg_args_test_only(argc, argv))
            fprintf(stderr, "mesos-leaderd: %s\n", err.msg);
        else
            log_error("%s", err.msg);
        return EXIT_FAILURE;
    }
    if (action == CFG_HELP) {
        cfg_usage(stdout);
        return EXIT_SUCCESS;
    }
    if (action == CFG_VERSION) {
        printf("mesos-leaderd %s\n", PACKAGE_VERSION);
        return EXIT_SUCCESS;
    }
    log_set_max_priority(cfg.log_level);
    if (cfg.test_only)
        return test_config(&cfg);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        cfg_done(&cfg);
        return EXIT_FAILURE;
    }
    status = daemon_run(&cfg, argc, argv);
    curl_global_cleanup();
    return status;
}
