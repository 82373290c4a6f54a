// Compares the participant's tokens with the answer's, one by one (like
// testlib's standard wcmp): any blanks separate tokens, their kind and
// number do not matter.
#include "testlib.h"

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    std::string expected, found;
    int n = 0;
    while (!ans.seekEof()) {
        ans.readTokenTo(expected);
        n++;
        if (ouf.seekEof())
            quitf(_wa, "answer has more tokens: expected %d%s token '%s', found end of file", n,
                  englishEnding(n).c_str(), compress(expected).c_str());
        ouf.readTokenTo(found);
        if (expected != found)
            quitf(_wa, "%d%s tokens differ - expected: '%s', found: '%s'", n, englishEnding(n).c_str(),
                  compress(expected).c_str(), compress(found).c_str());
    }
    if (!ouf.seekEof()) quitf(_wa, "participant output has extra tokens after %d tokens", n);
    if (n == 1) quitf(_ok, "single token: '%s'", compress(expected).c_str());
    quitf(_ok, "%d tokens", n);
}
