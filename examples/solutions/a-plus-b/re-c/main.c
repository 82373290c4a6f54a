#include <stdio.h>

int main(void) {
    int a, b;
    scanf("%d %d", &a, &b);
    volatile int zero = 0;
    printf("%d\n", (a + b) / zero);
    return 0;
}
