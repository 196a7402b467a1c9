/* hal_mps2.c - HAL for the ARM MPS2 AN385 board (Cortex-M3) as emulated by QEMU (mps2-an385):
 * CMSDK APB UART0 at 0x40004000 (RX interrupt = IRQ 0) at 115 200 baud, SysTick for time, phase
 * lines latched in RAM (a real actuator board drives its high-voltage switches from GPIO here), no
 * position sensor (open-loop step counting), a boot counter in non-initialised RAM, and
 * NVIC_SystemReset for hal_reset. This is a flight build: INJECT is refused.
 *
 * Phase timers (the timer-driven phase path of hal.h): one periodic down-counter per axis, all on
 * PCLK = the 25 MHz system clock, each interrupting at 4 x the drive rate and calling
 * fw_phase_tick(axis):
 *   axis 0: CMSDK APB TIMER0 at 0x40000000, IRQ 8
 *   axis 1: CMSDK APB TIMER1 at 0x40001000, IRQ 9
 *   axis 2: timer 1 of the CMSDK APB dual timer at 0x40002000, IRQ 10 (both halves share it)
 * (addresses and IRQ numbers: QEMU hw/arm/mps2.c for mps2-an385, = ARM AN385 memory map; register
 * layouts: Cortex-M System Design Kit TRM, ARM DDI 0479C.) The phase-timer IRQs have the highest
 * NVIC priority (0), UART0 RX and SysTick a lower one (0x80), so a received byte or a millisecond
 * tick never delays a substep; the main loop masks them (PRIMASK) only inside hal_crit_enter/exit. */
#include <stdint.h>

#include "../src/fw.h"
#include "../src/hal.h"

#define SYSCLK_HZ 25000000u /* MPS2 AN385 system clock (ARM DAI 0385) */
#define BAUD 115200u        /* protocol.md section 4 */

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x000u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x004u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x008u))
#define UART_INTCLR (*(volatile uint32_t *)(UART0_BASE + 0x00Cu))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x010u))
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u

/* CMSDK APB timer (DDI 0479C 4.3): CTRL bit0 enable, bit3 interrupt enable; the counter counts
 * RELOAD..0, interrupts on 1 -> 0 and reloads, so the period is RELOAD + 1 PCLK cycles. */
#define APB_TIMER0_BASE 0x40000000u
#define APB_TIMER1_BASE 0x40001000u
#define APBT_CTRL(b) (*(volatile uint32_t *)((b) + 0x000u))
#define APBT_VALUE(b) (*(volatile uint32_t *)((b) + 0x004u))
#define APBT_RELOAD(b) (*(volatile uint32_t *)((b) + 0x008u))
#define APBT_INTCLEAR(b) (*(volatile uint32_t *)((b) + 0x00Cu)) /* INTSTATUS, write 1 to clear */
#define APBT_CTRL_EN 0x1u
#define APBT_CTRL_IRQEN 0x8u
/* CMSDK APB dual timer (DDI 0479C 4.4, SP804 layout): timer 1 at +0x00, timer 2 at +0x20; CONTROL
 * bit7 enable, bit6 periodic, bit5 interrupt enable, bit1 32-bit; periodic period = LOAD + 1. */
#define DUALT_BASE 0x40002000u
#define DT_LOAD(n) (*(volatile uint32_t *)(DUALT_BASE + 0x20u * (n) + 0x00u))
#define DT_VALUE(n) (*(volatile uint32_t *)(DUALT_BASE + 0x20u * (n) + 0x04u))
#define DT_CONTROL(n) (*(volatile uint32_t *)(DUALT_BASE + 0x20u * (n) + 0x08u))
#define DT_INTCLR(n) (*(volatile uint32_t *)(DUALT_BASE + 0x20u * (n) + 0x0Cu))
#define DT_CTRL_EN 0x80u
#define DT_CTRL_PERIODIC 0x40u
#define DT_CTRL_INTEN 0x20u
#define DT_CTRL_32BIT 0x02u
#define IRQ_TIMER0 8u
#define IRQ_TIMER1 9u
#define IRQ_DUALTIMER 10u
#define IRQ_UART0_RX 0u

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR0 (*(volatile uint32_t *)0xE000E280u)
#define NVIC_IPR(irq) (*(volatile uint8_t *)(0xE000E400u + (irq))) /* one byte per IRQ */
#define SCB_SHPR3 (*(volatile uint32_t *)0xE000ED20u)             /* bits 31:24 SysTick */
#define PRIO_PHASE 0x00u /* highest */
#define PRIO_OTHER 0x80u
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)

#define SYSTICK_RELOAD (SYSCLK_HZ / 1000u - 1u) /* 1 ms tick */

static volatile uint32_t g_ms;
static volatile uint8_t g_rx_ring[256]; /* > 3 frames of 73 bytes */
static volatile uint8_t g_rx_head, g_rx_tail;
volatile uint8_t g_phase_lines[3];
__attribute__((section(".noinit"))) static uint32_t g_boot_magic, g_boot_count;

