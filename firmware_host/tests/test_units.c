/* test_units.c - C unit tests of the firmware: CRC and COBS against the published vectors
 * (/work/shared/reference.md: CRC-16/CCITT-FALSE("123456789") = 0x29B1; COBS 00 -> 01 01,
 * 00 00 -> 01 01 01, 11 22 00 33 -> 03 11 22 02 33), COBS round trips, the frame receiver, and the
 * dispatcher, sequencer and watchdog on the scripted HAL of fake_hal.c (open loop, flight build).
 * Prints one line per failed check and a summary; exit status 1 if any check failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/axis.h"
#include "../src/cobs.h"
#include "../src/crc16.h"
#include "../src/frame.h"
#include "../src/fw.h"
#include "../src/hal.h"
#include "../src/proto.h"
#include "fake_hal.h"

static int n_checks, n_failed;
#define CHECK(cond)                                                                              \
    do {                                                                                         \
        n_checks++;                                                                              \
        if (!(cond)) {                                                                           \
            n_failed++;                                                                          \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                               \
        }                                                                                        \
    } while (0)

static uint64_t rng = 0x243F6A8885A308D3ull; /* deterministic */
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* ---------------- CRC ---------------- */
static void test_crc(void)
{
    const uint8_t check[] = "123456789";
    CHECK(crc16_ccitt_false(check, 9) == 0x29B1);
    CHECK(crc16_ccitt_false(check, 0) == 0xFFFF); /* init value, nothing shifted in */
    uint16_t c = crc16_update(CRC16_INIT, check, 4);
    CHECK(crc16_update(c, check + 4, 5) == 0x29B1);
    /* against a straightforward bitwise implementation on random data */
    for (int t = 0; t < 200; ++t) {
        uint8_t buf[100];
        size_t n = rnd() % sizeof buf;
        for (size_t i = 0; i < n; ++i) buf[i] = (uint8_t)rnd();
        uint16_t r = 0xFFFF;
        for (size_t i = 0; i < n; ++i) {
            r ^= (uint16_t)(buf[i] << 8);
            for (int b = 0; b < 8; ++b) r = (uint16_t)((r & 0x8000) ? (r << 1) ^ 0x1021 : (r << 1));
        }
        CHECK(crc16_ccitt_false(buf, n) == r);
    }
}

/* ---------------- COBS ---------------- */
static void check_vector(const uint8_t *raw, size_t rn, const uint8_t *enc, size_t en)
{
    uint8_t out[16], back[16];
    size_t bn = 0;
    CHECK(cobs_encode(raw, rn, out, sizeof out) == en);
    CHECK(memcmp(out, enc, en) == 0);
    CHECK(cobs_decode(enc, en, back, sizeof back, &bn) == 0);
    CHECK(bn == rn && memcmp(back, raw, rn) == 0);
}

static void test_cobs(void)
{
    check_vector((const uint8_t[]){0x00}, 1, (const uint8_t[]){0x01, 0x01}, 2);
    check_vector((const uint8_t[]){0x00, 0x00}, 2, (const uint8_t[]){0x01, 0x01, 0x01}, 3);
    check_vector((const uint8_t[]){0x11, 0x22, 0x00, 0x33}, 4,
                 (const uint8_t[]){0x03, 0x11, 0x22, 0x02, 0x33}, 5);
    check_vector((const uint8_t[]){0}, 0, (const uint8_t[]){0x01}, 1);

    /* 254 non-zero bytes: one full block, canonically with no trailing empty block */
    static uint8_t big[700], enc[800], back[700];
    size_t bn = 0;
    memset(big, 0x01, 254);
    CHECK(cobs_encode(big, 254, enc, sizeof enc) == 255 && enc[0] == 0xFF);
    memset(big, 0x01, 255);
    CHECK(cobs_encode(big, 255, enc, sizeof enc) == 257 && enc[0] == 0xFF && enc[255] == 0x02);

    /* random round trips, many zeros or none */
    for (int t = 0; t < 3000; ++t) {
        size_t n = rnd() % 600;
        unsigned zero_pct = rnd() % 3 == 0 ? 0 : rnd() % 50;
        for (size_t i = 0; i < n; ++i) {
            big[i] = (rnd() % 100 < zero_pct) ? 0 : (uint8_t)(1 + rnd() % 255);
        }
        size_t en = cobs_encode(big, n, enc, sizeof enc);
        CHECK(en > n && en <= COBS_MAX_ENCODED(n));
        CHECK(memchr(enc, 0, en) == NULL);
        CHECK(cobs_decode(enc, en, back, sizeof back, &bn) == 0 && bn == n && memcmp(back, big, n) == 0);
    }
    /* malformed input is refused */
    CHECK(cobs_decode((const uint8_t[]){0x05, 0x11, 0x22}, 3, back, sizeof back, &bn) != 0);
    CHECK(cobs_decode((const uint8_t[]){0x03, 0x11, 0x00, 0x22}, 4, back, sizeof back, &bn) != 0);
    CHECK(cobs_decode((const uint8_t[]){0x00}, 1, back, sizeof back, &bn) != 0);
    CHECK(cobs_decode((const uint8_t[]){0x03, 0x11, 0x22, 0x02, 0x33}, 5, back, 3, &bn) != 0);
    CHECK(cobs_encode(big, 10, enc, 10) == 0); /* output too small */
}

