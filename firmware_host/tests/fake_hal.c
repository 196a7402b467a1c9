/* fake_hal.c - scripted HAL (see fake_hal.h). */
#include "fake_hal.h"
#include "../src/fw.h"
#include "../src/hal.h"
#include "../src/proto.h"

uint32_t fake_us;
const uint8_t *fake_rx;
size_t fake_rx_len, fake_rx_pos;
uint8_t fake_tx[FAKE_TX_CAP];
size_t fake_tx_len, fake_tx_total;
uint8_t fake_phase_log[3][FAKE_PHASE_LOG];
uint32_t fake_phase_us[3][FAKE_PHASE_LOG];
size_t fake_phase_n[3];
int fake_reset_count;
int fake_emulated;
uint16_t fake_boot_id = 0x1234;
static int reset_requested;
int fake_timers;
uint32_t fake_timer_hz[3];
size_t fake_timer_starts[3];
uint32_t fake_timer_keep = 1;
int fake_crit_depth, fake_crit_errors;
static uint64_t timer_t0_us[3], timer_ticks[3]; /* start time and ticks delivered since */

int hal_phase_timer_start(uint8_t axis, uint32_t substep_hz)
{
    if (!fake_timers || axis >= 3 || substep_hz == 0) {
        return 0;
    }
    fake_timer_hz[axis] = substep_hz;
    fake_timer_starts[axis]++;
    timer_t0_us[axis] = fake_us;
    timer_ticks[axis] = 0;
    return 1;
}

void hal_phase_timer_stop(uint8_t axis)
{
    if (axis < 3) {
        fake_timer_hz[axis] = 0;
    }
}

uint32_t hal_crit_enter(void) { return (uint32_t)fake_crit_depth++; }
void hal_crit_exit(uint32_t saved)
{
    fake_crit_depth--;
    if ((uint32_t)fake_crit_depth != saved) {
        fake_crit_errors++;
    }
}

uint32_t hal_millis(void) { return fake_us / 1000u; }
uint32_t hal_micros(void) { return fake_us; }
int32_t hal_encoder_read(uint8_t axis) { (void)axis; return HAL_NO_ENCODER; }
uint16_t hal_boot_id(void) { return fake_boot_id; }
uint8_t hal_board_flags(void) { return fake_emulated ? BF_EMULATED : 0; }
int hal_inject(uint8_t kind, uint8_t axis, uint16_t param)
{
    (void)axis;
    return (kind == INJ_STALL && param > 100u) ? HAL_INJECT_BAD_ARG : HAL_INJECT_OK;
}
void hal_reset(void)
{
    reset_requested = 1;
    fake_reset_count++;
}

void hal_phase_write(uint8_t axis, uint8_t phases)
{
    if (axis < 3) {
        if (fake_phase_n[axis] < FAKE_PHASE_LOG) {
            fake_phase_log[axis][fake_phase_n[axis]] = phases;
            fake_phase_us[axis][fake_phase_n[axis]] = fake_us;
        }
        fake_phase_n[axis]++;
    }
}

int hal_uart_getc(void)
{
    if (fake_rx_pos >= fake_rx_len) {
        return -1;
    }
    return fake_rx[fake_rx_pos++];
}

void hal_uart_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        if (fake_tx_len < FAKE_TX_CAP) {
            fake_tx[fake_tx_len++] = buf[i];
        }
    }
    fake_tx_total += len;
}

static void poll_once(void)
{
    fw_poll();
    fake_crit_errors += fake_crit_depth != 0;
    if (reset_requested) {
        reset_requested = 0;
        fake_rx_pos = fake_rx_len; /* a reset loses buffered input */
        fake_boot_id++;
        fw_init();
        fake_crit_errors += fake_crit_depth != 0;
    }
}

void fake_reset_all(void)
{
    fake_us = 1000000u;
    fake_rx = 0;
    fake_rx_len = fake_rx_pos = 0;
    fake_tx_len = fake_tx_total = 0;
    for (int i = 0; i < 3; ++i) {
        fake_phase_n[i] = 0;
    }
    fake_reset_count = 0;
    reset_requested = 0;
    fake_crit_depth = fake_crit_errors = 0;
    fake_timer_keep = 1;
    for (int i = 0; i < 3; ++i) {
        fake_timer_hz[i] = 0;
        fake_timer_starts[i] = 0;
    }
    fw_init();
}

void fake_feed(const uint8_t *data, size_t len)
{
    fake_rx = data;
    fake_rx_len = len;
    fake_rx_pos = 0;
    while (fake_rx_pos < fake_rx_len) {
        poll_once();
    }
    poll_once();
    fake_rx_len = fake_rx_pos = 0;
}

/* Deliver the phase-timer ticks due up to `until` (absolute, µs), earliest first. A tick is an
 * interrupt: it never lands inside a critical section because fw code is not running here. */
static void deliver_ticks(uint32_t until)
{
    for (;;) {
        int best = -1;
        uint64_t best_t = 0;
        for (int i = 0; i < 3; ++i) {
            if (fake_timer_hz[i] == 0) {
                continue;
            }
            /* time of tick k+1 after the start: (k+1) / hz seconds */
            uint64_t t = timer_t0_us[i] + (timer_ticks[i] + 1u) * 1000000u / fake_timer_hz[i];
            if (t <= (uint64_t)until && (best < 0 || t < best_t)) {
                best = i;
                best_t = t;
            }
        }
        if (best < 0) {
            return;
        }
        fake_us = (uint32_t)best_t;
        timer_ticks[best]++;
        if (timer_ticks[best] % fake_timer_keep == 0) {
            fw_phase_tick((uint8_t)best);
        }
    }
}

void fake_advance(uint32_t dt_us, uint32_t step_us)
{
    while (dt_us > 0) {
        uint32_t d = dt_us < step_us ? dt_us : step_us;
        uint32_t until = fake_us + d;
        deliver_ticks(until);
        fake_us = until;
        dt_us -= d;
        poll_once();
    }
}
