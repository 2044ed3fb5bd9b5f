/* util/idmap: put/get over growth, replacement, absent keys, and ids that
 * collide in the low bits (sequential and strided ids). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/idmap.h"

static void keeps_every_id_through_growth(void **state) {
    kb_idmap m;
    kb_idmap_init(&m);
    int64_t v = 0;
    assert_int_equal(kb_idmap_get(&m, 1, &v), 0); /* empty map */
    for (int64_t id = 1; id <= 100000; id++) kb_idmap_put(&m, id * 4096, id + 7); /* strided: same low bits */
    assert_int_equal(m.n, 100000);
    for (int64_t id = 1; id <= 100000; id++) {
        assert_int_equal(kb_idmap_get(&m, id * 4096, &v), 1);
        assert_int_equal(v, id + 7);
    }
    assert_int_equal(kb_idmap_get(&m, 4095, &v), 0);
    assert_int_equal(kb_idmap_get(&m, 0, &v), 0);
    kb_idmap_put(&m, 4096, -5); /* replace */
    assert_int_equal(kb_idmap_get(&m, 4096, &v), 1);
    assert_int_equal(v, -5);
    assert_int_equal(m.n, 100000);
    kb_idmap_put(&m, 0, 1); /* ids are positive: ignored */
    kb_idmap_put(&m, -3, 1);
    assert_int_equal(m.n, 100000);
    kb_idmap_free(&m);
    assert_int_equal(kb_idmap_get(&m, 4096, &v), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keeps_every_id_through_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
