// Asks once, then dereferences a null pointer.
#include <iostream>
#include <string>

int main() {
    long long n;
    std::cin >> n;
    std::cout << "? " << n << std::endl;
    std::string reply;
    std::cin >> reply;
    volatile int *nothing = nullptr;
    return *nothing;
}
