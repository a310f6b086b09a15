/*
 * cow: after fork() the parent and the child do not share memory.
 *
 * The child changes a global variable, a local variable and a heap
 * buffer, and prints them. The parent waits for the child to finish, then
 * prints the same variables, at the same addresses: they still hold the
 * parent's values. Each process has its own copy (copy-on-write).
 *
 *     cow
 *
 * The addresses vary from run to run (address-space randomisation), but
 * in one run they are the same in both processes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

static int global_count = 100;

static void cow_show(const char *who, const int *local, const char *heap)
{
    printf("%-7s global_count = %4d at %p\n", who, global_count,
           (const void *)&global_count);
    printf("%-7s local        = %4d at %p\n", who, *local, (const void *)local);
    printf("%-7s heap         = %-4s at %p\n", who, heap, (const void *)heap);
}

int main(void)
{
    int local = 7;
    char *heap = malloc(16);
    if (heap == NULL)
        die("malloc");
    strcpy(heap, "old");

    cow_show("before", &local, heap);
    if (fflush(stdout) == EOF)
        die("fflush");

    // [cow]
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        global_count = 999; /* the child writes to all three... */
        local = 42;
        strcpy(heap, "new");
        cow_show("child", &local, heap);
        if (fflush(stdout) == EOF)
            _exit(1);
        _exit(0);
    }
    if (waitpid(pid, NULL, 0) == -1) /* ...and is finished here */
        die("waitpid");
    cow_show("parent", &local, heap); /* the parent sees none of it */
    // [cow]

    free(heap);
    return 0;
}
