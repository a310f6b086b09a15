/*
 * autoreap.c: SIGCHLD ignored, and back (autoreap.h). Shared by the
 * chapter 2 suites that check a failed waitpid() is reported.
 */
#include "autoreap.h"
#include "wb.h"

#include <signal.h>
#include <string.h>

static struct sigaction old;

void autoreap_start(void)
{
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    WB_EXPECT(sigaction(SIGCHLD, &ign, &old) == 0, "sigaction() failed");
}

void autoreap_stop(void)
{
    sigaction(SIGCHLD, &old, NULL);
}
