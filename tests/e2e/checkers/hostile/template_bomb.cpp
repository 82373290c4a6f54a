// Hostile checker: its compile never ends on its own. Tree<N, D> instantiates
// two distinct Tree<2N, D-1> and Tree<2N+1, D-1> down to depth 0, so 2^40
// class templates are instantiated (no two alike, so nothing is shared) while
// the nesting stays 40 deep, far below the compiler's depth limit; the
// compiler's memory grows by gigabytes and its time by hours. The compile
// must be stopped by the host's compile time or memory limit.
#include "testlib.h"

template <unsigned long long N, int D>
struct Tree {
    static const unsigned long long value = Tree<2 * N, D - 1>::value + Tree<2 * N + 1, D - 1>::value;
};

template <unsigned long long N>
struct Tree<N, 0> {
    static const unsigned long long value = N;
};

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    quitf(_ok, "%llu", Tree<1, 40>::value);
}