/* ---------------- frames ---------------- */
static void test_frames(void)
{
    frame_rx_t rx;
    frame_t f;
    uint8_t wire[MAX_ENCODED + 1], payload[MAX_PAYLOAD + 1];
    frame_rx_init(&rx);
    for (int len = 0; len <= (int)MAX_PAYLOAD; ++len) {
        for (int i = 0; i < len; ++i) payload[i] = (uint8_t)(i % 3 == 0 ? 0 : rnd());
        size_t n = frame_build(0x42, (uint16_t)(1000 + len), payload, (uint8_t)len, wire, sizeof wire);
        CHECK(n >= MIN_BODY + 2 && n <= MAX_ENCODED + 1 && wire[n - 1] == 0);
        int got = 0;
        for (size_t i = 0; i < n; ++i) {
            if (frame_rx_byte(&rx, wire[i], &f)) {
                got++;
                CHECK(i == n - 1);
                CHECK(f.version == PROTO_VERSION && f.type == 0x42 && f.seq == 1000 + len);
                CHECK(f.len == len && memcmp(f.payload, payload, (size_t)len) == 0);
            }
        }
        CHECK(got == 1);
    }
    CHECK(rx.rx_bad == 0);
    CHECK(frame_build(1, 1, payload, MAX_PAYLOAD + 1, wire, sizeof wire) == 0);

    /* every single-bit error in a frame is rejected and counted */
    size_t n = frame_build(0x02, 7, (const uint8_t *)"abcdef", 6, wire, sizeof wire);
    uint16_t bad0 = rx.rx_bad;
    int accepted = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
        for (int b = 0; b < 8; ++b) {
            uint8_t w2[sizeof wire];
            memcpy(w2, wire, n);
            w2[i] ^= (uint8_t)(1u << b);
            frame_rx_byte(&rx, 0, &f); /* resynchronise (empty frame: ignored) */
            for (size_t k = 0; k < n; ++k) accepted += frame_rx_byte(&rx, w2[k], &f);
        }
    }
    CHECK(accepted == 0);
    /* a flip to 0x00 splits the frame in two: both halves count */
    CHECK(rx.rx_bad >= (uint16_t)(bad0 + (n - 1) * 8));

    /* oversize: 73 non-zero bytes before the delimiter are dropped */
    frame_rx_init(&rx);
    for (int i = 0; i < 73; ++i) CHECK(!frame_rx_byte(&rx, 0x55, &f));
    CHECK(!frame_rx_byte(&rx, 0, &f) && rx.rx_bad == 1);
    /* then the next good frame is accepted */
    int ok = 0;
    for (size_t i = 0; i < n; ++i) ok += frame_rx_byte(&rx, wire[i], &f);
    CHECK(ok == 1);
    /* rx_bad saturates instead of wrapping to 0 */
    for (long i = 0; i < 70000; ++i) {
        frame_rx_byte(&rx, 0x01, &f);
        frame_rx_byte(&rx, 0x00, &f);
    }
    CHECK(rx.rx_bad == 0xFFFF);
}

/* ---------------- firmware on the fake HAL ---------------- */
static size_t tx_read_pos;
static frame_rx_t reply_rx;

static void send_cmd(uint8_t type, uint16_t seq, const uint8_t *p, uint8_t len)
{
    uint8_t wire[MAX_ENCODED + 1];
    size_t n = frame_build(type, seq, p, len, wire, sizeof wire);
    fake_feed(wire, n);
}

