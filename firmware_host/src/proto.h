/* proto.h - constants of the BLISS actuator-board serial protocol, version 1
 * (docs/protocol.md is the specification; every value here is taken from it). */
#ifndef BLISS_PROTO_H
#define BLISS_PROTO_H

#define PROTO_VERSION 1u
#define FW_MAJOR 0u
#define FW_MINOR 1u
#define FW_PATCH 0u

#define MAX_PAYLOAD 64u                         /* bytes, protocol.md section 3 */
#define HEADER_LEN 5u                           /* version, type, seq(2), len */
#define CRC_LEN 2u
#define MIN_BODY (HEADER_LEN + CRC_LEN)         /* 7 bytes */
#define MAX_BODY (HEADER_LEN + MAX_PAYLOAD + CRC_LEN) /* 71 bytes */
#define MAX_ENCODED (MAX_BODY + 1u)             /* COBS adds 1 byte per 254: 72, plus 0x00 = 73 */

#define N_AXES 3u
#define AXIS_ALL 0xFFu

#define RATE_MIN 100u             /* Hz, inchworm phase drive 0.1-20 kHz (Rauf et al. 2022) */
#define RATE_MAX 20000u           /* Hz */
#define DEFAULT_DRIVE_HZ 1000u    /* Hz, about 3.5 mm/s of shuttle travel */
#define HARD_LIMIT 2857           /* steps: 10 mm / 3.5 um per step */
#define DEFAULT_SOFT_LIMIT 2800   /* steps, margin inside the hard range */
#define STALL_CYCLES 50u          /* commanded cycles without travel before STALL/STUCK */
#define WATCHDOG_MS 1000u         /* ms without a valid frame */

/* host -> board */
enum {
    MSG_HELLO = 0x01, MSG_PING = 0x02, MSG_MOVE = 0x03, MSG_STOP = 0x04, MSG_HOLD = 0x05,
    MSG_STATUS = 0x06, MSG_CONFIG = 0x07, MSG_HEARTBEAT = 0x08, MSG_RESET = 0x09,
    MSG_CLEAR_FAULTS = 0x0A, MSG_INJECT = 0x70
};
/* board -> host */
enum {
    MSG_ACK = 0x80, MSG_NACK = 0x81, MSG_HELLO_INFO = 0x82, MSG_PONG = 0x83,
    MSG_STATUS_INFO = 0x84, MSG_EVENT = 0xA0
};
/* NACK error codes */
enum {
    ERR_BAD_VERSION = 1, ERR_UNKNOWN_TYPE = 2, ERR_BAD_LENGTH = 3, ERR_BAD_AXIS = 4,
    ERR_SOFT_LIMIT = 5, ERR_BAD_RATE = 6, ERR_AXIS_FAULT = 7, ERR_BUSY = 8, ERR_BAD_ARG = 9
};
/* EVENT codes */
enum { EVT_BOOT = 1, EVT_FAULT = 2, EVT_WATCHDOG = 3, EVT_MOVE_DONE = 4 };
/* INJECT kinds */
enum { INJ_CLEAR = 0, INJ_STUCK = 1, INJ_STALL = 2, INJ_RESET = 3, INJ_MISS = 4 };

/* board_flags */
#define BF_WATCHDOG_TRIPPED 0x01u
#define BF_EMULATED 0x02u
/* per-axis state */
#define ST_MOVING 0x01u
#define ST_HOLDING 0x02u
#define ST_ENABLED 0x04u
/* per-axis faults */
#define F_STALL 0x01u
#define F_STUCK 0x02u
#define F_WATCHDOG 0x04u
#define F_LIMIT 0x08u
#define F_MISSED 0x10u
/* Faults that refuse MOVE with AXIS_FAULT; LIMIT and MISSED are advisory (latched, reported). */
#define F_BLOCKING (F_STALL | F_STUCK | F_WATCHDOG)

#endif
