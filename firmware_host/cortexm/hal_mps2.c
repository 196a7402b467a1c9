/* hal_mps2.c - HAL for the ARM MPS2 AN385 board (Cortex-M3) as emulated by QEMU (mps2-an385):
 * CMSDK APB UART0 at 0x40004000 (RX interrupt = IRQ 0) at 115 200 baud, SysTick for time, phase
 * lines latched in RAM (a real actuator board drives its high-voltage switches from GPIO here), no
 * position sensor (open-loop step counting), a boot counter in non-initialised RAM, and
 * NVIC_SystemReset for hal_reset. This is a flight build: INJECT is refused. */
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

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)

#define SYSTICK_RELOAD (SYSCLK_HZ / 1000u - 1u) /* 1 ms tick */

static volatile uint32_t g_ms;
static volatile uint8_t g_rx_ring[256]; /* > 3 frames of 73 bytes */
static volatile uint8_t g_rx_head, g_rx_tail;
volatile uint8_t g_phase_lines[3];
__attribute__((section(".noinit"))) static uint32_t g_boot_magic, g_boot_count;

void SysTick_Handler(void) { g_ms++; }

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

uint32_t hal_micros(void)
{
    uint32_t ms, cvr;
    do {
        ms = g_ms;
        cvr = SYST_CVR;
    } while (ms != g_ms);
    return ms * 1000u + (SYSTICK_RELOAD - cvr) / (SYSCLK_HZ / 1000000u);
}

void hal_phase_write(uint8_t axis, uint8_t phases)
{
    if (axis < 3u) {
        g_phase_lines[axis] = phases;
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
    UART_BAUDDIV = SYSCLK_HZ / BAUD;
    UART_CTRL = 0x1u | 0x2u | 0x8u; /* TX enable, RX enable, RX interrupt */
    NVIC_ISER0 = 1u << 0;           /* IRQ 0: UART0 RX */
    fw_init();
    for (;;) {
        fw_poll();
        __asm volatile("wfi"); /* sleep until the next tick or received byte */
    }
}
