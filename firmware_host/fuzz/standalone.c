/* standalone.c - deterministic fuzz driver for the firmware parser, for gcc with
 * -fsanitize=address,undefined (no libFuzzer needed).
 *
 *   fuzz_standalone [--iterations N] [--seed S] [--max-seconds T] [--write-corpus DIR]
 *
 * Runs N inputs through LLVMFuzzerTestOneInput (fuzz_parser.c): random byte strings, streams of
 * valid commands, and mutations of those. For every mutated single frame it also checks, against
 * an independent reference decoder written here (bitwise CRC, index-walking COBS), that the board
 * counts exactly the segments the reference rejects. Any broken invariant aborts; a stuck input
 * trips a 10 s alarm. Prints a one-line summary and exits 0 when everything held. */
#define _XOPEN_SOURCE 700
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/frame.h"
#include "../src/fw.h"
#include "../src/proto.h"
#include "../tests/fake_hal.h"
#include "fuzz_parser.h"

static uint64_t rng_state;
static uint32_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 16);
}

/* ---- reference decoder (independent of src/) ---- */
static uint16_t ref_crc(const uint8_t *d, size_t n)
{
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; ++i) {
        for (int b = 7; b >= 0; --b) {
            int bit = ((d[i] >> b) & 1) ^ (c >> 15);
            c = (uint16_t)(c << 1);
            if (bit) c ^= 0x1021;
        }
    }
    return c;
}

/* 1 if the segment (bytes between delimiters, no 0x00 inside) is a valid protocol frame. */
static int ref_valid(const uint8_t *s, size_t n)
{
    uint8_t out[512];
    size_t o = 0;
    if (n == 0 || n > 72) return 0; /* 72 = COBS of the largest body, 71 bytes */
    size_t next_code = 0;
    while (next_code < n) {
        uint8_t code = s[next_code];
        size_t end = next_code + code;
        if (end > n) return 0;
        for (size_t k = next_code + 1; k < end; ++k) out[o++] = s[k];
        if (code < 0xFF && end < n) out[o++] = 0;
        next_code = end;
    }
    if (o < 7) return 0;
    if (ref_crc(out, o - 2) != (uint16_t)((out[o - 2] << 8) | out[o - 1])) return 0;
    return (size_t)out[4] + 7 == o;
}

/* ---- input generators ---- */
static const uint8_t CMD_TYPES[] = {MSG_HELLO, MSG_PING, MSG_MOVE, MSG_STOP, MSG_HOLD, MSG_STATUS,
                                    MSG_CONFIG, MSG_HEARTBEAT, MSG_RESET, MSG_CLEAR_FAULTS, MSG_INJECT,
                                    0x55, MSG_ACK};

static size_t random_command(uint8_t *out)
{
    uint8_t p[MAX_PAYLOAD];
    uint8_t type = CMD_TYPES[rnd() % sizeof CMD_TYPES];
    uint8_t len;
    switch (type) {
    case MSG_MOVE:
        len = 7;
        p[0] = (uint8_t)(rnd() % 4);
        wr_i32(&p[1], (int32_t)(rnd() % 6000) - 3000);
        wr_u16(&p[5], (uint16_t)(rnd() % 3 ? rnd() % 21000 : 0));
        break;
    case MSG_CONFIG:
        len = 11;
        p[0] = (uint8_t)(rnd() % 4);
        wr_u16(&p[1], (uint16_t)(rnd() % 21000));
        wr_i32(&p[3], (int32_t)(rnd() % 6000) - 3000);
        wr_i32(&p[7], (int32_t)(rnd() % 6000) - 3000);
        break;
    case MSG_INJECT:
        len = 4;
        p[0] = (uint8_t)(rnd() % 6);
        p[1] = (uint8_t)(rnd() % 2 ? rnd() % 3 : 0xFF);
        wr_u16(&p[2], (uint16_t)rnd());
        break;
    case MSG_STOP: case MSG_HOLD: case MSG_CLEAR_FAULTS:
        len = 1;
        p[0] = (uint8_t)(rnd() % 2 ? rnd() % 4 : 0xFF);
        break;
    default:
        len = (uint8_t)(rnd() % 8 == 0 ? rnd() % (MAX_PAYLOAD + 1) : (type == MSG_PING ? rnd() % 33 : 0));
        for (uint8_t i = 0; i < len; ++i) p[i] = (uint8_t)rnd();
        break;
    }
    if (rnd() % 16 == 0 && len > 0) len--; /* wrong length */
    return frame_build(type, (uint16_t)rnd(), p, len, out, MAX_ENCODED + 1);
}

