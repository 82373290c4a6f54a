// Hostile checker: allocates 4 GiB, 64 MiB at a time, writing to every page.
// A wasm32 module cannot get all of it, and the host's memory limit must
// stop it well before. Whether the limit traps or makes an allocation fail
// (then this checker FAILs), the verdict is a judge error; "ok allocated
// 4 GiB" would mean no limit at all.
#include "testlib.h"

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    while (!ouf.seekEof()) ouf.readToken();  // whatever the output, it is not extra
    const size_t chunk = 64u << 20;
    std::vector<char *> kept;
    for (int i = 0; i < 64; i++) {
        char *p = static_cast<char *>(std::malloc(chunk));
        if (!p) quitf(_fail, "allocation failed after %d MiB", i * 64);
        for (size_t k = 0; k < chunk; k += 4096) p[k] = char(k);
        kept.push_back(p);
    }
    quitf(_ok, "allocated 4 GiB");
}
