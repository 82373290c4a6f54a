// Compares sequences of real numbers with an absolute or relative error of
// at most 1e-6 (like testlib's standard rcmp6).
#include "testlib.h"

const double MAX_DOUBLE_ERROR = 1E-6;

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    int n = 0;
    while (!ans.seekEof()) {
        n++;
        double expected = ans.readDouble();
        double found = ouf.readDouble();
        if (!doubleCompare(expected, found, MAX_DOUBLE_ERROR))
            quitf(_wa, "%d%s numbers differ - expected: '%.7f', found: '%.7f', error = '%.7f'", n,
                  englishEnding(n).c_str(), expected, found, doubleDelta(expected, found));
    }
    if (!ouf.seekEof()) quitf(_wa, "participant output has extra numbers after %d numbers", n);
    quitf(_ok, "%d numbers", n);
}
