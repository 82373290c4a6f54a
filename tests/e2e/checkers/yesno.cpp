// One YES or NO, in any letter case; the answer holds the right one.
#include "testlib.h"

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    std::string answer = ans.readWord(), output = ouf.readWord();
    std::string expected = upperCase(answer), found = upperCase(output);
    if (expected != "YES" && expected != "NO") quitf(_fail, "answer must be YES or NO, not '%s'", compress(answer).c_str());
    if (found != "YES" && found != "NO") quitf(_pe, "YES or NO expected, but '%s' found", compress(output).c_str());
    if (expected != found) quitf(_wa, "expected %s, found %s", expected.c_str(), found.c_str());
    quitf(_ok, "answer is %s", expected.c_str());
}
