/* fuzz_claim.c -- libFuzzer harness for the settlement reader (cc08/gc08). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/claim_read.h"

/* Alternates a fresh reader with one kept across inputs, as the importer
 * keeps one per thread: a refusal stops the parser half-way, and the next
 * document must not see any of that parse's state. */
static kb_claim_reader *kept;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned n;
    kb_claim c;
    kb_err e;
    e.msg[0] = '\0';
    if (!kept) kept = kb_claim_reader_new();
    int rc = (n++ & 1) ? kb_claim_parse(kept, (const char *)data, size, "CLAIMS/c0000000001.xml", &c, &e)
                       : kb_claim_read_mem((const char *)data, size, "CLAIMS/c0000000001.xml", &c, &e);
    if (rc != C_OK && !e.msg[0]) __builtin_trap(); /* an error must say why */
    if (rc == C_OK && (strlen(c.performer_org) != 10 || !c.number[0])) __builtin_trap(); /* accepted means complete */
    return 0;
}