/* Next board frame from the captured output; returns 0 if none. */
static int next_frame(uint8_t *type, uint16_t *seq, uint8_t *payload, uint8_t *len)
{
    frame_t f;
    while (tx_read_pos < fake_tx_len) {
        if (frame_rx_byte(&reply_rx, fake_tx[tx_read_pos++], &f)) {
            *type = f.type;
            *seq = f.seq;
            *len = f.len;
            memcpy(payload, f.payload, f.len);
            return 1;
        }
    }
    return 0;
}

/* Next frame of the given type (skipping others); returns 0 if none. */
static int expect(uint8_t type, uint16_t *seq, uint8_t *payload, uint8_t *len)
{
    uint8_t t;
    uint16_t s;
    while (next_frame(&t, &s, payload, len)) {
        if (t == type) {
            if (seq) *seq = s;
            return 1;
        }
    }
    return 0;
}

/* Skip every board frame sent so far. */
static void drain(void)
{
    uint8_t t, p[MAX_PAYLOAD], len;
    uint16_t s;
    while (next_frame(&t, &s, p, &len)) {
    }
}

static void start_board(void)
{
    fake_emulated = 0;
    fake_timers = 0;
    fake_reset_all();
    tx_read_pos = 0;
    frame_rx_init(&reply_rx);
}

