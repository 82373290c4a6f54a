#include <iostream>
int main() { while (true) std::cout << "flood flood flood flood\n"; }
