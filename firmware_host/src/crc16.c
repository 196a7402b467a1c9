/* crc16.c - CRC-16/CCITT-FALSE, nibble-table implementation (32 bytes of table: small enough for
 * any microcontroller, twice as fast as bitwise). */
#include "crc16.h"

static const uint16_t NIBBLE_TABLE[16] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
    0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
};

uint16_t crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        uint8_t b = data[i];
        crc = (uint16_t)((crc << 4) ^ NIBBLE_TABLE[((crc >> 12) ^ (b >> 4)) & 0x0Fu]);
        crc = (uint16_t)((crc << 4) ^ NIBBLE_TABLE[((crc >> 12) ^ (b & 0x0Fu)) & 0x0Fu]);
    }
    return crc;
}

uint16_t crc16_ccitt_false(const uint8_t *data, size_t len)
{
    return crc16_update(CRC16_INIT, data, len);
}