void SysTick_Handler(void) { g_ms++; }

/* ---- phase timers ---- */
#ifdef BLISS_PHASE_TRACE
/* Test build only (build.py ensure_cortexm_trace_built): every phase write with the time it
 * happened, read out by the host through QEMU's QMP pmemsave (tests/test_firmware_phase_timing.py).
 * The clock is timer 2 of the dual timer, free-running at 25 MHz (40 ns per count, wraps after
 * 171.8 s), independent of the phase timers. Also the longest and total time spent in the
 * phase-timer handlers (entry to exit, so including this recording). */
#define TRACE_CAP 7168u
struct phase_trace {
    uint32_t magic;   /* 0x50484153 "PHAS" */
    uint32_t cap;     /* TRACE_CAP */
    uint32_t n;       /* writes since boot; entry i is at [i % cap] */
    uint32_t isr_max; /* counts of 40 ns */
    uint32_t isr_sum;
    uint32_t isr_n;
    uint32_t t[TRACE_CAP];  /* write time, counts of 40 ns (up-counting) */
    uint8_t ph[TRACE_CAP];  /* axis << 5 | phases */
};
volatile struct phase_trace bliss_phase_trace;
static inline uint32_t trace_now(void) { return ~DT_VALUE(1); } /* the clock's counter (clock_init) */
static void trace_init(void)
{
    bliss_phase_trace.cap = TRACE_CAP;
    bliss_phase_trace.magic = 0x50484153u;
}
static void trace_isr(uint32_t t_in)
{
    uint32_t d = trace_now() - t_in;
    if (d > bliss_phase_trace.isr_max) {
        bliss_phase_trace.isr_max = d;
    }
    bliss_phase_trace.isr_sum += d;
    bliss_phase_trace.isr_n++;
}
#define TRACE_ENTER() uint32_t t_in = trace_now()
#define TRACE_EXIT() trace_isr(t_in)
#else
#define TRACE_ENTER() do { } while (0)
#define TRACE_EXIT() do { } while (0)
#endif

void Timer0_Handler(void)
{
    TRACE_ENTER();
    APBT_INTCLEAR(APB_TIMER0_BASE) = 1u; /* first: an expiry during the tick raises it again */
    fw_phase_tick(0);
    TRACE_EXIT();
}

void Timer1_Handler(void)
{
    TRACE_ENTER();
    APBT_INTCLEAR(APB_TIMER1_BASE) = 1u;
    fw_phase_tick(1);
    TRACE_EXIT();
}

void DualTimer_Handler(void)
{
    TRACE_ENTER();
    DT_INTCLR(0) = 1u; /* timer 1 only: timer 2 never interrupts */
    fw_phase_tick(2);
    TRACE_EXIT();
}

static const uint32_t apb_timer_base[2] = {APB_TIMER0_BASE, APB_TIMER1_BASE};
static const uint8_t phase_irq[3] = {IRQ_TIMER0, IRQ_TIMER1, IRQ_DUALTIMER};

void hal_phase_timer_stop(uint8_t axis)
{
    if (axis < 2u) {
        APBT_CTRL(apb_timer_base[axis]) = 0;
        APBT_INTCLEAR(apb_timer_base[axis]) = 1u;
    } else if (axis == 2u) {
        DT_CONTROL(0) = DT_CTRL_32BIT;
        DT_INTCLR(0) = 1u;
    } else {
        return;
    }
    NVIC_ICPR0 = 1u << phase_irq[axis]; /* drop a tick that was already pending */
}

int hal_phase_timer_start(uint8_t axis, uint32_t substep_hz)
{
    if (axis > 2u || substep_hz == 0u) {
        return 0;
    }
    /* PCLK cycles per substep, rounded down: 25 MHz / 80 kHz = 312.5 -> 312 at the 20 kHz maximum
     * (0.16 % fast, so the step budget of axis_tick never sees a debt build up from on-time ticks),
     * exact for rates dividing 6.25 MHz (e.g. 1 kHz: 6250 cycles). */
    uint32_t period = SYSCLK_HZ / substep_hz;
    hal_phase_timer_stop(axis);
    if (axis < 2u) {
        uint32_t b = apb_timer_base[axis];
        APBT_RELOAD(b) = period - 1u;
        APBT_VALUE(b) = period - 1u; /* first tick one full period from now */
        APBT_CTRL(b) = APBT_CTRL_EN | APBT_CTRL_IRQEN;
    } else {
        DT_LOAD(0) = period - 1u; /* also loads the counter */
        DT_CONTROL(0) = DT_CTRL_EN | DT_CTRL_PERIODIC | DT_CTRL_INTEN | DT_CTRL_32BIT;
    }
    return 1;
}

uint32_t hal_crit_enter(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask;
}

void hal_crit_exit(uint32_t saved) { __asm volatile("msr primask, %0" : : "r"(saved) : "memory"); }

