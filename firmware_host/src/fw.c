/* fw.c - message dispatch, watchdog and events of the actuator board (docs/protocol.md). */
#include "fw.h"
#include "hal.h"
#include "proto.h"

fw_state_t fw;

static void send_frame(uint8_t type, uint16_t seq, const uint8_t *payload, uint8_t len, bool is_reply)
{
    uint8_t out[MAX_ENCODED + 1u];
    size_t n = frame_build(type, seq, payload, len, out, sizeof out);
    if (n == 0) {
        return;
    }
    hal_uart_write(out, n);
    if (is_reply) {
        for (size_t i = 0; i < n; ++i) {
            fw.last_reply[i] = out[i];
        }
        fw.last_reply_len = (uint8_t)n;
    }
}

static void send_event(uint8_t event, uint8_t axis, uint16_t data)
{
    uint8_t p[4] = {event, axis, (uint8_t)data, (uint8_t)(data >> 8)};
    send_frame(MSG_EVENT, fw.evt_seq++, p, sizeof p, false);
}

void fw_init(void)
{
    uint32_t now_us = hal_micros();
    frame_rx_init(&fw.rx);
    for (uint8_t i = 0; i < N_AXES; ++i) {
        uint32_t k = hal_crit_enter();
        axis_init(&fw.axes[i], i, now_us);
        hal_crit_exit(k);
    }
    fw.boot_id = hal_boot_id();
    fw.boot_ms = hal_millis();
    fw.last_valid_ms = fw.boot_ms;
    fw.wd_flag = 0;
    fw.evt_seq = 0;
    fw.have_last = false;
    fw.last_body_len = 0;
    fw.last_reply_len = 0;
    fw.halted = false;
    send_event(EVT_BOOT, AXIS_ALL, fw.boot_id);
}

bool fw_busy(void)
{
    bool busy = false;
    uint32_t k = hal_crit_enter();
    for (uint8_t i = 0; i < N_AXES; ++i) {
        busy = busy || axis_moving(&fw.axes[i]);
    }
    hal_crit_exit(k);
    return busy;
}

/* Phase-timer interrupt of one axis (hal.h hal_phase_timer_start): one substep, or the substeps owed
 * by the clock when ticks came late (axis_tick). Interrupt context:
 * the main loop only touches the axis inside hal_crit_enter/exit, so this runs unopposed. */
void fw_phase_tick(uint8_t axis)
{
    if (axis < N_AXES) {
        axis_tick(&fw.axes[axis], hal_micros());
    }
}

/* ---- replies ---- */
typedef struct {
    uint8_t type;
    uint8_t len;
    uint8_t p[MAX_PAYLOAD];
} reply_t;

static void ack(reply_t *r, uint8_t cmd)
{
    r->type = MSG_ACK;
    r->len = 1;
    r->p[0] = cmd;
}

static void nack(reply_t *r, uint8_t cmd, uint8_t err)
{
    r->type = MSG_NACK;
    r->len = 2;
    r->p[0] = cmd;
    r->p[1] = err;
}

/* ACK when a command's handler returned 0, else NACK with its error code. */
static void ack_or_nack(reply_t *r, uint8_t cmd, int err)
{
    if (err) {
        nack(r, cmd, (uint8_t)err);
    } else {
        ack(r, cmd);
    }
}

static void hello_info(reply_t *r)
{
    uint8_t *p = r->p;
    p[0] = FW_MAJOR;
    p[1] = FW_MINOR;
    p[2] = FW_PATCH;
    p[3] = PROTO_VERSION;
    p[4] = N_AXES;
    wr_u16(&p[5], fw.boot_id);
    uint8_t k = 7;
    for (uint8_t i = 0; i < N_AXES; ++i) {
        wr_i32(&p[k], fw.axes[i].soft_min);
        wr_i32(&p[k + 4], fw.axes[i].soft_max);
        wr_u16(&p[k + 8], fw.axes[i].drive_hz);
        k = (uint8_t)(k + 10);
    }
    r->type = MSG_HELLO_INFO;
    r->len = k;
}

static void status_info(reply_t *r)
{
    uint8_t *p = r->p;
    wr_u32(&p[0], hal_millis() - fw.boot_ms);
    wr_u16(&p[4], fw.boot_id);
    wr_u16(&p[6], fw.rx.rx_bad);
    p[8] = (uint8_t)(fw.wd_flag | hal_board_flags());
    p[9] = N_AXES;
    uint8_t k = 10;
    for (uint8_t i = 0; i < N_AXES; ++i) {
        uint32_t c = hal_crit_enter(); /* one consistent snapshot per axis */
        int32_t position = fw.axes[i].position, target = fw.axes[i].target;
        uint8_t state = fw.axes[i].state, faults = fw.axes[i].faults;
        hal_crit_exit(c);
        wr_i32(&p[k], position);
        wr_i32(&p[k + 4], target);
        p[k + 8] = state;
        p[k + 9] = faults;
        k = (uint8_t)(k + 10);
    }
    r->type = MSG_STATUS_INFO;
    r->len = k;
}

