#include <cstdio>
int main() { volatile unsigned long long n = 0; while (true) ++n; }
