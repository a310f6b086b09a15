/*
 * fork_twice: fork() is called once and returns twice.
 *
 * Before the call there is one process. After it there are two, both
 * running the line after fork(); the value fork() returned is the only
 * thing that tells them apart: 0 in the child, the child's pid in the
 * parent.
 *
 *     fork_twice
 *
 * Pids and the order of the two "fork() returned" lines vary.
 */
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

int main(void)
{
    /* One line at a time, even into a pipe or file, so the order of the
     * lines is the order in which the processes printed them. */
    if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
        die("setvbuf");

    // [fork]
    printf("before fork(): one process, pid %ld\n", (long)getpid());
    if (fflush(stdout) == EOF)
        die("fflush");

    pid_t pid = fork();
    if (pid == -1)
        die("fork");

    /* Both processes run from here on. */
    printf("fork() returned %ld in process %ld\n", (long)pid, (long)getpid());
    // [fork]

    // [branch]
    if (pid == 0) {
        printf("  I am the child; my parent is %ld\n", (long)getppid());
        if (fflush(stdout) == EOF)
            _exit(1);
        _exit(0);
    }
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    printf("  I am the parent; my child %ld has finished\n", (long)pid);
    // [branch]
    return 0;
}
