/* axis.h - one inchworm axis: the drive-cycle phase sequencer, step counting, soft limits and
 * stall/missed-step detection. */
#ifndef BLISS_AXIS_H
#define BLISS_AXIS_H
#include <stdbool.h>
#include <stdint.h>

/* Phase patterns (bits of hal.h HAL_PH_*). A drive cycle is the four substeps of AXIS_CYCLE, each
 * lasting a quarter of the drive period: array A's pawl pushes the shuttle half a step, B engages
 * (hand-over), A lets go and B pushes the second half step, A re-engages. */
extern const uint8_t AXIS_CYCLE[4];
#define AXIS_PH_IDLE 0x05u /* A_CLAMP | B_CLAMP: stopped, both pawls hold the shuttle */
#define AXIS_PH_HOLD 0x01u /* A_CLAMP only: drive phases de-energised except the clamp */

/* pending_events bits, drained by the board to send EVENT frames */
#define AX_EVT_DONE 0x01u  /* MOVE_DONE */
#define AX_EVT_FAULT 0x02u /* a fault bit was newly set */

/* Most substeps run in one service call when the loop fell behind: 100 ms at 20 kHz. Beyond that
 * the sequencer drops the backlog (runs slow) rather than bursting. */
#define AXIS_MAX_CATCHUP 8000u
/* Timer path: most substeps one tick emits when ticks came late or were lost (the clock says more
 * substeps are due than ticks arrived, e.g. an emulator that cannot deliver 80 kHz of interrupts):
 * 16 substeps = 4 drive cycles, about 16 x 5 us of handler time. On time, a tick emits exactly one. */
#define AXIS_TICK_CATCHUP 16
/* Timer path: the clock must owe more than this many substeps before a tick emits more than one: the
 * jitter of on-time ticks (and the clock's 1 us resolution) stays below it. Ports round the timer
 * period down (a timer a little fast), so on-time ticks never build a debt. */
#define AXIS_TICK_SLACK 2

typedef struct {
    uint8_t id;
    int32_t position;   /* steps */
    int32_t target;     /* steps */
    int32_t soft_min;   /* steps */
    int32_t soft_max;   /* steps */
    uint16_t drive_hz;  /* default rate, Hz */
    uint16_t rate;      /* rate of the current move, Hz */
    uint8_t state;      /* ST_* */
    uint8_t faults;     /* F_* */
    uint8_t pending_events;
    int8_t dir;         /* +1 / -1 while moving */
    uint8_t sub;        /* next substep of the cycle, 0..3 */
    uint32_t last_us;
    uint64_t elapsed_us;     /* since the move started */
    uint64_t substeps_done;  /* since the move started */
    uint16_t no_travel;      /* consecutive completed cycles without travel */
    uint32_t travel;         /* steps travelled during this move */
    uint8_t timed;           /* 1: this move's substeps come from the phase timer (axis_tick) */
    uint32_t tick_acc;       /* timer path: substeps due x 1e6 not yet counted (elapsed us x 4 rate) */
    int32_t tick_owed;       /* timer path: substeps due by the clock minus substeps emitted,
                              * clamped to [-AXIS_TICK_SLACK, AXIS_MAX_CATCHUP] */
} axis_t;

/* Two ways to run the sequencer (see hal.h hal_phase_timer_start):
 * - timer-driven: axis_move() starts the axis's phase timer at 4 x the rate and the port's timer
 *   interrupt calls axis_tick() (through fw_phase_tick), one substep per tick, evenly spaced by the
 *   timer; axis_stop/axis_hold (also when the move finishes or faults inside the tick) stop it.
 *   The tick also keeps a step budget by elapsed time (hal_micros): when ticks came late or were
 *   lost, so that the clock owes more substeps than ticks arrived, a tick emits the backlog (up to
 *   AXIS_TICK_CATCHUP), so the axis keeps its commanded rate on average; on time it emits one.
 * - polled: when the port has no timer for the axis, axis_service() from the main loop emits the
 *   substeps due by now (catching up after a late poll).
 * Sharing: the tick runs in interrupt context and changes sub, substeps_done, position, travel,
 * no_travel, state, dir, faults, pending_events and timed. Everything the main loop does with an
 * axis_t (every function below except axis_tick, and every read of those fields) must be inside
 * hal_crit_enter()/hal_crit_exit(), which are compiler barriers; the tick itself is never
 * interrupted by the main loop, so it needs no lock. fw.c does this. */

void axis_init(axis_t *a, uint8_t id, uint32_t now_us);
/* Returns 0 or a NACK error code (ERR_*). */
int axis_move(axis_t *a, int32_t target, uint16_t rate, uint32_t now_us);
void axis_stop(axis_t *a);
void axis_hold(axis_t *a);
int axis_config(axis_t *a, uint16_t drive_hz, int32_t soft_min, int32_t soft_max);
void axis_clear_faults(axis_t *a);
/* Watchdog: stop and hold a moving axis, set F_WATCHDOG. Returns true if the axis was moving. */
bool axis_watchdog(axis_t *a);
/* Polled path: run the substeps due by now_us (does nothing for a timer-driven move). */
void axis_service(axis_t *a, uint32_t now_us);
/* Timer path: from the phase-timer interrupt at now_us (ignored unless a timed move is running): one
 * substep, or the substeps the clock says are owed when ticks came late (at most AXIS_TICK_CATCHUP). */
void axis_tick(axis_t *a, uint32_t now_us);
static inline bool axis_moving(const axis_t *a) { return (a->state & 0x01u) != 0; }

#endif
