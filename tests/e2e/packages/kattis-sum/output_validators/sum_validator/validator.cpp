// The output validator of kattis-sum, with Kattis' contract: run as
// `validator input answer feedback_dir < output`, it exits 42 to accept and
// 43 to reject, and says why in feedback_dir/judgemessage.txt.
#include <cstdio>
#include <string>

static int verdict(const std::string& feedback_dir, int code, const std::string& message) {
    std::string path = feedback_dir + "/judgemessage.txt";
    if (FILE* file = std::fopen(path.c_str(), "w")) {
        std::fprintf(file, "%s\n", message.c_str());
        std::fclose(file);
    }
    return code;
}

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s input answer feedback_dir < output\n", argv[0]);
        return 1;
    }
    long long expected = 0;
    FILE* answer = std::fopen(argv[2], "r");
    if (answer == nullptr || std::fscanf(answer, "%lld", &expected) != 1) {
        std::fprintf(stderr, "cannot read the answer %s\n", argv[2]);
        return 1;
    }
    std::fclose(answer);
    long long got = 0;
    if (std::scanf("%lld", &got) != 1) {
        return verdict(argv[3], 43, "no number in the output");
    }
    char extra[32];
    if (std::scanf("%31s", extra) == 1) {
        return verdict(argv[3], 43, std::string("extra output: ") + extra);
    }
    if (got != expected) {
        return verdict(argv[3], 43,
                       "expected " + std::to_string(expected) + ", got " + std::to_string(got));
    }
    return verdict(argv[3], 42, "the sum is right");
}