static void test_firmware(void)
{
    uint8_t p[MAX_PAYLOAD], len;
    uint16_t seq;
    start_board();
    CHECK(expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_BOOT && rd_u16(&p[2]) == fake_boot_id);

    /* PING and HELLO */
    send_cmd(MSG_PING, 10, (const uint8_t *)"\x00hi", 3);
    CHECK(expect(MSG_PONG, &seq, p, &len) && seq == 10 && len == 3 && memcmp(p, "\x00hi", 3) == 0);
    send_cmd(MSG_HELLO, 11, NULL, 0);
    CHECK(expect(MSG_HELLO_INFO, &seq, p, &len) && len == 37 && p[3] == PROTO_VERSION && p[4] == 3);

    /* flight build: INJECT is an unknown type, STATUS flags do not say EMULATED */
    send_cmd(MSG_INJECT, 12, (const uint8_t[]){1, 0, 0, 0}, 4);
    CHECK(expect(MSG_NACK, &seq, p, &len) && p[0] == MSG_INJECT && p[1] == ERR_UNKNOWN_TYPE);
    send_cmd(MSG_STATUS, 13, NULL, 0);
    CHECK(expect(MSG_STATUS_INFO, &seq, p, &len) && len == 40 && p[8] == 0 && p[9] == 3);

    /* MOVE axis 0 to +100 at 1000 Hz: open-loop, 100 cycles in 100 ms */
    uint8_t mv[7] = {0};
    wr_i32(&mv[1], 100);
    wr_u16(&mv[5], 1000);
    send_cmd(MSG_MOVE, 14, mv, 7);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 14 && p[0] == MSG_MOVE);
    size_t ph0 = fake_phase_n[0];
    fake_advance(50000, 1000);
    CHECK(fw.axes[0].position >= 49 && fw.axes[0].position <= 50 && axis_moving(&fw.axes[0]));
    fake_advance(60000, 1000);
    CHECK(fw.axes[0].position == 100 && !axis_moving(&fw.axes[0]));
    CHECK(expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_MOVE_DONE && p[1] == 0 && rd_u16(&p[2]) == 100);
    /* the phase lines saw exactly 100 cycles of the 4-pattern sequence, then the idle pattern */
    CHECK(fake_phase_n[0] - ph0 == 401);
    int seq_ok = 1;
    for (size_t i = 0; i < 400 && ph0 + i < FAKE_PHASE_LOG; ++i) {
        seq_ok &= fake_phase_log[0][ph0 + i] == AXIS_CYCLE[i % 4];
    }
    CHECK(seq_ok && fake_phase_log[0][ph0 + 400] == AXIS_PH_IDLE);

    /* reverse: the DIR_REV line is set on every pattern */
    wr_i32(&mv[1], 90);
    send_cmd(MSG_MOVE, 15, mv, 7);
    ph0 = fake_phase_n[0];
    fake_advance(20000, 500);
    CHECK(fw.axes[0].position == 90 && (fake_phase_log[0][ph0] & HAL_PH_DIR_REV));

    /* a late poll catches up: 30 ms in one step still gives 30 cycles at 1000 Hz */
    wr_i32(&mv[1], 120);
    send_cmd(MSG_MOVE, 16, mv, 7);
    fake_advance(30000, 30000);
    CHECK(fw.axes[0].position == 120);

    /* duplicate: same frame again is not executed; reply resent */
    drain();
    wr_i32(&mv[1], 0);
    send_cmd(MSG_MOVE, 17, mv, 7);
    fake_advance(5000, 1000);
    int32_t pos = fw.axes[0].position;
    send_cmd(MSG_STOP, 18, (const uint8_t[]){0}, 1);
    send_cmd(MSG_STOP, 18, (const uint8_t[]){0}, 1); /* retry */
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 17);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 18 && p[0] == MSG_STOP);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 18 && p[0] == MSG_STOP);
    fake_advance(5000, 1000);
    CHECK(fw.axes[0].position == pos && fw.axes[0].state == ST_ENABLED);

    /* watchdog: a move, then 1 s of silence */
    wr_i32(&mv[1], 2000);
    mv[0] = 2;
    send_cmd(MSG_MOVE, 19, mv, 7);
    fake_advance(999000, 1000);
    CHECK(axis_moving(&fw.axes[2]));
    fake_advance(2000, 1000);
    CHECK(!axis_moving(&fw.axes[2]) && fw.axes[2].state == ST_HOLDING);
    CHECK(fw.axes[2].faults == F_WATCHDOG && fw.axes[2].position >= 990 && fw.axes[2].position <= 1001);
    CHECK(expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_WATCHDOG && rd_u16(&p[2]) == 0x4);
    send_cmd(MSG_HEARTBEAT, 20, NULL, 0);
    CHECK(fw.wd_flag == BF_WATCHDOG_TRIPPED); /* an ACK has no flags field: kept until STATUS_INFO */
    send_cmd(MSG_STATUS, 120, NULL, 0);
    CHECK(expect(MSG_STATUS_INFO, &seq, p, &len) && seq == 120 && (p[8] & BF_WATCHDOG_TRIPPED));
    CHECK(fw.wd_flag == 0);
    send_cmd(MSG_MOVE, 21, mv, 7);
    CHECK(expect(MSG_NACK, &seq, p, &len) && seq == 21 && p[1] == ERR_AXIS_FAULT);
    send_cmd(MSG_CLEAR_FAULTS, 22, (const uint8_t[]){0xFF}, 1);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 22 && p[0] == MSG_CLEAR_FAULTS);
    send_cmd(MSG_MOVE, 23, mv, 7);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 23 && p[0] == MSG_MOVE);

    /* RESET: ACK, then a new boot */
    send_cmd(MSG_RESET, 24, NULL, 0);
    CHECK(fake_reset_count == 1);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 24 && p[0] == MSG_RESET);
    CHECK(expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_BOOT && seq == 0);
    CHECK(!fw_busy());

    /* emulated build: INJECT STUCK is accepted; RESET kind resets with no ACK */
    start_board();
    fake_emulated = 1;
    send_cmd(MSG_INJECT, 30, (const uint8_t[]){INJ_STALL, 1, 50, 0}, 4);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 30);
    send_cmd(MSG_STATUS, 31, NULL, 0);
    CHECK(expect(MSG_STATUS_INFO, &seq, p, &len) && p[8] == BF_EMULATED);
    send_cmd(MSG_INJECT, 32, (const uint8_t[]){INJ_RESET, 0, 0, 0}, 4);
    CHECK(fake_reset_count == 1);
    uint8_t t;
    int acks = 0;
    while (next_frame(&t, &seq, p, &len)) acks += (t == MSG_ACK || t == MSG_NACK);
    CHECK(acks == 0);
}

/* An exact repeat of the last command after the watchdog tripped (a host retry whose first reply was
 * lost and that came late): the reply must be true now and carry WATCHDOG_TRIPPED (docs/protocol.md
 * sections 2 and 4), not replay a STATUS_INFO that shows the held axis MOVING. */
