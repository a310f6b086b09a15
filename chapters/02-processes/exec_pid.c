/*
 * exec_pid: exec replaces the program, not the process.
 *
 * The program prints its pid, then calls execl() to become /bin/sh
 * running a one-line script that prints *its* pid: the same number. The
 * line after execl() never runs, because on success exec does not return.
 *
 *     exec_pid
 *
 * The pid varies from run to run; it is the same in both lines.
 */
#include <stdio.h>
#include <unistd.h>

#include "die.h"

int main(void)
{
    // [exec]
    printf("exec_pid: my pid is %ld; now I become sh\n", (long)getpid());
    /* exec throws away this program's memory, stdio buffers included:
     * flush first or the line above is lost when stdout is a file. */
    if (fflush(stdout) == EOF)
        die("fflush");

    execl("/bin/sh", "sh", "-c", "echo \"sh: my pid is $$\"", (char *)NULL);
    die("execl"); /* reached only if exec failed */
    // [exec]
}
