#include <cstdio>
int main() {
    int *volatile p = nullptr;
    *p = 42;
    std::printf("%d\n", *p);
}