static void test_repeat_after_watchdog(void)
{
    uint8_t p[MAX_PAYLOAD], len, first[MAX_PAYLOAD];
    uint16_t seq;
    start_board();
    drain();
    uint8_t mv[7] = {0};
    wr_i32(&mv[1], 2000);
    wr_u16(&mv[5], 1000);
    send_cmd(MSG_MOVE, 50, mv, 7);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 50);
    fake_advance(100000, 1000);
    send_cmd(MSG_STATUS, 51, NULL, 0);
    CHECK(expect(MSG_STATUS_INFO, &seq, first, &len) && seq == 51);
    CHECK(first[8] == 0 && (first[18] & ST_MOVING) && first[19] == 0);
    fake_advance(1001000, 1000); /* host silent: the watchdog holds axis 0 */
    CHECK(!axis_moving(&fw.axes[0]) && fw.wd_flag == BF_WATCHDOG_TRIPPED);
    CHECK(expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_WATCHDOG && rd_u16(&p[2]) == 0x1);

    send_cmd(MSG_STATUS, 51, NULL, 0); /* the same frame again */
    CHECK(expect(MSG_STATUS_INFO, &seq, p, &len) && seq == 51);
    CHECK(p[8] & BF_WATCHDOG_TRIPPED);                               /* the flag is reported */
    CHECK(!(p[18] & ST_MOVING) && (p[18] & ST_HOLDING) && (p[19] & F_WATCHDOG)); /* the truth */
    CHECK((uint32_t)rd_i32(&p[0]) > (uint32_t)rd_i32(&first[0]));      /* a new snapshot */
    CHECK(fw.wd_flag == 0);
    uint8_t shown[MAX_PAYLOAD];
    memcpy(shown, p, len);
    uint8_t shown_len = len;
    send_cmd(MSG_STATUS, 51, NULL, 0); /* and once more: now a replay of the reply that showed it */
    CHECK(expect(MSG_STATUS_INFO, &seq, p, &len) && seq == 51 && len == shown_len && memcmp(p, shown, len) == 0);

    /* a MOVE repeated after a trip is executed afresh: refused, the axis is held by the watchdog */
    send_cmd(MSG_CLEAR_FAULTS, 52, (const uint8_t[]){0xFF}, 1);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 52 && p[0] == MSG_CLEAR_FAULTS);
    wr_i32(&mv[1], -2000); /* 3000 steps: still moving when the watchdog trips */
    send_cmd(MSG_MOVE, 53, mv, 7);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 53 && p[0] == MSG_MOVE);
    fake_advance(1001000, 1000);
    CHECK(fw.wd_flag == BF_WATCHDOG_TRIPPED && !axis_moving(&fw.axes[0]));
    send_cmd(MSG_MOVE, 53, mv, 7);
    uint8_t t = 0;
    while (next_frame(&t, &seq, p, &len) && t == MSG_EVENT) {
    }
    CHECK(t == MSG_NACK && seq == 53 && p[0] == MSG_MOVE && p[1] == ERR_AXIS_FAULT);
    CHECK(!axis_moving(&fw.axes[0]) && fw.wd_flag == BF_WATCHDOG_TRIPPED);
}

/* The timer-driven phase path: the port's phase timer delivers each substep, so the spacing does
 * not depend on how often the main loop polls. */
