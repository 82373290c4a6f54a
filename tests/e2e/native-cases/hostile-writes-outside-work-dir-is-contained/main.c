/* Tries to write outside its work dir, and to gain privileges; AC = all of
   it failed. */
#include <stdio.h>
#include <unistd.h>
int main(void) {
    const char *paths[] = {"/etc/gavel", "/usr/bin/gavel", "/gavel", "/var/gavel",
                           "/usr/local/bin/gavel-supervisor"};
    for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
        FILE *f = fopen(paths[i], "w");
        if (f) { printf("ESCAPED: wrote %s\n", paths[i]); return 0; }
    }
    if (setuid(0) == 0 || getuid() == 0) { puts("ESCAPED: root"); return 0; }
    if (chroot("/") == 0) { puts("ESCAPED: chroot"); return 0; }
    long long a, b;
    scanf("%lld %lld", &a, &b);
    printf("%lld\n", a + b);
    return 0;
}
