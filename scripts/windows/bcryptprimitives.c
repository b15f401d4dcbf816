/* Test environment only, never shipped: Wine 8 lacks ProcessPrng (bcryptprimitives.dll), which
 * extensions built with a recent Rust (pydantic-core) import. Windows 10 and 11 have it. This
 * stand-in fills the buffer from RtlGenRandom, as Windows' own ProcessPrng does. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
