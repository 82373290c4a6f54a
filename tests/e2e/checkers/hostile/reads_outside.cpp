// Hostile checker: tries to read files outside the folder it was given.
// Each path is one a sandbox must refuse: the host's /etc/passwd, a file
// "x" next to the checker's folder ("../x"), and the same through the
// folder of its input argument. If any of them opens, the verdict is
// "wrong answer read outside the sandbox: <path> ..."; when none does it is
// "ok nothing outside the sandbox could be read". A correct host gives ok.
#include "testlib.h"

static std::string folderOf(const std::string &path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    while (!ouf.seekEof()) ouf.readToken();  // whatever the output, it is not extra
    std::string inputDir = folderOf(argv[1]);
    const std::string paths[] = {
        "/etc/passwd",
        "../x",
        "../../../../../../../../etc/passwd",
        "/proc/self/environ",
        inputDir + "/../x",
        inputDir + "/../../../../../../../../etc/passwd",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        FILE *f = std::fopen(paths[i].c_str(), "rb");
        if (!f) continue;
        char head[33] = {0};
        size_t n = std::fread(head, 1, 32, f);
        std::fclose(f);
        for (size_t k = 0; k < n; k++)
            if (head[k] == '\n' || head[k] == '\r' || head[k] == 0) head[k] = ' ';
        quitf(_wa, "read outside the sandbox: %s (%d bytes, starting '%s')", paths[i].c_str(), (int)n, head);
    }
    quitf(_ok, "nothing outside the sandbox could be read");
}
