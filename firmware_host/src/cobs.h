/* cobs.h - Consistent Overhead Byte Stuffing (Cheshire & Baker 1999), without the delimiter. */
#ifndef BLISS_COBS_H
#define BLISS_COBS_H
#include <stddef.h>
#include <stdint.h>

/* Worst-case encoded size of n input bytes. */
#define COBS_MAX_ENCODED(n) ((n) + ((n) / 254u) + 1u)

/* Encode len bytes into out (capacity out_cap). Returns the encoded length (never containing 0x00),
 * or 0 if out is too small. */
size_t cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap);

/* Decode len bytes (without the 0x00 delimiter) into out. Returns 0 on success and sets *out_len;
 * returns -1 if the input is not valid COBS (a 0x00 byte, a code running past the end) or out is too
 * small. in and out must not overlap. */
int cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len);

#endif
