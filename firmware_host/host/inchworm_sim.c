/* inchworm_sim.c - simulated inchworm mechanism of the emulated board (see inchworm_sim.h). */
#include "inchworm_sim.h"
#include "../src/axis.h"
#include "../src/hal.h"
#include "../src/proto.h"

sim_t sim;

/* xorshift64* (Vigna 2016): small, deterministic for a given --seed. */
static uint64_t rng_next(void)
{
    uint64_t x = sim.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sim.rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double sim_uniform(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }

void sim_init(uint64_t seed, double miss_prob)
{
    sim.rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 8; ++i) {
        (void)rng_next();
    }
    sim.miss_prob = miss_prob;
    for (int i = 0; i < SIM_N_AXES; ++i) {
        sim_axis_t *a = &sim.ax[i];
        a->steps = 0;
        a->last_idx = -1;
        a->cycle_dir = 0;
        a->cycle_travels = false;
        a->stuck = false;
        a->stall_pct = 100;
        a->stall_acc = 0;
        a->miss_p16 = 0;
        a->cycles = a->travelled = a->seq_errors = 0;
    }
}

static int cycle_index(uint8_t pattern)
{
    for (int i = 0; i < 4; ++i) {
        if (AXIS_CYCLE[i] == pattern) {
            return i;
        }
    }
    return -1;
}

/* A pattern outside a drive cycle is safe if no drive GCA pulls without its own clamp engaged. */
static bool safe_static(uint8_t p)
{
    bool a_bad = (p & HAL_PH_A_DRIVE) && !(p & HAL_PH_A_CLAMP);
    bool b_bad = (p & HAL_PH_B_DRIVE) && !(p & HAL_PH_B_CLAMP);
    return !a_bad && !b_bad;
}

static bool decide_travel(sim_axis_t *a)
{
    if (a->stuck) {
        return false;
    }
    double p = sim.miss_prob;
    double pi = (double)a->miss_p16 / 65535.0;
    if (pi > p) {
        p = pi;
    }
    if (p > 0.0 && sim_uniform() < p) {
        return false;
    }
    a->stall_acc += a->stall_pct;
    if (a->stall_acc >= 100u) {
        a->stall_acc -= 100u;
        return true;
    }
    return false;
}

void sim_phase(uint8_t axis, uint8_t phases)
{
    if (axis >= SIM_N_AXES) {
        return;
    }
    sim_axis_t *a = &sim.ax[axis];
    uint8_t pat = (uint8_t)(phases & 0x0Fu);
    int8_t dir = (phases & HAL_PH_DIR_REV) ? -1 : 1;
    int idx = cycle_index(pat);
    if (idx < 0) {
        if (!safe_static(pat)) {
            a->seq_errors++;
        }
        a->last_idx = -1;
        return;
    }
    if (idx == 0) { /* a new cycle starts (after a complete one, or from rest) */
        a->last_idx = 0;
        a->cycle_dir = dir;
        a->cycle_travels = decide_travel(a);
        return;
    }
    if (a->last_idx != idx - 1 || dir != a->cycle_dir) {
        a->seq_errors++; /* out of order: the pawls would not hand the shuttle over */
        a->last_idx = -1;
        return;
    }
    a->last_idx = (int8_t)idx;
    if (idx == 3) {
        a->cycles++;
        if (a->cycle_travels) {
            a->travelled++;
            a->steps += a->cycle_dir;
        }
    }
}

int sim_inject(uint8_t kind, uint8_t axis, uint16_t param)
{
    if (kind == INJ_STALL && param > 100u) {
        return HAL_INJECT_BAD_ARG;
    }
    for (int i = 0; i < SIM_N_AXES; ++i) {
        if (axis != AXIS_ALL && axis != i) {
            continue;
        }
        sim_axis_t *a = &sim.ax[i];
        switch (kind) {
        case INJ_CLEAR:
            a->stuck = false;
            a->stall_pct = 100;
            a->stall_acc = 0;
            a->miss_p16 = 0;
            break;
        case INJ_STUCK:
            a->stuck = true;
            break;
        case INJ_STALL:
            a->stall_pct = (uint8_t)param;
            a->stall_acc = 0;
            break;
        case INJ_MISS:
            a->miss_p16 = param;
            break;
        default:
            return HAL_INJECT_BAD_ARG;
        }
    }
    return HAL_INJECT_OK;
}