/* Expected payload length per command type, -1 for unknown, -2 for PING (0..32). */
static int expected_len(uint8_t type)
{
    switch (type) {
    case MSG_HELLO: case MSG_STATUS: case MSG_HEARTBEAT: case MSG_RESET: return 0;
    case MSG_PING: return -2;
    case MSG_MOVE: return 7;
    case MSG_STOP: case MSG_HOLD: case MSG_CLEAR_FAULTS: return 1;
    case MSG_CONFIG: return 11;
    case MSG_INJECT: return 4;
    default: return -1;
    }
}

static bool axis_ok(uint8_t axis, bool all_allowed)
{
    return axis < N_AXES || (all_allowed && axis == AXIS_ALL);
}

/* Execute a command. Returns false when the board must reset without replying (INJECT RESET);
 * *do_reset is set when it must reset after sending the reply (RESET). */
static bool execute(const frame_t *f, reply_t *r, bool *do_reset)
{
    const uint8_t *p = f->payload;
    int want = expected_len(f->type);
    if (want == -1) {
        nack(r, f->type, ERR_UNKNOWN_TYPE);
        return true;
    }
    if ((want == -2 && f->len > 32u) || (want >= 0 && f->len != (uint8_t)want)) {
        nack(r, f->type, ERR_BAD_LENGTH);
        return true;
    }
    uint32_t now_us = hal_micros();
    switch (f->type) {
    case MSG_HELLO:
        hello_info(r);
        break;
    case MSG_PING:
        r->type = MSG_PONG;
        r->len = f->len;
        for (uint8_t i = 0; i < f->len; ++i) {
            r->p[i] = p[i];
        }
        break;
    case MSG_STATUS:
        status_info(r);
        break;
    case MSG_HEARTBEAT:
        ack(r, f->type);
        break;
    case MSG_RESET:
        ack(r, f->type);
        *do_reset = true;
        break;
    case MSG_MOVE: {
        if (!axis_ok(p[0], false)) {
            nack(r, f->type, ERR_BAD_AXIS);
            break;
        }
        axis_t *a = &fw.axes[p[0]];
        uint32_t k = hal_crit_enter();
        axis_service(a, now_us); /* polled path: bring the running move up to date first */
        int err = axis_move(a, rd_i32(&p[1]), rd_u16(&p[5]), now_us);
        hal_crit_exit(k);
        ack_or_nack(r, f->type, err);
        break;
    }
    case MSG_STOP: case MSG_HOLD: case MSG_CLEAR_FAULTS: {
        if (!axis_ok(p[0], true)) {
            nack(r, f->type, ERR_BAD_AXIS);
            break;
        }
        for (uint8_t i = 0; i < N_AXES; ++i) {
            if (p[0] != AXIS_ALL && p[0] != i) {
                continue;
            }
            uint32_t k = hal_crit_enter();
            axis_service(&fw.axes[i], now_us);
            if (f->type == MSG_STOP) {
                axis_stop(&fw.axes[i]);
            } else if (f->type == MSG_HOLD) {
                axis_hold(&fw.axes[i]);
            } else {
                axis_clear_faults(&fw.axes[i]);
            }
            hal_crit_exit(k);
        }
        ack(r, f->type);
        break;
    }
    case MSG_CONFIG: {
        if (!axis_ok(p[0], false)) {
            nack(r, f->type, ERR_BAD_AXIS);
            break;
        }
        uint32_t k = hal_crit_enter();
        int err = axis_config(&fw.axes[p[0]], rd_u16(&p[1]), rd_i32(&p[3]), rd_i32(&p[7]));
        hal_crit_exit(k);
        ack_or_nack(r, f->type, err);
        break;
    }
    case MSG_INJECT: {
        uint8_t kind = p[0];
        if (!(hal_board_flags() & BF_EMULATED)) {
            nack(r, f->type, ERR_UNKNOWN_TYPE); /* test hooks exist on the emulated board only */
            break;
        }
        if (kind > INJ_MISS) {
            nack(r, f->type, ERR_BAD_ARG);
            break;
        }
        if (kind != INJ_RESET && !axis_ok(p[1], true)) {
            nack(r, f->type, ERR_BAD_AXIS);
            break;
        }
        if (kind == INJ_RESET) {
            return false; /* brown-out: reset at once, no ACK */
        }
        if (hal_inject(kind, p[1], rd_u16(&p[2])) != HAL_INJECT_OK) {
            nack(r, f->type, ERR_BAD_ARG);
        } else {
            ack(r, f->type);
        }
        break;
    }
    default:
        nack(r, f->type, ERR_UNKNOWN_TYPE);
        break;
    }
    return true;
}

