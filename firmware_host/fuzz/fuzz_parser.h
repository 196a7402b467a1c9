/* fuzz_parser.h - the fuzz target shared by libFuzzer and the standalone driver. */
#ifndef BLISS_FUZZ_PARSER_H
#define BLISS_FUZZ_PARSER_H
#include <stddef.h>
#include <stdint.h>

/* Runs one input on a fresh board and aborts (with a message on stderr) if an invariant breaks:
 * board output is always well-formed frames, positions stay inside the hard range, state bits are
 * consistent, and a good frame sent after 0x00 once the input is over is answered. Input layout:
 * byte 0 = options (bit0: emulated board, bits1-7: ms of simulated time after each 0x00),
 * then the byte stream the board receives. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* rx_bad of the board after the last input (before the probe frame). */
extern unsigned fuzz_last_rx_bad;

#endif
