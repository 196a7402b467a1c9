/* fuzz_parser.c - fuzz target for the firmware's receive path and dispatcher (see fuzz_parser.h).
 * Build with libFuzzer:  clang -fsanitize=fuzzer,address,undefined ../src/\*.c ../tests/fake_hal.c fuzz_parser.c
 * or with the standalone driver (standalone.c) under gcc; see ../README.md. */
#include "fuzz_parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/frame.h"
#include "../src/fw.h"
#include "../src/proto.h"
#include "../tests/fake_hal.h"

unsigned fuzz_last_rx_bad;

#define FAIL(...)                                                                                \
    do {                                                                                         \
        fprintf(stderr, "fuzz invariant broken: " __VA_ARGS__);                                  \
        fputc('\n', stderr);                                                                     \
        abort();                                                                                 \
    } while (0)

static void check_axes(void)
{
    for (unsigned i = 0; i < N_AXES; ++i) {
        const axis_t *a = &fw.axes[i];
        if (a->position < -HARD_LIMIT || a->position > HARD_LIMIT) {
            FAIL("axis %u position %ld outside the hard range", i, (long)a->position);
        }
        if ((a->state & ST_MOVING) && (a->state & ST_HOLDING)) {
            FAIL("axis %u both moving and holding (state 0x%02x)", i, a->state);
        }
        if ((a->state & ST_MOVING) && !(a->state & ST_ENABLED)) {
            FAIL("axis %u moving but not enabled", i);
        }
        if (a->soft_min >= a->soft_max || a->soft_min < -HARD_LIMIT || a->soft_max > HARD_LIMIT) {
            FAIL("axis %u soft limits [%ld, %ld] invalid", i, (long)a->soft_min, (long)a->soft_max);
        }
    }
}

/* Every byte the board sent must parse as good frames (when nothing was truncated). */
static size_t check_output(size_t from)
{
    frame_rx_t rx;
    frame_t f;
    frame_rx_init(&rx);
    size_t frames = 0;
    for (size_t i = from; i < fake_tx_len; ++i) {
        frames += frame_rx_byte(&rx, fake_tx[i], &f);
    }
    if (rx.rx_bad != 0 || (fake_tx_len > from && fake_tx[fake_tx_len - 1] != 0)) {
        FAIL("board sent %u malformed frame(s)", (unsigned)rx.rx_bad);
    }
    return frames;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint16_t probe_seq = 0x4000;
    if (size == 0) {
        return 0;
    }
    uint8_t opts = data[0];
    fake_emulated = opts & 1u;
    uint32_t step_us = (uint32_t)(opts >> 1) * 1000u; /* 0..127 ms after each delimiter */
    fake_reset_all();
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
        if (p[i] == 0 || i + 1 == n) {
            fake_feed(p + start, i + 1 - start);
            start = i + 1;
            if (step_us) {
                fake_advance(step_us, 1000u);
            }
            check_axes();
        }
    }
    fake_advance(5000u, 1000u);
    check_axes();
    if (fake_tx_total == fake_tx_len) {
        check_output(0);
    }
    fuzz_last_rx_bad = fw.rx.rx_bad;

    /* resynchronise and send a good PING: it must be answered with its own payload */
    static const uint8_t zero = 0;
    fake_feed(&zero, 1); /* ends any partial frame the input left (counted bad if non-empty) */
    uint8_t probe[MAX_ENCODED + 1];
    uint8_t payload[4] = {0xB1, 0x15, (uint8_t)probe_seq, 0x00};
    probe_seq++;
    size_t pn = frame_build(MSG_PING, probe_seq, payload, sizeof payload, probe, sizeof probe);
    size_t tx0 = fake_tx_len;
    uint16_t bad0 = fw.rx.rx_bad;
    fake_feed(probe, pn);
    if (fw.rx.rx_bad != bad0) {
        FAIL("the good frame after 0x00 was counted as bad");
    }
    frame_rx_t rx;
    frame_t f;
    frame_rx_init(&rx);
    int answered = 0;
    for (size_t i = tx0; i < fake_tx_len; ++i) {
        if (frame_rx_byte(&rx, fake_tx[i], &f) && f.type == MSG_PONG && f.seq == probe_seq &&
            f.len == sizeof payload && memcmp(f.payload, payload, sizeof payload) == 0) {
            answered = 1;
        }
    }
    if (!answered && fake_tx_len < FAKE_TX_CAP) {
        FAIL("no PONG for the good frame sent after the input");
    }
    return 0;
}
