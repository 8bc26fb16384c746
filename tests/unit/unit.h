/* unit.h: what every unit test program shares: running its suite. */
#ifndef MLD_UNIT_H
#define MLD_UNIT_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes @content to a new temporary file; returns its path (caller frees
 * it and unlinks the file). */
static inline char *unit_write_temp(const char *content)
{
    char *path = strdup("/tmp/check_unit_XXXXXX");
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

/* Runs @s and returns the exit status for main(). */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Builds a suite of one test case named @name from @tests (NULL-terminated). */
static inline Suite *unit_suite(const char *name, const TTest *const *tests)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);

    for (size_t i = 0; tests[i]; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return s;
}

#endif
