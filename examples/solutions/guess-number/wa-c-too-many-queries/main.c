/* Asks 1, 2, 3, ... in turn: far more than 30 queries for a large number. */
#include <stdio.h>

int main(void) {
    long long n, x;
    char reply[4];
    if (scanf("%lld", &n) != 1) return 1;
    for (x = 1;; x++) {
        printf("? %lld\n", x);
        fflush(stdout);
        if (scanf("%3s", reply) != 1) return 0;
        if (reply[0] == '=') break;
    }
    printf("! %lld\n", x);
    return 0;
}
