/* emu_main.c - the emulated actuator board: the firmware of ../src/ on a host HAL that talks over
 * a pseudo-terminal and drives the simulated inchworm of inchworm_sim.c.
 *
 * Prints "PTY /dev/pts/N" as its first stdout line, then serves the protocol until SIGTERM, SIGINT
 * or SIGHUP (exit 0), or until its parent process goes away. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../src/fw.h"
#include "../src/hal.h"
#include "../src/proto.h"
#include "inchworm_sim.h"

#define POLL_BUSY_MS 1   /* loop tick while an axis moves */
#define POLL_IDLE_MS 10  /* otherwise (watchdog resolution) */

static int g_master = -1;
static uint8_t g_rx[4096];
static size_t g_rx_len, g_rx_pos;
static volatile sig_atomic_t g_stop;
static int g_reset_requested;
static uint16_t g_boot_id;
static uint64_t g_t0_ns;
static uint64_t g_tx_dropped;
static int g_verbose;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- HAL ---- */
uint32_t hal_millis(void) { return (uint32_t)((now_ns() - g_t0_ns) / 1000000ull); }
uint32_t hal_micros(void) { return (uint32_t)((now_ns() - g_t0_ns) / 1000ull); }
void hal_phase_write(uint8_t axis, uint8_t phases) { sim_phase(axis, phases); }
int32_t hal_encoder_read(uint8_t axis) { return axis < SIM_N_AXES ? sim.ax[axis].steps : HAL_NO_ENCODER; }
uint16_t hal_boot_id(void) { return g_boot_id; }
uint8_t hal_board_flags(void) { return BF_EMULATED; }
int hal_inject(uint8_t kind, uint8_t axis, uint16_t param) { return sim_inject(kind, axis, param); }
void hal_reset(void) { g_reset_requested = 1; }
/* No phase timer on the host: every axis takes the polled path (fw_poll every <= 1 ms while busy;
 * the simulated inchworm only needs the order of the patterns). No interrupts, so no-op locks. */
int hal_phase_timer_start(uint8_t axis, uint32_t substep_hz) { (void)axis; (void)substep_hz; return 0; }
void hal_phase_timer_stop(uint8_t axis) { (void)axis; }
uint32_t hal_crit_enter(void) { return 0; }
void hal_crit_exit(uint32_t saved) { (void)saved; }

int hal_uart_getc(void)
{
    if (g_rx_pos >= g_rx_len) {
        return -1;
    }
    return g_rx[g_rx_pos++];
}

void hal_uart_write(const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(g_master, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            g_tx_dropped += len; /* nobody is reading and the pty buffer is full: drop, like a UART */
            return;
        }
    }
}

/* ---- setup ---- */
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "bliss_board_emu: error: %s%s%s (usage: bliss_board_emu [--seed N] [--miss-prob P] "
                    "[--boot-id N] [--stats] [--verbose] [--no-parent-watch] [--parent-pid PID])\n",
            msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static unsigned long long parse_uint(const char *s, unsigned long long max, const char *what)
{
    char *end = NULL;
    errno = 0;
    if (!s || *s == '-' || *s == '\0') {
        usage_error(what, s ? s : "missing value");
    }
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end != '\0' || v > max) {
        usage_error(what, s);
    }
    return v;
}

static uint16_t random_boot_id(void)
{
    uint16_t v = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
            v = 0;
        }
        close(fd);
    }
    if (v == 0) {
        v = (uint16_t)(now_ns() ^ ((uint64_t)getpid() << 3));
    }
    return v;
}

