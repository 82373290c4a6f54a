/* Writes the query without its newline and never flushes it, then waits
   for the reply: both sides wait to read (a deadlock). (`c-wasm`'s stdout
   is line-buffered, as on a terminal: a newline would have flushed it.) */
#include <stdio.h>

int main(void) {
    long long n;
    char reply[4];
    if (scanf("%lld", &n) != 1) return 1;
    printf("? %lld", n / 2);
    if (scanf("%3s", reply) != 1) return 1;
    printf("\n! %lld\n", n / 2);
    return 0;
}
