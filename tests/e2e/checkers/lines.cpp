// Compares the participant's output with the answer line by line, each line
// as a list of tokens (like testlib's standard lcmp): blanks inside a line
// and trailing empty lines do not matter.
#include "testlib.h"

static std::vector<std::string> words(const std::string &line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

static std::string joined(const std::vector<std::string> &ws) {
    std::string s;
    for (size_t i = 0; i < ws.size(); i++) s += (i ? " " : "") + ws[i];
    return compress(s);
}

int main(int argc, char *argv[]) {
    registerTestlibCmd(argc, argv);
    int n = 0;
    while (!ans.seekEof()) {
        n++;
        std::vector<std::string> expected = words(ans.readLine());
        if (ouf.seekEof())
            quitf(_wa, "answer has more lines: expected %d%s line '%s', found end of file", n,
                  englishEnding(n).c_str(), joined(expected).c_str());
        std::vector<std::string> found = words(ouf.readLine());
        if (expected != found)
            quitf(_wa, "%d%s lines differ - expected: '%s', found: '%s'", n, englishEnding(n).c_str(),
                  joined(expected).c_str(), joined(found).c_str());
    }
    if (!ouf.seekEof()) quitf(_wa, "participant output has extra lines after %d lines", n);
    quitf(_ok, "%d lines", n);
}
