/*
 * procinfo: what a process knows about itself.
 *
 * The program prints a title, its own name, its parent's pid and its own
 * pid; then it forks one child, which prints the same four things about
 * itself. Compare the numbers: the child's parent is the program.
 *
 *     procinfo
 *
 * The pids change from run to run.
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

// [info]
/* Print what this process can find out about itself. */
static void procinfo_show(const char *title, const char *program)
{
    printf("%s\n", title);
    printf("  program name: %s\n", program);
    printf("  parent pid:   %ld\n", (long)getppid());
    printf("  own pid:      %ld\n", (long)getpid());
}
// [info]

int main(int argc, char *argv[])
{
    (void)argc;
    /* argv[0] is the name the program was started with; drop the path. */
    const char *slash = strrchr(argv[0], '/');
    const char *program = slash != NULL ? slash + 1 : argv[0];

    // [main]
    procinfo_show("main process", program);

    if (fflush(stdout) == EOF) /* why: see "flushing before fork()" */
        die("fflush");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        procinfo_show("child process", program);
        if (fflush(stdout) == EOF)
            _exit(1);
        _exit(0);
    }
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    // [main]
    return 0;
}
