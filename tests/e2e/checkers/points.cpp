// Partial credit: the input holds n, the answer n numbers; the participant
// gets the fraction of them printed at the right place (all of them: ok).
#include "testlib.h"

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    int n = inf.readInt(1, 1000000, "n");
    std::vector<long long> expected = ans.readLongs(n);
    int right = 0;
    for (int i = 0; i < n; i++)
        if (ouf.readLong() == expected[i]) right++;
    if (right == n) quitf(_ok, "all %d numbers are right", n);
    quitp(double(right) / n, "%d of %d numbers are right", right, n);
}
