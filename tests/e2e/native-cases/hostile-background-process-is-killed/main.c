/* Leaves a daemon (new session, reparented) behind in every case; the next
   case checks whether the previous one's is still alive. AC = it was killed. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    FILE *f = fopen("daemon.pid", "r");
    int pid;
    if (f && fscanf(f, "%d", &pid) == 1 && kill(pid, 0) == 0) {
        puts("ESCAPED: a process of an earlier case is still running");
        return 0;
    }
    pid_t child = fork();
    if (child == 0) {
        setsid();
        if (fork() == 0) {
            FILE *g = fopen("daemon.pid", "w");
            fprintf(g, "%d\n", getpid());
            fclose(g);
            for (;;) pause();
        }
        _exit(0);
    }
    waitpid(child, NULL, 0);
    usleep(100000);
    long long a, b;
    scanf("%lld %lld", &a, &b);
    printf("%lld\n", a + b);
    return 0;
}