static void test_timer_path(void)
{
    uint8_t p[MAX_PAYLOAD], len;
    uint16_t seq;
    start_board();
    fake_timers = 1;
    drain();

    /* MOVE axis 0 to +100 at 1000 Hz with the main loop polled only every 50 ms */
    uint8_t mv[7] = {0};
    wr_i32(&mv[1], 100);
    wr_u16(&mv[5], 1000);
    send_cmd(MSG_MOVE, 40, mv, 7);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 40);
    CHECK(fw.axes[0].timed && fake_timer_hz[0] == 4000u && fake_timer_starts[0] == 1u);
    size_t ph0 = fake_phase_n[0];
    uint32_t t0 = fake_us;
    fake_advance(50000, 50000);
    CHECK(fw.axes[0].position == 50 && axis_moving(&fw.axes[0]));
    fake_advance(60000, 50000);
    CHECK(fw.axes[0].position == 100 && !axis_moving(&fw.axes[0]) && !fw.axes[0].timed);
    CHECK(fake_timer_hz[0] == 0u); /* the tick that finished the move stopped the timer */
    CHECK(expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_MOVE_DONE && rd_u16(&p[2]) == 100);
    CHECK(fake_phase_n[0] - ph0 == 401);
    int even = 1, order = 1;
    for (size_t i = 0; i < 400; ++i) { /* substep k at exactly k x 250 us, whatever the poll */
        even &= fake_phase_us[0][ph0 + i] == t0 + 250u * (uint32_t)(i + 1);
        order &= fake_phase_log[0][ph0 + i] == AXIS_CYCLE[i % 4];
    }
    CHECK(even && order && fake_phase_log[0][ph0 + 400] == AXIS_PH_IDLE);
    CHECK(fake_phase_us[0][ph0 + 400] == t0 + 100000u); /* idle right after the last substep */

    /* the maximum rate: 20 kHz drive = 80 kHz substeps */
    wr_i32(&mv[1], 0);
    wr_u16(&mv[5], RATE_MAX);
    send_cmd(MSG_MOVE, 41, mv, 7);
    CHECK(fake_timer_hz[0] == 4u * RATE_MAX);
    fake_advance(5000, 1000);
    CHECK(fw.axes[0].position == 0 && fake_timer_hz[0] == 0u);

    /* STOP mid-move stops the timer; a replacing MOVE restarts it at the new rate */
    wr_i32(&mv[1], 1000);
    wr_u16(&mv[5], 1000);
    send_cmd(MSG_MOVE, 42, mv, 7);
    fake_advance(10000, 10000);
    CHECK(fw.axes[0].position == 10);
    wr_u16(&mv[5], 2000);
    send_cmd(MSG_MOVE, 43, mv, 7);
    CHECK(fake_timer_hz[0] == 8000u && fw.axes[0].timed);
    fake_advance(10000, 10000);
    CHECK(fw.axes[0].position == 30);
    send_cmd(MSG_STOP, 44, (const uint8_t[]){0xFF}, 1);
    CHECK(fake_timer_hz[0] == 0u && !fw.axes[0].timed && fw.axes[0].state == ST_ENABLED);
    size_t n_stop = fake_phase_n[0];
    fw_phase_tick(0); /* a stale tick after STOP changes nothing */
    fake_advance(10000, 1000);
    CHECK(fw.axes[0].position == 30 && fake_phase_n[0] == n_stop);

    /* lost ticks (three of every four never reach fw_phase_tick, as under a loaded QEMU): the step
     * budget by elapsed time makes the delivered ticks emit the owed substeps, so the axis keeps its
     * 1 kHz on average (one substep per tick would make 250 Hz: 50 steps in 200 ms) */
    fake_timer_keep = 4;
    wr_i32(&mv[1], 430); /* from 30: 400 steps */
    wr_u16(&mv[5], 1000);
    drain();
    send_cmd(MSG_MOVE, 60, mv, 7);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 60);
    fake_advance(200000, 10000);
    CHECK(fw.axes[0].position >= 229 && fw.axes[0].position <= 230 && axis_moving(&fw.axes[0]));
    fake_advance(210000, 10000); /* arrives within the slack of 2 substeps (2 ms here) of 400 ms */
    CHECK(fw.axes[0].position == 430 && !axis_moving(&fw.axes[0]) && fake_timer_hz[0] == 0u);
    CHECK(expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_MOVE_DONE && rd_u16(&p[2]) == 430);
    fake_timer_keep = 1;
    wr_i32(&mv[1], 30); /* back to 30 for what follows */
    wr_u16(&mv[5], RATE_MAX);
    send_cmd(MSG_MOVE, 61, mv, 7);
    CHECK(expect(MSG_ACK, &seq, p, &len) && seq == 61);
    fake_advance(30000, 10000);
    CHECK(fw.axes[0].position == 30 && expect(MSG_EVENT, &seq, p, &len) && p[0] == EVT_MOVE_DONE);

    /* three axes at once, each on its own timer; the watchdog stops all of them */
    for (uint8_t ax = 0; ax < 3; ++ax) {
        mv[0] = ax;
        wr_i32(&mv[1], 2500);
        wr_u16(&mv[5], (uint16_t)(500u * (ax + 1u)));
        send_cmd(MSG_MOVE, (uint16_t)(45u + ax), mv, 7);
    }
    fake_advance(100000, 100000);
    CHECK(fw.axes[0].position == 80 && fw.axes[1].position == 100 && fw.axes[2].position == 150);
    fake_advance(1000000, 100000);
    CHECK(!fw_busy() && fake_timer_hz[0] == 0u && fake_timer_hz[1] == 0u && fake_timer_hz[2] == 0u);
    CHECK(fw.axes[2].faults == F_WATCHDOG && fw.axes[2].state == ST_HOLDING);
    CHECK(fw.axes[2].position >= 1490 && fw.axes[2].position <= 1502);
    CHECK(fake_crit_errors == 0 && fake_crit_depth == 0);
}

int main(void)
{
    test_crc();
    test_cobs();
    test_frames();
    test_firmware();
    test_repeat_after_watchdog();
    test_timer_path();
    printf("%d checks, %d failed\n", n_checks, n_failed);
    return n_failed ? 1 : 0;
}
