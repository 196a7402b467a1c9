/* hal.h - the only way the BLISS actuator-board firmware touches hardware.
 *
 * A port (the pty-emulated host board in ../host/, the Cortex-M UART board in ../cortexm/, the
 * fuzz harness in ../fuzz/) implements every function below. The firmware never includes a
 * platform header itself.
 */
#ifndef BLISS_HAL_H
#define BLISS_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Phase outputs of one inchworm axis: two gap-closing-actuator (GCA) arrays, A and B, each with a
 * clamp GCA (engages its pawl on the shuttle) and a drive GCA (pulls the engaged pawl, pushing the
 * shuttle by half a step). DIR_REV selects the reverse-facing pawl set. */
#define HAL_PH_A_CLAMP 0x01u
#define HAL_PH_A_DRIVE 0x02u
#define HAL_PH_B_CLAMP 0x04u
#define HAL_PH_B_DRIVE 0x08u
#define HAL_PH_DIR_REV 0x10u

/* hal_encoder_read() returns this when the board has no position sensor for the axis. */
#define HAL_NO_ENCODER INT32_MIN

/* hal_inject() results. */
#define HAL_INJECT_OK 0
#define HAL_INJECT_BAD_ARG (-1)

/* Monotonic time since power-on; both wrap (the firmware only uses differences). */
uint32_t hal_millis(void);
uint32_t hal_micros(void);

/* Drive the phase lines of one axis (bits HAL_PH_*). */
void hal_phase_write(uint8_t axis, uint8_t phases);

/* Phase timer of one axis (the timer-driven phase path). hal_phase_timer_start(axis, substep_hz)
 * starts (or restarts, with a new period) a periodic interrupt at substep_hz = 4 x the drive rate
 * whose handler calls fw_phase_tick(axis); the first tick comes one period after the call, and a
 * tick that was pending from an earlier period is discarded. It returns 1 when the axis is now
 * timer-driven, 0 when the port has no timer for it: the firmware then runs that axis from fw_poll()
 * (the polled path: substeps emitted when due, bursty when the poll interval exceeds the period).
 * hal_phase_timer_stop(axis) stops the interrupt and discards a pending tick; it is called from the
 * main loop (inside hal_crit_enter) and from the tick handler itself, and must be harmless on an axis
 * whose timer is not running. */
int hal_phase_timer_start(uint8_t axis, uint32_t substep_hz);
void hal_phase_timer_stop(uint8_t axis);

/* Critical section against the phase-timer interrupts: the main loop touches sequencer state only
 * between hal_crit_enter() and hal_crit_exit(saved) (nestable: exit restores the saved state). Both
 * must be compiler memory barriers. Ports without interrupts make them no-ops. */
uint32_t hal_crit_enter(void);
void hal_crit_exit(uint32_t saved);

/* Absolute shuttle position sensor in steps, or HAL_NO_ENCODER. Used for step counting and
 * stall/missed-step detection. */
int32_t hal_encoder_read(uint8_t axis);

/* UART: next received byte (0..255) or -1 if none is waiting; write bytes (may drop when the
 * link has no listener, as a UART would). */
int hal_uart_getc(void);
void hal_uart_write(const uint8_t *buf, size_t len);

/* A value that differs on every boot (a counter where the hardware keeps one across resets). */
uint16_t hal_boot_id(void);

/* Extra board_flags bits set by the port (bit1 EMULATED on the emulated board). */
uint8_t hal_board_flags(void);

/* Restart the board. On hardware it does not return; a host port may return after arranging for
 * fw_init() to be called again, so the firmware returns straight away after calling it. */
void hal_reset(void);

/* Test-injectable faults of the INJECT message. Only called when hal_board_flags() has bit1
 * EMULATED (a flight board answers INJECT with NACK UNKNOWN_TYPE; its hal_inject may just return
 * HAL_INJECT_BAD_ARG). kind: 0 CLEAR, 1 STUCK, 2 STALL (param = % of the commanded rate, 0..100),
 * 4 MISS (param = probability * 65535); axis < 3 or 0xFF = all. RESET (3) is handled by the
 * firmware through hal_reset(). */
int hal_inject(uint8_t kind, uint8_t axis, uint16_t param);

#endif
