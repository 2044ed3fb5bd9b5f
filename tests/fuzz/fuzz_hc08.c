/* fuzz_hc08.c -- libFuzzer harness for the hc08 XML reader.  One reader is
 * reused across inputs, as the importer does, so state leaking from one
 * document into the next is exercised too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "domain/exam.h"
#include "formats/hc08_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static kb_hc08_reader *r;
    static kb_exam x;
    if (!r) {
        r = kb_hc08_reader_new();
        kb_exam_init(&x);
    }
    kb_err e;
    e.msg[0] = '\0';
    int rc = kb_hc08_parse(r, (const char *)data, size, "DATA/h0000000001.xml", &x, &e);
    if (rc != C_OK && !e.msg[0]) __builtin_trap(); /* an error must say why */
    /* Touch what a consumer would read, so bad pointers show up here. */
    size_t sum = strlen(x.record_id) + strlen(x.who.family_kana) + strlen(x.who.address);
    for (size_t i = 0; i < x.n_obs; i++) {
        sum += strlen(x.obs[i].code) + strlen(x.obs[i].num_text) + strlen(x.obs[i].coded);
        if (x.obs[i].text) sum += strlen(x.obs[i].text);
    }
    (void)sum;
    return 0;
}
