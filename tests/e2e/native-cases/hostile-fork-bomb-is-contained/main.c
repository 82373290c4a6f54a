/* A fork bomb: the pids limit stops it; the wall backstop (TLE) or the
   container's memory limit (MLE), whichever its processes reach first, ends
   the case, and the supervisor kills every process it made. */
#include <unistd.h>
int main(void) { for (;;) fork(); }
