// The interactor of guess-number, with testlib's interactor contract:
//   interactor <input> <tout> [<answer>]
// It reads n and the hidden number from the input file, tells the solution
// n, answers up to 30 queries `? x` with `<`, `>` or `=`, and judges the
// final `! x`. It writes the number of queries used to tout.
#include "testlib.h"

#include <iostream>
#include <string>

int main(int argc, char *argv[]) {
    registerInteraction(argc, argv);
    const int n = inf.readInt();
    const int hidden = inf.readInt(1, n, "hidden");
    std::cout << n << std::endl;
    int queries = 0;
    while (true) {
        const std::string kind = ouf.readToken();
        if (kind != "?" && kind != "!") quitf(_pe, "expected `?` or `!`, found `%s`", kind.c_str());
        const int x = ouf.readInt(1, n, "x");
        if (kind == "!") {
            tout << queries << std::endl;
            if (x != hidden) quitf(_wa, "guessed %d, but the number was %d", x, hidden);
            quitf(_ok, "found %d in %d queries", hidden, queries);
        }
        if (++queries > 30) quitf(_wa, "more than 30 queries");
        std::cout << (hidden < x ? "<" : hidden > x ? ">" : "=") << std::endl;
    }
}
