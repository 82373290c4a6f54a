// The checker of polygon-sum: the one number printed must be the sum.
// Written against testlib's checker interface; the judge provides testlib.h.
#include "testlib.h"

int main(int argc, char* argv[]) {
    registerTestlibCmd(argc, argv);
    long long expected = ans.readLong();
    long long got = ouf.readLong();
    if (!ouf.seekEof()) {
        quitf(_wa, "extra output after the sum");
    }
    if (got != expected) {
        quitf(_wa, "expected %lld, found %lld", expected, got);
    }
    quitf(_ok, "the sum is %lld", got);
}
