/* cobs.c - COBS encode/decode (Cheshire & Baker, IEEE/ACM Trans. Networking 7(2), 1999). */
#include "cobs.h"

size_t cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap)
{
    if (out_cap < COBS_MAX_ENCODED(len)) {
        return 0;
    }
    size_t code_pos = 0; /* where the current block's code byte goes */
    size_t o = 1;
    uint8_t code = 1;    /* 1 + number of data bytes in the current block */
    for (size_t i = 0; i < len; ++i) {
        if (in[i] == 0) {
            out[code_pos] = code;
            code_pos = o++;
            code = 1;
        } else {
            out[o++] = in[i];
            if (++code == 0xFF) { /* a full 254-byte block: no implied zero after it */
                out[code_pos] = code;
                if (i + 1 == len) {
                    return o; /* canonical: no empty block after a full one at the end */
                }
                code_pos = o++;
                code = 1;
            }
        }
    }
    out[code_pos] = code;
    return o;
}

int cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t i = 0;
    size_t o = 0;
    while (i < len) {
        uint8_t code = in[i++];
        if (code == 0) {
            return -1;
        }
        size_t n = (size_t)code - 1u;
        if (n > len - i || n > out_cap - o) {
            return -1;
        }
        for (size_t k = 0; k < n; ++k) {
            if (in[i] == 0) {
                return -1;
            }
            out[o++] = in[i++];
        }
        /* An implied zero follows every block except a full one and the last one. */
        if (code != 0xFF && i < len) {
            if (o >= out_cap) {
                return -1;
            }
            out[o++] = 0;
        }
    }
    *out_len = o;
    return 0;
}
