// A Kattis output validator (no testlib):
//   kattis_validator <input> <answer> <feedback_dir> [flags...] < team_output
// The answer is a list of integers; the team's output must hold the same
// integers. Exit 42 accepts, 43 rejects; the reason is written to
// <feedback_dir>/judgemessage.txt. When the input's first line is "score",
// an accepted run also writes its score (the answer's integers summed) to
// <feedback_dir>/score.txt.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static std::string feedbackDir;

static void message(const char *file, const std::string &text) {
    std::string path = feedbackDir + "/" + file;
    FILE *f = std::fopen(path.c_str(), "w");
    if (!f) {
        std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(), std::strerror(errno));
        std::exit(1);
    }
    std::fprintf(f, "%s\n", text.c_str());
    std::fclose(f);
}

static void accept(const std::string &why) {
    message("judgemessage.txt", why);
    std::exit(42);
}

static void reject(const std::string &why) {
    message("judgemessage.txt", why);
    std::exit(43);
}

// The next whitespace-separated token of f, or "" at end of file.
static std::string token(FILE *f) {
    std::string s;
    int c;
    while ((c = std::fgetc(f)) != EOF && std::strchr(" \t\r\n", c)) {
    }
    while (c != EOF && !std::strchr(" \t\r\n", c)) {
        s += (char)c;
        c = std::fgetc(f);
    }
    return s;
}

static bool integer(const std::string &s, long long &v) {
    if (s.empty() || s.size() > 19) return false;
    char *end = NULL;
    errno = 0;
    v = std::strtoll(s.c_str(), &end, 10);
    return *end == 0 && errno == 0 && (std::isdigit((unsigned char)s[0]) || (s[0] == '-' && s.size() > 1));
}

int main(int argc, char *argv[]) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s input answer feedback_dir [flags] < team_output\n", argv[0]);
        return 1;
    }
    feedbackDir = argv[3];
    FILE *input = std::fopen(argv[1], "r"), *answer = std::fopen(argv[2], "r");
    if (!input || !answer) {
        std::fprintf(stderr, "cannot open %s\n", input ? argv[2] : argv[1]);
        return 1;
    }
    bool scored = token(input) == "score";
    std::vector<long long> expected;
    for (std::string t = token(answer); !t.empty(); t = token(answer)) {
        long long v;
        if (!integer(t, v)) {
            std::fprintf(stderr, "answer holds a non-integer '%s'\n", t.c_str());
            return 1;
        }
        expected.push_back(v);
    }
    long long score = 0;
    for (size_t i = 0; i < expected.size(); i++) {
        std::string t = token(stdin);
        long long v;
        if (t.empty()) reject("team output ended after " + std::to_string(i) + " integers");
        if (!integer(t, v)) reject("integer " + std::to_string(i + 1) + " is not an integer: '" + t.substr(0, 40) + "'");
        if (v != expected[i])
            reject("integer " + std::to_string(i + 1) + " differs: expected " + std::to_string(expected[i]) +
                   ", found " + std::to_string(v));
        score += v;
    }
    if (!token(stdin).empty()) reject("team output has more than " + std::to_string(expected.size()) + " integers");
    if (scored) message("score.txt", std::to_string(score));
    accept(std::to_string(expected.size()) + " integers match");
}
