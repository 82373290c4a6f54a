/* Binary search; each query is flushed with fflush(stdout). */
#include <stdio.h>

int main(void) {
    long long n, lo = 1, hi;
    if (scanf("%lld", &n) != 1) return 1;
    hi = n;
    for (;;) {
        long long mid = (lo + hi) / 2;
        char reply[4];
        printf("? %lld\n", mid);
        fflush(stdout);
        if (scanf("%3s", reply) != 1) return 1;
        if (reply[0] == '=') {
            printf("! %lld\n", mid);
            return 0;
        }
        if (reply[0] == '<') hi = mid - 1;
        else lo = mid + 1;
    }
}
