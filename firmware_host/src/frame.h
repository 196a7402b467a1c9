/* frame.h - protocol v1 framing: COBS(header | payload | crc16 big-endian) 0x00.
 * The receiver collects bytes up to each 0x00, drops (and counts) oversize, undecodable, short,
 * CRC-failed and length-inconsistent frames, and hands complete bodies to its caller. */
#ifndef BLISS_FRAME_H
#define BLISS_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto.h"

typedef struct {
    uint8_t version;
    uint8_t type;
    uint16_t seq;
    uint8_t len;
    const uint8_t *payload; /* points into the receiver's body buffer */
} frame_t;

typedef struct {
    uint8_t buf[MAX_ENCODED]; /* encoded bytes of the frame being received (no delimiter) */
    size_t n;
    bool overflow;            /* more than MAX_ENCODED bytes since the last 0x00 */
    uint8_t body[MAX_BODY];
    size_t body_len;
    uint16_t rx_bad;          /* rejected frames, saturating at 0xFFFF */
} frame_rx_t;

void frame_rx_init(frame_rx_t *rx);

/* Feed one received byte. Returns true when a valid frame is complete: *out then describes it and
 * stays valid until the next call. Invalid frames are dropped and counted in rx->rx_bad; an empty
 * frame (0x00 straight after 0x00, a host's resynchronisation byte) is ignored and not counted. */
bool frame_rx_byte(frame_rx_t *rx, uint8_t byte, frame_t *out);

/* Build the wire bytes of a frame (COBS body plus the 0x00 delimiter) into out (capacity
 * >= MAX_ENCODED + 1). Returns the number of bytes, or 0 if len > MAX_PAYLOAD. */
size_t frame_build(uint8_t type, uint16_t seq, const uint8_t *payload, uint8_t len, uint8_t *out,
                   size_t out_cap);

/* Little-endian helpers. */
static inline uint16_t rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline int32_t rd_i32(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                 ((uint32_t)p[3] << 24);
    return (int32_t)v;
}
static inline void wr_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wr_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void wr_i32(uint8_t *p, int32_t v) { wr_u32(p, (uint32_t)v); }

#endif
