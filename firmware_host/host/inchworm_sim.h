/* inchworm_sim.h - the emulated board's simulated inchworm mechanism. It watches the phase lines
 * the firmware drives and moves a simulated shuttle one step (about 3.5 um, Rauf et al., JMEMS
 * 31(1), 2022) for every complete, correctly ordered drive cycle, unless the cycle is missed
 * (random misses, INJECT MISS), the axis is stuck (INJECT STUCK) or stalled (INJECT STALL). */
#ifndef BLISS_INCHWORM_SIM_H
#define BLISS_INCHWORM_SIM_H
#include <stdbool.h>
#include <stdint.h>

#define SIM_N_AXES 3
#define SIM_UM_PER_STEP 3.5 /* um of shuttle travel per drive cycle (Rauf et al. 2022) */

typedef struct {
    int32_t steps;            /* shuttle position, steps */
    int8_t last_idx;          /* index in AXIS_CYCLE of the last phase pattern, -1 none */
    int8_t cycle_dir;         /* direction of the cycle in progress */
    bool cycle_travels;       /* decided at the cycle's first substep */
    bool stuck;               /* INJECT STUCK */
    uint8_t stall_pct;        /* INJECT STALL: % of cycles that travel (100 = healthy) */
    uint32_t stall_acc;
    uint16_t miss_p16;        /* INJECT MISS: probability * 65535 */
    uint64_t cycles;          /* complete drive cycles seen */
    uint64_t travelled;       /* cycles that moved the shuttle */
    uint64_t seq_errors;      /* phase patterns a real actuator would not survive or misorder */
} sim_axis_t;

typedef struct {
    sim_axis_t ax[SIM_N_AXES];
    uint64_t rng;             /* xorshift64* state */
    double miss_prob;         /* --miss-prob, applies to every axis */
} sim_t;

extern sim_t sim;

void sim_init(uint64_t seed, double miss_prob);
void sim_phase(uint8_t axis, uint8_t phases);
int sim_inject(uint8_t kind, uint8_t axis, uint16_t param);
double sim_uniform(void);

#endif
