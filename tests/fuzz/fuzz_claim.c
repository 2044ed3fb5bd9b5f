/* fuzz_claim.c -- libFuzzer harness for the settlement reader (cc08/gc08). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/claim_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kb_claim c;
    kb_err e;
    e.msg[0] = '\0';
    int rc = kb_claim_read_mem((const char *)data, size, "CLAIMS/c0000000001.xml", &c, &e);
    if (rc != C_OK && !e.msg[0]) __builtin_trap(); /* an error must say why */
    if (rc == C_OK && (strlen(c.performer_org) != 10 || !c.number[0])) __builtin_trap(); /* accepted means complete */
    return 0;
}
