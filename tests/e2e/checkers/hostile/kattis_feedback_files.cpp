// Hostile Kattis output validator: creates empty files in its feedback folder
// without end (and would then accept). The host must bound how many entries
// the folder holds: a checker failure that names the quota.
#include <cstdio>
#include <string>

int main(int argc, char *argv[]) {
    if (argc < 4) return 1;
    for (long i = 0;; i++) {
        std::string path = std::string(argv[3]) + "/f" + std::to_string(i);
        FILE *f = std::fopen(path.c_str(), "w");
        if (f) std::fclose(f);
    }
}
