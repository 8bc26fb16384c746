/* mesos-leaderd.c: the daemon's entry point: read the configuration, then
 * run the service (src/service/daemon.c). */
#include "config.h"

#include "base/log.h"
#include "service/cfg.h"
#include "service/daemon.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    struct cfg cfg;
    struct errbuf err = {{0}};
    enum cfg_action action;
    int status;

    log_init("mesos-leaderd", LOG_INFO);
    if (cfg_load(argc, argv, &cfg, &action, &err) < 0) {
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
    if (cfg.test_only) {
        cfg_warn(&cfg);
        if (cfg.config_file)
            printf("configuration OK (%s)\n", cfg.config_file);
        else
            printf("configuration OK (no configuration file)\n");
        cfg_done(&cfg);
        return EXIT_SUCCESS;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        cfg_done(&cfg);
        return EXIT_FAILURE;
    }
    status = daemon_run(&cfg, argc, argv);
    curl_global_cleanup();
    return status;
}
