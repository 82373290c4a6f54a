// The generator of polygon-sum's large tests: `gen SEED MAX` prints 4
// numbers of magnitude up to MAX.
#include "testlib.h"
#include <cstdio>

int main(int argc, char* argv[]) {
    registerGen(argc, argv, 1);
    long long max = atoll(argv[2]);
    printf("4\n");
    for (int i = 0; i < 4; i++) {
        printf("%s%lld", i ? " " : "", rnd.next(-max / 4, max / 4));
    }
    printf("\n");
}
