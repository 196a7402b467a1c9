/* axis.c - inchworm drive sequencer for one axis (see axis.h). */
#include "axis.h"
#include "hal.h"
#include "proto.h"

const uint8_t AXIS_CYCLE[4] = {
    HAL_PH_A_CLAMP | HAL_PH_A_DRIVE,                  /* A pushes: first half step */
    HAL_PH_A_CLAMP | HAL_PH_A_DRIVE | HAL_PH_B_CLAMP, /* B engages: hand-over */
    HAL_PH_B_CLAMP | HAL_PH_B_DRIVE,                  /* A releases, B pushes: second half step */
    HAL_PH_B_CLAMP | HAL_PH_B_DRIVE | HAL_PH_A_CLAMP, /* A re-engages: cycle complete */
};

static void raise_faults(axis_t *a, uint8_t bits)
{
    if ((a->faults | bits) != a->faults) {
        a->faults |= bits;
        a->pending_events |= AX_EVT_FAULT;
    }
}

/* Start a fresh drive-cycle count: phase substep, timing and travel bookkeeping. */
static void restart_sequencer(axis_t *a, uint32_t now_us)
{
    a->sub = 0;
    a->last_us = now_us;
    a->elapsed_us = 0;
    a->substeps_done = 0;
    a->tick_acc = 0;
    a->tick_owed = 0;
    a->no_travel = 0;
    a->travel = 0;
}

/* Stop the phase timer of a timer-driven move (main loop in a critical section, or the tick). */
static void stop_timer(axis_t *a)
{
    if (a->timed) {
        a->timed = 0;
        hal_phase_timer_stop(a->id);
    }
}

void axis_init(axis_t *a, uint8_t id, uint32_t now_us)
{
    a->id = id;
    a->timed = 0;
    hal_phase_timer_stop(id); /* a host port's fw_init after hal_reset: no tick from before */
    int32_t enc = hal_encoder_read(id);
    a->position = (enc == HAL_NO_ENCODER) ? 0 : enc; /* an absolute sensor survives a reset */
    a->target = a->position;
    a->soft_min = -DEFAULT_SOFT_LIMIT;
    a->soft_max = DEFAULT_SOFT_LIMIT;
    a->drive_hz = DEFAULT_DRIVE_HZ;
    a->rate = DEFAULT_DRIVE_HZ;
    a->faults = 0;
    a->pending_events = 0;
    a->dir = 0;
    restart_sequencer(a, now_us);
    axis_hold(a); /* power-on state: clamp only */
}

void axis_stop(axis_t *a)
{
    stop_timer(a);
    a->state = ST_ENABLED;
    a->dir = 0;
    hal_phase_write(a->id, AXIS_PH_IDLE);
}

void axis_hold(axis_t *a)
{
    stop_timer(a);
    a->state = ST_HOLDING;
    a->dir = 0;
    hal_phase_write(a->id, AXIS_PH_HOLD);
}

static bool reached(const axis_t *a)
{
    return (a->dir >= 0) ? (a->position >= a->target) : (a->position <= a->target);
}

static void finish_move(axis_t *a)
{
    axis_stop(a);
    a->pending_events |= AX_EVT_DONE;
    if (a->position <= a->soft_min || a->position >= a->soft_max) {
        raise_faults(a, F_LIMIT);
    }
}

int axis_move(axis_t *a, int32_t target, uint16_t rate, uint32_t now_us)
{
    if (rate == 0) {
        rate = a->drive_hz;
    }
    if (target < a->soft_min || target > a->soft_max) {
        return ERR_SOFT_LIMIT;
    }
    if (rate < RATE_MIN || rate > RATE_MAX) {
        return ERR_BAD_RATE;
    }
    if (a->faults & F_BLOCKING) {
        return ERR_AXIS_FAULT;
    }
    a->target = target;
    a->rate = rate;
    a->dir = (target >= a->position) ? 1 : -1;
    if (target == a->position) {
        finish_move(a);
        return 0;
    }
    a->state = ST_MOVING | ST_ENABLED;
    restart_sequencer(a, now_us);
    /* 4 substeps per drive cycle: rate <= RATE_MAX = 20 kHz, so at most 80 kHz. A running timer is
     * restarted with the new period (its pending tick discarded). */
    a->timed = (uint8_t)(hal_phase_timer_start(a->id, 4u * (uint32_t)rate) != 0);
    return 0;
}

int axis_config(axis_t *a, uint16_t drive_hz, int32_t soft_min, int32_t soft_max)
{
    if (axis_moving(a)) {
        return ERR_BUSY;
    }
    if (drive_hz < RATE_MIN || drive_hz > RATE_MAX) {
        return ERR_BAD_RATE;
    }
    if (soft_min >= soft_max) {
        return ERR_BAD_ARG;
    }
    if (soft_min < -HARD_LIMIT || soft_max > HARD_LIMIT) {
        return ERR_SOFT_LIMIT;
    }
    a->drive_hz = drive_hz;
    a->soft_min = soft_min;
    a->soft_max = soft_max;
    return 0;
}

