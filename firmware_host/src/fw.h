/* fw.h - the actuator-board firmware: receive, dispatch, axes, watchdog, events.
 * A port calls fw_init() at start (and after hal_reset() when hal_reset returns), then fw_poll()
 * in its main loop (every <= 1 ms while fw_busy(), at least every 10 ms otherwise), and
 * fw_phase_tick(axis) from the phase-timer interrupt of each axis it has a timer for. */
#ifndef BLISS_FW_H
#define BLISS_FW_H
#include <stdbool.h>
#include <stdint.h>
#include "axis.h"
#include "frame.h"

typedef struct {
    frame_rx_t rx;
    axis_t axes[N_AXES];
    uint16_t boot_id;
    uint32_t boot_ms;
    uint32_t last_valid_ms;   /* last valid frame from the host */
    uint8_t wd_flag;          /* BF_WATCHDOG_TRIPPED */
    uint16_t evt_seq;         /* the board's own counter for EVENT frames */
    bool have_last;           /* duplicate handling: last executed command and its reply */
    uint8_t last_body[MAX_BODY];
    uint8_t last_body_len;
    uint8_t last_reply[MAX_ENCODED + 1u];
    uint8_t last_reply_len;
    bool halted;              /* hal_reset() returned: wait for fw_init() */
} fw_state_t;

extern fw_state_t fw;

void fw_init(void);
void fw_poll(void);
/* Feed one received byte (fw_poll does this for every byte hal_uart_getc returns). */
void fw_rx_byte(uint8_t byte);
bool fw_busy(void);
/* Called by the port's phase-timer interrupt handler of `axis` (hal.h hal_phase_timer_start). */
void fw_phase_tick(uint8_t axis);

#endif
