// Always answers 42 without asking.
#include <iostream>

int main() {
    long long n;
    std::cin >> n;
    std::cout << "! " << (n < 42 ? 1 : 42) << std::endl;
}