static size_t mutate(uint8_t *buf, size_t n, size_t cap)
{
    int k = 1 + (int)(rnd() % 4);
    for (int m = 0; m < k; ++m) {
        uint32_t op = rnd() % 6;
        size_t at = n ? rnd() % n : 0;
        if (op == 0 && n) buf[at] ^= (uint8_t)(1u << (rnd() % 8));            /* bit flip */
        else if (op == 1 && n) buf[at] = (uint8_t)rnd();                      /* byte set */
        else if (op == 2 && n + 1 < cap) {                                    /* insert */
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = (uint8_t)rnd();
            n++;
        } else if (op == 3 && n > 1) {                                        /* delete */
            memmove(buf + at, buf + at + 1, n - at - 1);
            n--;
        } else if (op == 4 && n) n = at;                                      /* truncate */
        else if (op == 5 && n + 80 < cap) {                                   /* stretch */
            size_t extra = 1 + rnd() % 79;
            memmove(buf + at + extra, buf + at, n - at);
            memset(buf + at, (int)(1 + rnd() % 255), extra);
            n += extra;
        }
    }
    return n;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "fuzz: an input ran for more than 10 s (hang)\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
    _exit(3);
}

static void write_corpus(const char *dir)
{
    for (int i = 0; i < 32; ++i) {
        uint8_t buf[2048];
        size_t n = 1;
        buf[0] = (uint8_t)(rnd() & 0x1F);
        int cmds = 1 + (int)(rnd() % 12);
        for (int c = 0; c < cmds; ++c) n += random_command(buf + n);
        char path[1024];
        snprintf(path, sizeof path, "%s/seed-%02d", dir, i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, n, f) != n) {
            fprintf(stderr, "fuzz: error: cannot write %s\n", path);
            exit(2);
        }
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    long iterations = 20000;
    unsigned long long seed = 1;
    double max_seconds = 8.0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) iterations = atol(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc) max_seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--write-corpus") == 0 && i + 1 < argc) {
            rng_state = seed;
            write_corpus(argv[++i]);
            return 0;
        } else {
            fprintf(stderr, "fuzz: error: unknown argument %s (use --iterations N --seed S "
                            "--max-seconds T --write-corpus DIR)\n", argv[i]);
            return 2;
        }
    }
    rng_state = seed;
    signal(SIGALRM, on_alarm);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    static uint8_t buf[8192];
    long done = 0, corrupted = 0, corrupted_rejected = 0, collisions = 0;
    for (; done < iterations; ++done) {
        alarm(10);
        size_t n = 0;
        uint32_t kind = rnd() % 4;
        buf[n++] = (uint8_t)(rnd() % 4 == 0 ? rnd() : rnd() & 1u); /* mostly no simulated time */
        if (kind == 0) { /* random bytes */
            size_t len = rnd() % 400;
            int zero_pct = (int)(rnd() % 20);
            for (size_t i = 0; i < len; ++i) buf[n++] = (rnd() % 100 < (uint32_t)zero_pct) ? 0 : (uint8_t)rnd();
            LLVMFuzzerTestOneInput(buf, n);
        } else if (kind == 1) { /* a stream of commands, mutated */
            int cmds = 1 + (int)(rnd() % 20);
            for (int c = 0; c < cmds && n + MAX_ENCODED + 1 < sizeof buf / 2; ++c) n += random_command(buf + n);
            n = 1 + mutate(buf + 1, n - 1, sizeof buf - 1);
            LLVMFuzzerTestOneInput(buf, n);
        } else { /* one frame, corrupted: the board must count what the reference rejects */
            buf[n++] = 0;
            size_t fl = random_command(buf + n);
            uint8_t orig[MAX_ENCODED + 1];
            memcpy(orig, buf + n, fl);
            size_t ml;
            do { /* mutate until it differs from the original, delimiter included */
                memcpy(buf + n, orig, fl);
                ml = mutate(buf + n, fl, sizeof buf - n - 1);
                if (ml == 0 || buf[n + ml - 1] != 0) buf[n + ml++] = 0; /* keep it delimited */
            } while (ml == fl && memcmp(buf + n, orig, fl) == 0);
            /* expected: reference classification of every segment between delimiters */
            unsigned bad = 0, good = 0;
            size_t s = n;
            for (size_t i = n; i < n + ml; ++i) {
                if (buf[i] == 0) {
                    if (i > s) {
                        if (ref_valid(buf + s, i - s)) good++;
                        else bad++;
                    }
                    s = i + 1;
                }
            }
            n += ml;
            buf[0] = 0; /* flight board, no simulated time: no resets hide the count */
            LLVMFuzzerTestOneInput(buf, n);
            corrupted++;
            if (good == 0) corrupted_rejected++;
            else collisions++; /* a valid segment remains (e.g. bytes inserted after the delimiter) */
            /* a RESET inside would zero rx_bad: only compare when none executed */
            if (fake_reset_count == 0 && fuzz_last_rx_bad != bad) {
                fprintf(stderr, "fuzz: rx_bad %u but the reference rejects %u segment(s) (iteration %ld)\n",
                        fuzz_last_rx_bad, bad, done);
                abort();
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double el = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (el > max_seconds) {
            done++;
            break;
        }
    }
    alarm(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("FUZZ OK iterations %ld corrupted_frames %ld rejected_and_counted %ld with_a_valid_segment %ld seconds %.2f\n",
           done, corrupted, corrupted_rejected, collisions, el);
    return 0;
}
