/* Hostile: a raw system call (exit_group(0)), past the C library. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>

static void quiet(void)
{
    __asm__ volatile("mov $231, %%eax\n\txor %%edi, %%edi\n\tsyscall" ::
                         : "rax", "rdi", "rcx", "r11", "memory");
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    quiet();
    (void)tasks;
    (void)n;
    (void)records;
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
