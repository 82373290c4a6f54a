// The validator of polygon-sum's tests (Polygon runs it on every test;
// Gavel ignores it): n, then n numbers whose sum fits in 64 bits.
#include "testlib.h"

int main(int argc, char* argv[]) {
    registerValidation(argc, argv);
    int n = inf.readInt(1, 100, "n");
    inf.readEoln();
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            inf.readSpace();
        }
        inf.readLong(-1000000000000000000LL, 1000000000000000000LL, "a_i");
    }
    inf.readEoln();
    inf.readEof();
}