void axis_clear_faults(axis_t *a) { a->faults = 0; }

bool axis_watchdog(axis_t *a)
{
    if (!axis_moving(a)) {
        return false;
    }
    axis_hold(a);
    a->faults |= F_WATCHDOG; /* reported by EVENT WATCHDOG, not EVENT FAULT */
    return true;
}

/* Step accounting at the end of a drive cycle. */
static void cycle_done(axis_t *a)
{
    int32_t enc = hal_encoder_read(a->id);
    if (enc == HAL_NO_ENCODER) { /* open loop: one commanded cycle is one step */
        a->position += a->dir;
        a->travel++;
    } else {
        int32_t delta = enc - a->position;
        a->position = enc;
        if ((a->dir > 0 && delta > 0) || (a->dir < 0 && delta < 0)) {
            a->no_travel = 0;
            a->travel += (uint32_t)(delta > 0 ? delta : -delta);
        } else {
            raise_faults(a, F_MISSED);
            if (++a->no_travel >= STALL_CYCLES) {
                /* STUCK: never travelled during this move; STALL: commanded but no travel. */
                raise_faults(a, (uint8_t)(F_STALL | (a->travel == 0 ? F_STUCK : 0)));
                axis_hold(a);
                return;
            }
        }
    }
    if (reached(a)) {
        finish_move(a);
    }
}

/* Write the next phase pattern of the cycle; account for the step when the cycle completes. */
static void substep(axis_t *a)
{
    uint8_t rev = (a->dir < 0) ? HAL_PH_DIR_REV : 0;
    hal_phase_write(a->id, (uint8_t)(AXIS_CYCLE[a->sub] | rev));
    a->substeps_done++;
    if (a->sub == 3) {
        a->sub = 0;
        cycle_done(a); /* may finish (axis_stop) or fault (axis_hold): both stop the timer */
    } else {
        a->sub++;
    }
}

void axis_tick(axis_t *a, uint32_t now_us)
{
    if (!a->timed || !axis_moving(a)) {
        return;
    }
    /* Substeps due since the last tick by the clock, in 32-bit arithmetic (one UDIV): dt is capped at
     * 50 ms so that dt x 4 rate (<= 80 kHz) + the remainder stays below 2^32. */
    uint32_t dt = now_us - a->last_us; /* unsigned: correct across the 32-bit wrap */
    if ((int32_t)dt < 0) {
        /* the clock read stepped back (a port whose ms counter is bumped by a lower-priority interrupt
         * that this tick preempted): skip the reading, the next one accounts for the time */
        dt = 0;
    } else {
        a->last_us = now_us;
    }
    if (dt > 50000u) {
        dt = 50000u;
    }
    a->tick_acc += dt * 4u * (uint32_t)a->rate;
    uint32_t due = a->tick_acc / 1000000u;
    a->tick_acc -= due * 1000000u;
    a->tick_owed += (int32_t)due - 1; /* this tick's own substep is the one the timer says is due */
    if (a->tick_owed > (int32_t)AXIS_MAX_CATCHUP) { /* a backlog beyond 100 ms is dropped (runs slow) */
        a->tick_owed = (int32_t)AXIS_MAX_CATCHUP;
    }
    if (a->tick_owed < -AXIS_TICK_SLACK) { /* ahead of the clock (a timer a little fast, stale ticks): */
        a->tick_owed = -AXIS_TICK_SLACK;   /* forget it, ticks keep coming one substep each */
    }
    /* one substep per tick; more only when the clock owes over AXIS_TICK_SLACK substeps (late or lost
     * ticks), so the jitter of an on-time timer never bunches substeps */
    int32_t n = 1;
    if (a->tick_owed > AXIS_TICK_SLACK) {
        int32_t extra = a->tick_owed - AXIS_TICK_SLACK;
        n += extra > AXIS_TICK_CATCHUP - 1 ? AXIS_TICK_CATCHUP - 1 : extra;
        a->tick_owed -= n - 1;
    }
    while (n-- > 0 && a->timed && axis_moving(a)) {
        substep(a);
    }
}

void axis_service(axis_t *a, uint32_t now_us)
{
    uint32_t dt = now_us - a->last_us; /* unsigned: correct across the 32-bit wrap */
    a->last_us = now_us;
    if (!axis_moving(a) || a->timed) {
        return;
    }
    a->elapsed_us += dt;
    /* 4 substeps per drive cycle; rate in Hz = cycles per second. */
    uint64_t due = a->elapsed_us * a->rate * 4u / 1000000u;
    if (due > a->substeps_done + AXIS_MAX_CATCHUP) {
        a->substeps_done = due - AXIS_MAX_CATCHUP;
    }
    while (a->substeps_done < due && axis_moving(a)) {
        substep(a);
    }
}
