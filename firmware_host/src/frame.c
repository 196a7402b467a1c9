/* frame.c - protocol v1 frame receiver and builder (docs/protocol.md section 1). */
#include "frame.h"
#include "cobs.h"
#include "crc16.h"

void frame_rx_init(frame_rx_t *rx)
{
    rx->n = 0;
    rx->overflow = false;
    rx->body_len = 0;
    rx->rx_bad = 0;
}

static void count_bad(frame_rx_t *rx)
{
    if (rx->rx_bad != 0xFFFFu) {
        rx->rx_bad++;
    }
}

static bool parse_body(frame_rx_t *rx, frame_t *out)
{
    size_t blen = 0;
    if (cobs_decode(rx->buf, rx->n, rx->body, sizeof rx->body, &blen) != 0) {
        return false;
    }
    if (blen < MIN_BODY) {
        return false;
    }
    uint16_t want = (uint16_t)((rx->body[blen - 2] << 8) | rx->body[blen - 1]);
    if (crc16_ccitt_false(rx->body, blen - CRC_LEN) != want) {
        return false;
    }
    uint8_t len = rx->body[4];
    if (len > MAX_PAYLOAD || (size_t)len + MIN_BODY != blen) {
        return false;
    }
    rx->body_len = blen;
    out->version = rx->body[0];
    out->type = rx->body[1];
    out->seq = rd_u16(&rx->body[2]);
    out->len = len;
    out->payload = &rx->body[HEADER_LEN];
    return true;
}

bool frame_rx_byte(frame_rx_t *rx, uint8_t byte, frame_t *out)
{
    if (byte != 0) {
        if (rx->n < MAX_ENCODED) {
            rx->buf[rx->n++] = byte;
        } else {
            rx->overflow = true; /* too long for any valid frame: drop it at the delimiter */
        }
        return false;
    }
    bool ok = false;
    if (rx->overflow) {
        count_bad(rx);
    } else if (rx->n > 0) {
        ok = parse_body(rx, out);
        if (!ok) {
            count_bad(rx);
        }
    }
    rx->n = 0;
    rx->overflow = false;
    return ok;
}

size_t frame_build(uint8_t type, uint16_t seq, const uint8_t *payload, uint8_t len, uint8_t *out,
                   size_t out_cap)
{
    uint8_t body[MAX_BODY];
    if (len > MAX_PAYLOAD || out_cap < MAX_ENCODED + 1u) {
        return 0;
    }
    body[0] = PROTO_VERSION;
    body[1] = type;
    wr_u16(&body[2], seq);
    body[4] = len;
    for (uint8_t i = 0; i < len; ++i) {
        body[HEADER_LEN + i] = payload[i];
    }
    size_t blen = HEADER_LEN + len;
    uint16_t crc = crc16_ccitt_false(body, blen);
    body[blen++] = (uint8_t)(crc >> 8);
    body[blen++] = (uint8_t)crc;
    size_t n = cobs_encode(body, blen, out, out_cap - 1u);
    if (n == 0) {
        return 0;
    }
    out[n++] = 0;
    return n;
}
