/* Asks once, then loops forever. */
#include <stdio.h>

int main(void) {
    long long n;
    volatile unsigned long long spin = 0;
    if (scanf("%lld", &n) != 1) return 1;
    printf("? %lld\n", n);
    fflush(stdout);
    for (;;) spin++;
}
