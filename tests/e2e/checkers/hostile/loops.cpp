// Hostile checker: never ends. The host must stop it by its time (fuel)
// limit, and a checker stopped so is a judge error.
#include "testlib.h"

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    volatile unsigned long long spins = 0;  // volatile: the loop is not optimised away
    for (;;) spins = spins + 1;
}
