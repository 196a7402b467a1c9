/* startup.c - minimal Cortex-M3 start-up: vector table, .data copy, .bss clear, then main(). */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);
void SysTick_Handler(void);
void Uart0Rx_Handler(void);
void Timer0_Handler(void);
void Timer1_Handler(void);
void DualTimer_Handler(void);

static void Default_Handler(void)
{
    for (;;) {
    }
}

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    main();
    for (;;) {
    }
}

/* 16 system exceptions, then the external IRQs of the MPS2 AN385 (QEMU hw/arm/mps2.c): 0 UART0 RX,
 * 8 TIMER0, 9 TIMER1, 10 dual timer (phase timers of axes 0, 1, 2). */
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 11])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
    Uart0Rx_Handler, /* IRQ 0 */
    Default_Handler, /* IRQ 1: UART0 TX (not enabled) */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, /* IRQ 2..7 (not enabled) */
    Timer0_Handler,    /* IRQ 8 */
    Timer1_Handler,    /* IRQ 9 */
    DualTimer_Handler, /* IRQ 10 */
};