static int open_pty(char *name, size_t name_cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        return -1;
    }
    const char *sn = ptsname(m);
    if (!sn || strlen(sn) >= name_cap) {
        return -1;
    }
    strcpy(name, sn);
    /* Keep the slave open ourselves: a pty master polls as hung-up while no slave is open, and
     * raw mode set now holds for every host that opens the port (no echo, no CR/LF mangling). */
    int s = open(name, O_RDWR | O_NOCTTY);
    if (s < 0) {
        return -1;
    }
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
        t.c_oflag &= ~(tcflag_t)OPOST;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
        t.c_cflag |= CS8;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        tcsetattr(s, TCSANOW, &t);
    }
    int fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    return m;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    double miss_prob = 0.0;
    int have_boot_id = 0, stats = 0, parent_watch = 1;
    long expected_parent = -1; /* --parent-pid: the pid that started us, known to the starter */
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
        if (strcmp(a, "--seed") == 0) {
            seed = parse_uint(v, UINT64_MAX, "--seed needs an unsigned integer");
            ++i;
        } else if (strcmp(a, "--miss-prob") == 0) {
            char *end = NULL;
            if (!v) {
                usage_error("--miss-prob needs a probability in [0, 1]", "missing value");
            }
            miss_prob = strtod(v, &end);
            if (*end != '\0' || !(miss_prob >= 0.0 && miss_prob <= 1.0)) {
                usage_error("--miss-prob needs a probability in [0, 1]", v);
            }
            ++i;
        } else if (strcmp(a, "--boot-id") == 0) {
            g_boot_id = (uint16_t)parse_uint(v, 0xFFFF, "--boot-id needs an integer 0..65535");
            have_boot_id = 1;
            ++i;
        } else if (strcmp(a, "--stats") == 0) {
            stats = 1;
        } else if (strcmp(a, "--verbose") == 0) {
            g_verbose = 1;
        } else if (strcmp(a, "--no-parent-watch") == 0) {
            parent_watch = 0;
        } else if (strcmp(a, "--parent-pid") == 0) {
            expected_parent = (long)parse_uint(v, 0x7FFFFFFF, "--parent-pid needs a process id");
            ++i;
        } else {
            usage_error("unknown option", a);
        }
    }
    if (!have_boot_id) {
        g_boot_id = random_boot_id();
    }
    g_t0_ns = now_ns();
    sim_init(seed, miss_prob);

    char name[128];
    g_master = open_pty(name, sizeof name);
    if (g_master < 0) {
        fprintf(stderr, "bliss_board_emu: error: cannot open a pseudo-terminal: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* getppid() alone races: a starter that exits before this line leaves us reparented already, and
     * the watch below would then never fire. With --parent-pid the starter names itself. */
    pid_t parent = expected_parent > 0 ? (pid_t)expected_parent : getppid();
    if (parent_watch && getppid() != parent) {
        return 0; /* the process that started us is already gone */
    }

    fw_init();
    printf("PTY %s\n", name);
    fflush(stdout);
    if (g_verbose) {
        fprintf(stderr, "bliss_board_emu: boot_id 0x%04x seed %llu miss_prob %g\n", g_boot_id,
                (unsigned long long)seed, miss_prob);
    }

    uint32_t last_parent_check = hal_millis();
    while (!g_stop) {
        if (g_reset_requested) {
            g_reset_requested = 0;
            g_rx_len = g_rx_pos = 0;  /* a reset loses whatever the UART had buffered */
            g_boot_id = (uint16_t)(g_boot_id + 1u); /* boot counter kept across the reset */
            if (g_boot_id == 0) {
                g_boot_id = 1;
            }
            if (g_verbose) {
                fprintf(stderr, "bliss_board_emu: reset, boot_id 0x%04x\n", g_boot_id);
            }
            fw_init();
        }
        struct pollfd pfd = {.fd = g_master, .events = POLLIN, .revents = 0};
        int rc = poll(&pfd, 1, fw_busy() ? POLL_BUSY_MS : POLL_IDLE_MS);
        if (rc < 0 && errno != EINTR) {
            fprintf(stderr, "bliss_board_emu: error: poll: %s\n", strerror(errno));
            break;
        }
        if (rc > 0 && (pfd.revents & POLLIN)) {
            ssize_t n = read(g_master, g_rx, sizeof g_rx);
            if (n > 0) {
                g_rx_len = (size_t)n;
                g_rx_pos = 0;
            }
        }
        fw_poll();
        g_rx_len = g_rx_pos = 0;
        uint32_t now = hal_millis();
        if (parent_watch && now - last_parent_check >= 200u) {
            last_parent_check = now;
            if (getppid() != parent) {
                break; /* the process that started us is gone */
            }
        }
    }
    if (stats) {
        for (int i = 0; i < SIM_N_AXES; ++i) {
            const sim_axis_t *a = &sim.ax[i];
            fprintf(stderr, "STATS axis %d steps %ld cycles %llu travelled %llu seq_errors %llu shuttle_um %.1f\n",
                    i, (long)a->steps, (unsigned long long)a->cycles, (unsigned long long)a->travelled,
                    (unsigned long long)a->seq_errors, a->steps * SIM_UM_PER_STEP);
        }
        fprintf(stderr, "STATS rx_bad %u tx_dropped %llu\n", (unsigned)fw.rx.rx_bad,
                (unsigned long long)g_tx_dropped);
    }
    close(g_master);
    return 0;
}
