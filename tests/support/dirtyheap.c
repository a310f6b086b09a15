/*
 * dirtyheap.c: garbage in the heap's free memory (dirtyheap.h). Shared by
 * the chapter 2 suites that check a collected output ends with '\0'.
 */
#include "dirtyheap.h"

#include <stdlib.h>
#include <string.h>

void dirtyheap_leave_garbage(void)
{
    void *blocks[48];
    size_t nb = 0;
    for (size_t size = 16; size <= 65536 && nb + 2 <= 48; size *= 2) {
        size_t sizes[2] = {size, size + size / 2};
        for (int k = 0; k < 2; k++) {
            blocks[nb] = malloc(sizes[k]);
            if (blocks[nb] != NULL)
                memset(blocks[nb++], 0xa5, sizes[k]);
        }
    }
    while (nb > 0)
        free(blocks[--nb]);
}
