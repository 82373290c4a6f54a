// Hostile checker: includes a file from outside its source folder. The
// compile must fail (compile error, a judge error for a checker) and the
// compiler's log must not show a line of the host's /etc/passwd.
#include "/etc/passwd"

int main() { return 0; }