void Uart0Rx_Handler(void)
{
    /* Acknowledge first, then drain: a byte that lands after the last RXFULL check raises the
     * interrupt again. (Clearing after the drain lost such a byte's interrupt, and with RXFULL set
     * the UART took no more input: the board went deaf when the host talked during boot.) */
    UART_INTCLR = 0x2u;
    while (UART_STATE & UART_STATE_RXFULL) {
        uint8_t b = (uint8_t)UART_DATA;
        uint8_t next = (uint8_t)(g_rx_head + 1u);
        if (next != g_rx_tail) { /* full: drop, the host's retry recovers */
            g_rx_ring[g_rx_head] = b;
            g_rx_head = next;
        }
    }
}

uint32_t hal_millis(void) { return g_ms; }

/* Microseconds from the dual timer's timer 2, free-running at PCLK (25 MHz) with no interrupt: unlike a
 * count of SysTick interrupts it keeps time when interrupts come late or are lost (QEMU without -icount
 * on a loaded host loses them), which the phase tick's step budget (axis_tick) relies on. The 32-bit
 * counter wraps every 171 s; the main loop reads the clock far more often than that. */
#define CYCLES_PER_US (SYSCLK_HZ / 1000000u)
static uint32_t g_us, g_us_cnt, g_us_rem;
static inline uint32_t clock_cycles(void) { return ~DT_VALUE(1); } /* up-counting */
static void clock_init(void)
{
    DT_CONTROL(1) = DT_CTRL_32BIT; /* free-running (not periodic), no interrupt, stopped */
    DT_LOAD(1) = 0xFFFFFFFFu;
    DT_CONTROL(1) = DT_CTRL_EN | DT_CTRL_32BIT;
    g_us_cnt = clock_cycles();
}

uint32_t hal_micros(void)
{
    uint32_t k = hal_crit_enter(); /* the main loop and the phase ticks both read it */
    uint32_t cnt = clock_cycles();
    uint32_t d = cnt - g_us_cnt + g_us_rem;
    g_us_cnt = cnt;
    g_us += d / CYCLES_PER_US;
    g_us_rem = d % CYCLES_PER_US;
    uint32_t us = g_us;
    hal_crit_exit(k);
    return us;
}

void hal_phase_write(uint8_t axis, uint8_t phases)
{
    if (axis < 3u) {
        g_phase_lines[axis] = phases;
#ifdef BLISS_PHASE_TRACE
        uint32_t i = bliss_phase_trace.n % TRACE_CAP;
        bliss_phase_trace.t[i] = trace_now();
        bliss_phase_trace.ph[i] = (uint8_t)(axis << 5 | phases);
        bliss_phase_trace.n++;
#endif
    }
}

int32_t hal_encoder_read(uint8_t axis)
{
    (void)axis;
    return HAL_NO_ENCODER;
}

int hal_uart_getc(void)
{
    if (g_rx_tail == g_rx_head) {
        return -1;
    }
    uint8_t b = g_rx_ring[g_rx_tail];
    g_rx_tail = (uint8_t)(g_rx_tail + 1u);
    return b;
}

void hal_uart_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = buf[i];
    }
}

uint16_t hal_boot_id(void) { return (uint16_t)g_boot_count; }
uint8_t hal_board_flags(void) { return 0; }

int hal_inject(uint8_t kind, uint8_t axis, uint16_t param)
{
    (void)kind;
    (void)axis;
    (void)param;
    return HAL_INJECT_BAD_ARG;
}

void hal_reset(void)
{
    SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
    for (;;) {
    }
}

int main(void)
{
    if (g_boot_magic != 0xB1155EEDu) { /* power-on: RAM is garbage */
        g_boot_magic = 0xB1155EEDu;
        g_boot_count = 0;
    }
    g_boot_count++;
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
    clock_init();
    UART_BAUDDIV = SYSCLK_HZ / BAUD;
    UART_CTRL = 0x1u | 0x2u | 0x8u; /* TX enable, RX enable, RX interrupt */
#ifdef BLISS_PHASE_TRACE
    trace_init();
#endif
    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | (PRIO_OTHER << 24);
    NVIC_IPR(IRQ_UART0_RX) = PRIO_OTHER;
    for (uint8_t i = 0; i < 3u; ++i) {
        NVIC_IPR(phase_irq[i]) = PRIO_PHASE;
    }
    NVIC_ISER0 = (1u << IRQ_UART0_RX) | (1u << IRQ_TIMER0) | (1u << IRQ_TIMER1) | (1u << IRQ_DUALTIMER);
    fw_init();
    for (;;) {
        fw_poll();
#ifndef BLISS_PHASE_TRACE
        __asm volatile("wfi"); /* sleep until the next tick or received byte */
#endif
        /* The trace build polls without sleeping: under QEMU -icount (the timing test) a CPU halted
         * in WFI was woken by a phase-timer interrupt only at the next virtual-clock event, so every
         * other tick came one period late (an emulator artifact: without -icount the WFI build runs
         * 1 kHz moves in 250 us substeps). Busy polling is also the worst case for the phase
         * timing, since the main loop then enters its critical sections as often as it can. */
    }
}
