// Hostile Kattis output validator: writes judgemessage.txt without end (and
// would then accept). Its feedback folder is the one place a validator may
// write, so the host must bound what it holds: the validator is stopped as a
// checker failure that names the feedback quota, and no runner's disk fills.
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char *argv[]) {
    if (argc < 4) return 1;
    std::string path = std::string(argv[3]) + "/judgemessage.txt";
    FILE *f = std::fopen(path.c_str(), "w");
    if (!f) return 1;
    std::string block(64 * 1024, 'x');
    for (;;) std::fwrite(block.data(), 1, block.size(), f);
}
