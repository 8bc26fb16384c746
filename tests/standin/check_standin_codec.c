/* check_standin_codec.c: unit tests of the stand-in's codecs (base64, CRC-32,
 * the stored-block gzip writer, Accept rules, double formatting). */
#include "config.h"

#include "standin/standin.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

START_TEST(base64_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        struct strbuf enc = {0}, dec = {0};
        st_base64_encode(&enc, plain[i], strlen(plain[i]));
        ck_assert_str_eq(enc.data, coded[i]);
        ck_assert_int_eq(st_base64_decode(coded[i], strlen(coded[i]), &dec), 0);
        ck_assert_str_eq(dec.data, plain[i]);
        strbuf_done(&enc);
        strbuf_done(&dec);
    }
}
END_TEST

START_TEST(base64_rejects_garbage)
{
    struct strbuf dec = {0};

    ck_assert_int_lt(st_base64_decode("Zm9v!", 5, &dec), 0);
    strbuf_reset(&dec);
    ck_assert_int_lt(st_base64_decode("Zm=v", 4, &dec), 0);
    strbuf_reset(&dec);
    ck_assert_int_lt(st_base64_decode("Z", 1, &dec), 0);
    strbuf_done(&dec);
}
END_TEST

START_TEST(crc32_check_value)
{
    ck_assert_uint_eq(st_crc32("123456789", 9), 0xcbf43926u);
    ck_assert_uint_eq(st_crc32("", 0), 0);
}
END_TEST

/* Unpacks a stored-block gzip member; returns the payload or NULL. */
static unsigned char *gunzip_stored(const struct strbuf *gz, size_t *ret_len)
{
    const unsigned char *p = (const unsigned char *)gz->data;
    struct strbuf out = {0};
    size_t off = 10;
    bool final = false;

    if (gz->len < 18 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8)
        return NULL;
    while (!final) {
        if (off + 5 > gz->len - 8)
            return NULL;
        final = p[off] & 1;
        size_t n = p[off + 1] | (size_t)p[off + 2] << 8;
        if ((size_t)((p[off + 3] | p[off + 4] << 8) ^ 0xffff) != n || (p[off] & 6) != 0)
            return NULL;
        strbuf_append(&out, p + off + 5, n);
        off += 5 + n;
    }
    if (off != gz->len - 8 || le32(p + off) != st_crc32(out.data, out.len) ||
        le32(p + off + 4) != (uint32_t)out.len) {
        strbuf_done(&out);
        return NULL;
    }
    *ret_len = out.len;
    strbuf_append(&out, "", 0);
    return (unsigned char *)strbuf_steal(&out);
}

START_TEST(gzip_round_trip)
{
    static const size_t sizes[] = {0, 1, 1024, 65535, 65536, 200000};

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *data = malloc(sizes[i] + 1);
        struct strbuf gz = {0};
        unsigned char *back;
        size_t len = 0;

        for (size_t j = 0; j < sizes[i]; j++)
            data[j] = (unsigned char)(j * 7 + 3);
        st_gzip_stored(&gz, data, sizes[i]);
        back = gunzip_stored(&gz, &len);
        ck_assert_ptr_nonnull(back);
        ck_assert_uint_eq(len, sizes[i]);
        ck_assert(memcmp(back, data, len) == 0);
        free(back);
        free(data);
        strbuf_done(&gz);
    }
}
END_TEST

START_TEST(accept_media_type)
{
    const char *json = "application/json";

    ck_assert(st_accepts_media_type(NULL, json));
    ck_assert(st_accepts_media_type("*/*", json));
    ck_assert(st_accepts_media_type("application/*", json));
    ck_assert(st_accepts_media_type("text/html, Application/JSON", json));
    ck_assert(st_accepts_media_type("application/json; q=0.1", json));
    ck_assert(!st_accepts_media_type("application/json;q=0", json));
    ck_assert(!st_accepts_media_type("application/json;q=0.0, */*", json));
    ck_assert(!st_accepts_media_type("application/x-protobuf", json));
    ck_assert(!st_accepts_media_type("application/recordio", json));
    ck_assert(!st_accepts_media_type("", json));
}
END_TEST

START_TEST(accept_encoding)
{
    ck_assert(!st_accepts_encoding(NULL, "gzip"));
    ck_assert(!st_accepts_encoding("", "gzip"));
    ck_assert(st_accepts_encoding("gzip, deflate", "gzip"));
    ck_assert(st_accepts_encoding("*", "gzip"));
    ck_assert(!st_accepts_encoding("gzip;q=0", "gzip"));
    ck_assert(!st_accepts_encoding("deflate", "gzip"));
}
END_TEST

START_TEST(json_doubles)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {{15, "15.0"},   {0, "0.0"},   {0.5, "0.5"}, {90, "90.0"},
                 {1.25, "1.25"}, {0.1, "0.1"}, {-2, "-2.0"}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct strbuf sb = {0};
        st_json_double(&sb, cases[i].v);
        ck_assert_str_eq(sb.data, cases[i].text);
        strbuf_done(&sb);
    }
}
END_TEST

START_TEST(uuid_shape)
{
    char a[37], b[37];

    st_uuid(a);
    st_uuid(b);
    ck_assert_uint_eq(strlen(a), 36);
    ck_assert(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    ck_assert(a[14] == '4');
    ck_assert(strchr("89ab", a[19]) != NULL);
    ck_assert_str_ne(a, b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("standin_codec");
    TCase *tc = tcase_create("codec");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, base64_vectors);
    tcase_add_test(tc, base64_rejects_garbage);
    tcase_add_test(tc, crc32_check_value);
    tcase_add_test(tc, gzip_round_trip);
    tcase_add_test(tc, accept_media_type);
    tcase_add_test(tc, accept_encoding);
    tcase_add_test(tc, json_doubles);
    tcase_add_test(tc, uuid_shape);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
