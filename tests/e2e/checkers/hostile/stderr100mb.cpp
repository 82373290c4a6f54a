// Hostile checker: writes 100 MB to stderr (where testlib's verdict message
// goes), then accepts. The host must cap what it keeps of a checker's stderr
// and stay within its own memory; what the verdict becomes (the message cut,
// or a judge error for too much output) is the host's rule.
#include "testlib.h"

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    while (!ouf.seekEof()) ouf.readToken();  // whatever the output, it is not extra
    std::string line(1023, 'x');
    line += '\n';
    for (int i = 0; i < 100 * 1024; i++) std::fwrite(line.data(), 1, line.size(), stderr);
    quitf(_ok, "after 100 MB of stderr");
}
