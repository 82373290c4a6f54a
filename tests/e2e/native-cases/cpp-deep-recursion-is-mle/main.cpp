// The stack may grow up to the memory limit (as on most judges), and counts
// towards it: unbounded recursion is MLE.
#include <cstdio>
int depth(int n) { volatile char pad[4096]; pad[0] = n; return depth(n + 1) + pad[0]; }
int main() { std::printf("%d\n", depth(0)); }
