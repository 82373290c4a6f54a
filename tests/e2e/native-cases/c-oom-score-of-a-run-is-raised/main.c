/* The OOM killer must take the run, never the sandbox's supervisor: every
   run starts with oom_score_adj 1000. The sum is printed only if it does
   (a fork bomb once filled the memory cgroup and the supervisor was taken,
   because the score was never written). */
#include <stdio.h>
int main(void) {
    long long a, b;
    int adj = -1;
    FILE *f = fopen("/proc/self/oom_score_adj", "r");
    if (f) {
        if (fscanf(f, "%d", &adj) != 1) adj = -1;
        fclose(f);
    }
    if (scanf("%lld %lld", &a, &b) != 2) return 1;
    if (adj != 1000) {
        printf("oom_score_adj is %d, not 1000\n", adj);
        return 0;
    }
    printf("%lld\n", a + b);
    return 0;
}