static void do_hal_reset(void)
{
    fw.halted = true;
    hal_reset();
}

static bool same_as_last(void)
{
    if (!fw.have_last || fw.rx.body_len != fw.last_body_len) {
        return false;
    }
    for (size_t i = 0; i < fw.rx.body_len; ++i) {
        if (fw.rx.body[i] != fw.last_body[i]) {
            return false;
        }
    }
    return true;
}

static void handle_frame(const frame_t *f)
{
    if (f->version != PROTO_VERSION) {
        uint8_t p[2] = {f->type, ERR_BAD_VERSION};
        send_frame(MSG_NACK, f->seq, p, 2, false);
        return;
    }
    fw.last_valid_ms = hal_millis();
    if (same_as_last()) {
        /* a host retry of the command just executed: resend the reply, do not execute again. The
         * stored reply is still true: the watchdog, the only thing that changes what the board does
         * without being told, drops it (fw_poll). A replay clears nothing. */
        hal_uart_write(fw.last_reply, fw.last_reply_len);
        return;
    }
    reply_t r;
    bool do_reset = false;
    if (!execute(f, &r, &do_reset)) {
        do_hal_reset();
        return;
    }
    send_frame(r.type, f->seq, r.p, r.len, true);
    if (r.type == MSG_STATUS_INFO) {
        fw.wd_flag = 0; /* only STATUS_INFO carries board_flags: cleared once one has reported it */
    }
    fw.have_last = true;
    fw.last_body_len = (uint8_t)fw.rx.body_len;
    for (size_t i = 0; i < fw.rx.body_len; ++i) {
        fw.last_body[i] = fw.rx.body[i];
    }
    if (do_reset) {
        do_hal_reset();
    }
}

void fw_rx_byte(uint8_t byte)
{
    frame_t f;
    if (fw.halted) {
        return;
    }
    if (frame_rx_byte(&fw.rx, byte, &f)) {
        handle_frame(&f);
    }
}

static void drain_events(void)
{
    for (uint8_t i = 0; i < N_AXES; ++i) {
        axis_t *a = &fw.axes[i];
        uint32_t k = hal_crit_enter(); /* take and clear the events with the values they report */
        uint8_t pending = a->pending_events, faults = a->faults;
        int32_t position = a->position;
        a->pending_events = 0;
        hal_crit_exit(k);
        if (pending & AX_EVT_FAULT) {
            send_event(EVT_FAULT, i, faults);
        }
        if (pending & AX_EVT_DONE) {
            send_event(EVT_MOVE_DONE, i, (uint16_t)position);
        }
    }
}

void fw_poll(void)
{
    int c;
    while (!fw.halted && (c = hal_uart_getc()) >= 0) {
        fw_rx_byte((uint8_t)c);
        drain_events(); /* MOVE_DONE of a zero-length move follows its ACK */
    }
    if (fw.halted) {
        return;
    }
    uint32_t now_us = hal_micros();
    for (uint8_t i = 0; i < N_AXES; ++i) {
        uint32_t k = hal_crit_enter(); /* a no-op for a timer-driven move */
        axis_service(&fw.axes[i], now_us);
        hal_crit_exit(k);
    }
    drain_events();
    uint32_t now_ms = hal_millis();
    if (now_ms - fw.last_valid_ms >= WATCHDOG_MS) {
        uint16_t stopped = 0;
        for (uint8_t i = 0; i < N_AXES; ++i) {
            uint32_t k = hal_crit_enter();
            bool was_moving = axis_watchdog(&fw.axes[i]);
            hal_crit_exit(k);
            if (was_moving) {
                stopped |= (uint16_t)(1u << i);
            }
        }
        if (stopped) {
            fw.wd_flag = BF_WATCHDOG_TRIPPED;
            fw.have_last = false; /* a stored reply may show motion that no longer exists: a repeat of
                                   * the last command is executed afresh, so its reply is true */
            send_event(EVT_WATCHDOG, AXIS_ALL, stopped);
        }
    }
}
