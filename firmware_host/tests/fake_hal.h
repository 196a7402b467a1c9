/* fake_hal.h - a scripted HAL for the C unit tests and the fuzz harness: time is set by the test,
 * UART input comes from a buffer, output is captured, there is no position sensor (open-loop step
 * counting) and, unless fake_emulated is set, the board behaves as a flight build. */
#ifndef BLISS_FAKE_HAL_H
#define BLISS_FAKE_HAL_H
#include <stddef.h>
#include <stdint.h>

#define FAKE_TX_CAP 65536u
#define FAKE_PHASE_LOG 4096u

extern uint32_t fake_us;            /* current time, microseconds */
extern const uint8_t *fake_rx;      /* bytes hal_uart_getc returns */
extern size_t fake_rx_len, fake_rx_pos;
extern uint8_t fake_tx[FAKE_TX_CAP];
extern size_t fake_tx_len;          /* bytes captured (writes beyond the capacity are counted only) */
extern size_t fake_tx_total;
extern uint8_t fake_phase_log[3][FAKE_PHASE_LOG];
extern uint32_t fake_phase_us[3][FAKE_PHASE_LOG]; /* fake_us at each logged write */
extern size_t fake_phase_n[3];      /* phase writes per axis (the log keeps the first ones) */
extern int fake_reset_count;
extern int fake_emulated;           /* report BF_EMULATED and accept INJECT */
extern uint16_t fake_boot_id;

/* Phase timers: with fake_timers set, hal_phase_timer_start accepts every axis and fake_advance
 * delivers fw_phase_tick(axis) at the exact tick times (fake_us set to each tick's time, rounded
 * down to the microsecond), in time order across axes; otherwise every axis is polled. */
extern int fake_timers;
extern uint32_t fake_timer_hz[3];   /* substep rate of a running phase timer, 0 = stopped */
extern size_t fake_timer_starts[3];
/* 1 = every tick is delivered; N > 1 = only every N-th tick reaches fw_phase_tick (an emulator that
 * loses timer interrupts, as QEMU does at tens of kHz) */
extern uint32_t fake_timer_keep;
extern int fake_crit_depth;         /* hal_crit_enter nesting, must be 0 whenever fw returns */
extern int fake_crit_errors;        /* fw_poll/fw_init returned inside a critical section */

void fake_reset_all(void);
/* Feed bytes to the firmware through hal_uart_getc and run fw_poll (re-initialising the firmware
 * when it asked for a reset). */
void fake_feed(const uint8_t *data, size_t len);
/* Advance time by dt_us in steps of at most step_us, polling the firmware at each step. */
void fake_advance(uint32_t dt_us, uint32_t step_us);

#endif
