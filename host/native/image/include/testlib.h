// Gavel's testlib.h: a testlib-compatible header for checkers, interactors
// and validators, written for Gavel from testlib's public, documented
// interface (it is not testlib's source). Programs written against the real
// testlib.h compile unchanged for the parts listed here and end the same way:
// same exit code, same first words on stderr.
//
//   checker      registerTestlibCmd(argc, argv):
//                  checker <input> <output> <answer> [<result-file>]
//   interactor   registerInteraction(argc, argv):
//                  interactor <input> <output> [<answer> [<result-file>]]
//                the participant's output is read from stdin as `ouf`, what
//                the interactor prints goes to the participant, `tout`
//                writes <output>.
//   validator    registerValidation() / registerValidation(argc, argv):
//                  reads the test from stdin in strict mode (no blank is
//                  skipped); it must end with inf.readEof().
//
// Verdicts, exit codes and stderr: _ok 0 "ok", _wa 1 "wrong answer", _pe 2
// "wrong output format", _fail 3 "FAIL", _dirt 4 "wrong output format",
// _points 7 "points <value>", _pc(k) PC_BASE_EXIT_CODE + k (16 + k unless
// defined before the include) "partially correct (k)"; then the message and
// a newline. <result-file>, when given, gets the same line.
//
// Bad data in `ouf` is a presentation error, a value out of range a wrong
// answer; in `inf` or `ans` anything is FAIL (the stream's name is added).
// A checker that ends with _ok, points or partial credit while `ouf` still
// holds more than blanks gets _dirt ("Extra information in the output
// file"); an interactor does not. A checker or interactor that returns from
// main without a verdict FAILs, and so does a validator without readEof().
//
// Not provided: generators' `rnd` is a small generator with its own sequence
// (not testlib's); there is no `opt`, no XML result (-appes is ignored), no
// ENABLE_UNEXPECTED_EOF. No exceptions are used (it builds with
// -fno-exceptions), and `tout` is not a std::ofstream (wasm32-wasi libc++
// has none) but a std::ostream over a C FILE.

#ifndef GAVEL_TESTLIB_H
#define GAVEL_TESTLIB_H

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <ostream>
#include <queue>
#include <set>
#include <sstream>
#include <stack>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#ifndef PC_BASE_EXIT_CODE
#define PC_BASE_EXIT_CODE 16
#endif

#if defined(__GNUC__)
#define TESTLIB_NORETURN __attribute__((noreturn))
#define TESTLIB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TESTLIB_NORETURN
#define TESTLIB_PRINTF(f, a)
#endif

enum TResult {
    _ok = 0,
    _wa = 1,
    _pe = 2,
    _fail = 3,
    _dirt = 4,
    _points = 5,
    _unexpected_eof = 8,
    _partially = 16
};
#define _pc(k) (TResult(_partially + (k)))

enum TMode { _input, _output, _answer };
enum TTestlibMode { _unknown, _checker, _validator, _generator, _interactor, _scorer };

// ---------------------------------------------------------------- strings

// Helpers below that a checker might also define itself are templates
// (`template <typename = void>`): a checker's own non-template function of
// the same signature then wins instead of clashing.
#define __TESTLIB_HELPER template <typename = void> inline

inline std::string __testlib_vformat(const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n <= 0) return std::string();
    std::vector<char> buf(n + 1);
    std::vsnprintf(&buf[0], buf.size(), fmt, ap);
    return std::string(&buf[0], n);
}

// The printf-style arguments after `fmt`, formatted into std::string `out`.
#define __TESTLIB_VFORMAT(fmt, out) \
    va_list ap;                     \
    va_start(ap, fmt);              \
    std::string out = __testlib_vformat(fmt, ap); \
    va_end(ap)

inline std::string __testlib_format(const char *fmt, ...) {
    __TESTLIB_VFORMAT(fmt, s);
    return s;
}
// printf-style. A template so that, with C++20's <format> and `using
// namespace std`, format("%d", x) still means this one, not std::format.
template <typename... Args>
std::string format(const char *fmt, Args &&...args) {
    return __testlib_format(fmt, args...);
}

template <typename T>
std::string vtos(const T &t) {
    std::ostringstream ss;
    ss << t;
    return ss.str();
}
template <typename T>
std::string toString(const T &t) { return vtos(t); }

__TESTLIB_HELPER std::string englishEnding(int x) {
    x %= 100;
    if (x < 0) x = -x;
    if (x / 10 == 1) return "th";
    if (x % 10 == 1) return "st";
    if (x % 10 == 2) return "nd";
    if (x % 10 == 3) return "rd";
    return "th";
}

__TESTLIB_HELPER std::string upperCase(std::string s) {
    for (size_t i = 0; i < s.size(); i++) s[i] = (char)std::toupper((unsigned char)s[i]);
    return s;
}
__TESTLIB_HELPER std::string lowerCase(std::string s) {
    for (size_t i = 0; i < s.size(); i++) s[i] = (char)std::tolower((unsigned char)s[i]);
    return s;
}

inline bool __testlib_isBlank(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

__TESTLIB_HELPER std::string trim(const std::string &s) {
    size_t b = 0, e = s.size();
    while (b < e && __testlib_isBlank((unsigned char)s[b])) b++;
    while (e > b && __testlib_isBlank((unsigned char)s[e - 1])) e--;
    return s.substr(b, e - b);
}

// A long token shown in a message: its head and tail around "...".
__TESTLIB_HELPER std::string compress(const std::string &s) {
    if (s.size() <= 64) return s;
    return s.substr(0, 30) + "..." + s.substr(s.size() - 31);
}
inline std::string __testlib_part(const std::string &s) { return compress(s); }

// Word sequences equal (blanks of any kind and length separate words). A
// template so that a checker's own compareWords(string, string) wins.
template <typename S>
bool compareWords(const S &a, const S &b) {
    std::istringstream sa(a), sb(b);
    std::string wa, wb;
    for (;;) {
        bool ha = static_cast<bool>(sa >> wa), hb = static_cast<bool>(sb >> wb);
        if (ha != hb) return false;
        if (!ha) return true;
        if (wa != wb) return false;
    }
}

__TESTLIB_HELPER std::string removeDoubleTrailingZeroes(std::string s) {
    if (s.find('.') == std::string::npos) return s;
    while (!s.empty() && s[s.size() - 1] == '0') s.erase(s.size() - 1);
    if (!s.empty() && s[s.size() - 1] == '.') s.erase(s.size() - 1);
    return s.empty() ? "0" : s;
}

// ---------------------------------------------------------------- doubles

// True when result is within maxError of expected, absolutely or
// relatively; NaN and infinities must match exactly.
__TESTLIB_HELPER bool doubleCompare(double expected, double result, double maxError) {
    if (std::isnan(expected)) return std::isnan(result);
    if (std::isinf(expected)) return std::isinf(result) && (expected > 0) == (result > 0);
    if (std::isnan(result) || std::isinf(result)) return false;
    if (std::fabs(result - expected) <= maxError + 1E-15) return true;
    double lo = std::min(expected * (1.0 - maxError), expected * (1.0 + maxError));
    double hi = std::max(expected * (1.0 - maxError), expected * (1.0 + maxError));
    return result + 1E-15 >= lo && result <= hi + 1E-15;
}

// The smaller of the absolute and the relative error.
__TESTLIB_HELPER double doubleDelta(double expected, double result) {
    double abs = std::fabs(result - expected);
    if (std::fabs(expected) > 1E-9) return std::min(abs, abs / std::fabs(expected));
    return abs;
}

// ---------------------------------------------------------------- patterns

// testlib's token patterns: alternatives separated by '|', each a sequence
// of atoms (a character, \c, or a class [a-z0-9_] / [^...]) with an
// optional repeat: {n}, {n,m}, *, + or ?. Parentheses are not supported.
class pattern {
public:
    pattern() {}
    explicit pattern(const std::string &s) : src(s), alts(1) {
        for (size_t i = 0; i < src.size();) {
            if (src[i] == '|') {
                alts.push_back(std::vector<Atom>());
                i++;
                continue;
            }
            Atom at;
            at.set.assign(256, false);
            at.lo = at.hi = 1;
            if (src[i] == '[') {
                bool negated = ++i < src.size() && src[i] == '^';
                for (i += negated; i < src.size() && src[i] != ']'; i++) {
                    if (src[i] == '\\' && i + 1 < src.size()) i++;
                    unsigned char from = src[i], to = from;
                    if (i + 2 < src.size() && src[i + 1] == '-' && src[i + 2] != ']') to = src[i += 2];
                    for (int c = from; c <= to; c++) at.set[c] = true;
                }
                i++;
                if (negated) at.set.flip();
            } else {
                if (src[i] == '\\' && i + 1 < src.size()) i++;
                at.set[(unsigned char)src[i++]] = true;
            }
            if (i < src.size() && src[i] == '{') {
                size_t close = std::min(src.find('}', i), src.size()), comma = src.find(',', i);
                at.lo = std::atoi(src.c_str() + i + 1);
                at.hi = comma < close ? std::atoi(src.c_str() + comma + 1) : at.lo;
                i = close + 1;
            } else if (i < src.size() && std::strchr("*+?", src[i])) {
                at.lo = src[i] == '+';
                at.hi = src[i++] == '?' ? 1 : INT_MAX;
            }
            alts.back().push_back(at);
        }
    }
    const std::string &src_() const { return src; }
    bool matches(const std::string &s) const {
        for (size_t a = 0; a < alts.size(); a++)
            if (matches(alts[a], s)) return true;
        return false;
    }

private:
    struct Atom {
        std::vector<bool> set;
        int lo, hi;
    };
    std::string src;
    std::vector<std::vector<Atom> > alts;

    // The positions of s each prefix of the atoms can end at.
    static bool matches(const std::vector<Atom> &atoms, const std::string &s) {
        std::vector<char> reach(s.size() + 1, 0), next;
        reach[0] = 1;
        for (size_t a = 0; a < atoms.size(); a++) {
            next.assign(s.size() + 1, 0);
            for (size_t p = 0; p <= s.size(); p++) {
                if (!reach[p]) continue;
                for (size_t q = p, k = 0;; q++, k++) {
                    if ((int)k >= atoms[a].lo) next[q] = 1;
                    if ((int)k == atoms[a].hi || q == s.size() || !atoms[a].set[(unsigned char)s[q]]) break;
                }
            }
            reach.swap(next);
        }
        return reach[s.size()] != 0;
    }
};

// ---------------------------------------------------------------- quitting

TESTLIB_NORETURN inline void quit(TResult result, const std::string &message);

struct __TestlibState {
    TTestlibMode mode;
    bool quitted;
    bool readEofCalled;
    std::string resultName;
    int testCase;
    __TestlibState() : mode(_unknown), quitted(false), readEofCalled(false), testCase(-1) {}
};
inline __TestlibState &__testlib_state() {
    static __TestlibState st;
    return st;
}

// ---------------------------------------------------------------- streams

class InStream {
public:
    InStream() : mode(_input), strict(false), file(NULL), look(NONE) {}

    std::string name;
    TMode mode;
    bool strict;

    void init(FILE *f, TMode m, const std::string &streamName, bool isStrict) {
        file = f, mode = m, name = streamName, strict = isStrict, look = NONE;
    }
    bool opened() const { return file != NULL; }

    // Ends the program; in inf or ans every failure is FAIL.
    TESTLIB_NORETURN void quit(TResult result, const std::string &message) {
        if (mode != _output && result != _fail)
            ::quit(_fail, trim(message) + " (" + name + ")");
        ::quit(result == _unexpected_eof ? _pe : result, message);
    }
    TESTLIB_NORETURN void quit(TResult result, const char *message) { quit(result, std::string(message)); }
    TESTLIB_NORETURN void quitf(TResult result, const char *fmt, ...) TESTLIB_PRINTF(3, 4) {
        __TESTLIB_VFORMAT(fmt, s);
        quit(result, s);
    }
    void ensuref(bool cond, const char *fmt, ...) TESTLIB_PRINTF(3, 4) {
        if (cond) return;
        __TESTLIB_VFORMAT(fmt, s);
        quit(_wa, s);
    }
    void __testlib_ensure(bool cond, const std::string &what) {  // ouf.ensure(cond)
        if (!cond) quit(_wa, "Condition failed: \"" + what + "\"");
    }

    // ---- characters
    int curChar() { return peek(); }
    int nextChar() { return get(); }
    void skipChar() { get(); }
    void unreadChar(int c) { look = c; }

    bool eof() { return peek() == EOF; }
    bool seekEof() { return skipBlanks(), eof(); }
    bool eoln() { return strict ? peek() == '\n' : seekEoln(); }
    bool seekEoln() {
        while (peek() == ' ' || peek() == '\t' || peek() == '\r') get();
        return peek() == '\n' || peek() == EOF;
    }
    void skipBlanks() { while (__testlib_isBlank(peek())) get(); }
    void nextLine() {
        int c;
        do c = get(); while (c != '\n' && c != EOF);
    }

    char readChar() {
        int c = get();
        if (c == EOF) quit(_pe, "Unexpected end of file - char expected");
        return (char)c;
    }
    char readChar(char expected) {
        int c = get();
        if (c == EOF) quit(_pe, __testlib_format("Unexpected end of file - '%c' expected", expected));
        if (c != (unsigned char)expected)
            quit(_pe, __testlib_format("Unexpected character '%s', but '%s' expected", charName(c).c_str(),
                             charName((unsigned char)expected).c_str()));
        return (char)c;
    }
    char readSpace() { return readChar(' '); }
    void readEoln() {
        if (!strict)
            while (peek() == ' ' || peek() == '\t' || peek() == '\r') get();
        if (peek() == EOF) quit(_pe, "Unexpected end of file - EOLN expected");
        if (peek() != '\n') quit(_pe, "Expected EOLN");
        get();
    }
    void readEof() {
        __testlib_state().readEofCalled = true;
        if (!strict) skipBlanks();
        if (peek() != EOF) quit(_pe, "Expected EOF");
    }

    // ---- tokens and lines
    std::string readToken() {
        std::string s;
        readTokenTo(s);
        return s;
    }
    void readTokenTo(std::string &s) {
        if (!strict) skipBlanks();
        if (peek() == EOF) quit(_pe, "Unexpected end of file - token expected");
        if (__testlib_isBlank(peek())) quit(_pe, "Expected token, but blank found");
        s.clear();
        while (peek() != EOF && !__testlib_isBlank(peek())) s += (char)get();
    }
    std::string readToken(const pattern &p, const std::string &var = "") {
        std::string s = readToken();
        checkPattern(s, p, var, "Token");
        return s;
    }
    std::string readToken(const std::string &p, const std::string &var = "") { return readToken(pattern(p), var); }
    void readTokenTo(std::string &s, const std::string &p, const std::string &var = "") { s = readToken(p, var); }
    std::string readWord() { return readToken(); }
    void readWordTo(std::string &s) { readTokenTo(s); }
    std::string readWord(const pattern &p, const std::string &var = "") { return readToken(p, var); }
    std::string readWord(const std::string &p, const std::string &var = "") { return readToken(p, var); }
    void readWordTo(std::string &s, const std::string &p, const std::string &var = "") { s = readToken(p, var); }

    std::string readLine() {
        std::string s;
        readLineTo(s);
        return s;
    }
    void readLineTo(std::string &s) {
        if (peek() == EOF) quit(_pe, "Unexpected end of file - line expected");
        s.clear();
        while (peek() != EOF && peek() != '\n') s += (char)get();
        if (peek() == '\n') get();
        if (!s.empty() && s[s.size() - 1] == '\r') s.erase(s.size() - 1);
    }
    std::string readLine(const pattern &p, const std::string &var = "") {
        std::string s = readLine();
        checkPattern(s, p, var, "Line");
        return s;
    }
    std::string readLine(const std::string &p, const std::string &var = "") { return readLine(pattern(p), var); }
    std::string readString() { return readLine(); }
    void readStringTo(std::string &s) { readLineTo(s); }
    std::string readString(const pattern &p, const std::string &var = "") { return readLine(p, var); }
    std::string readString(const std::string &p, const std::string &var = "") { return readLine(p, var); }
    void readLineTo(std::string &s, const std::string &p, const std::string &var = "") { s = readLine(p, var); }
    void readStringTo(std::string &s, const std::string &p, const std::string &var = "") { s = readLine(p, var); }

    // ---- numbers
    long long readLong() { return readInteger("int64", LLONG_MIN, LLONG_MAX); }
    long long readLong(long long lo, long long hi, const std::string &var = "") {
        return checkRange(readLong(), lo, hi, var, "Integer");
    }
    unsigned long long readUnsignedLong() {
        std::string t = numberToken("unsigned int64");
        unsigned long long v = 0;
        if (!parseDigits(t, 0, v, ULLONG_MAX) || (t.size() > 1 && t[0] == '0'))
            quit(_pe, "Expected unsigned int64, but \"" + compress(t) + "\" found");
        return v;
    }
    unsigned long long readUnsignedLong(unsigned long long lo, unsigned long long hi, const std::string &var = "") {
        return checkRange(readUnsignedLong(), lo, hi, var, "Unsigned integer");
    }
    int readInt() { return (int)readInteger("int32", INT_MIN, INT_MAX); }
    int readInt(int lo, int hi, const std::string &var = "") { return checkRange(readInt(), lo, hi, var, "Integer"); }
    int readInteger() { return readInt(); }
    int readInteger(int lo, int hi, const std::string &var = "") { return readInt(lo, hi, var); }

    std::vector<int> readInts(int n, int lo, int hi, const std::string &var = "", int indexBase = 1) {
        std::vector<int> v;
        for (int i = 0; i < n; i++) {
            if (i > 0 && strict) readSpace();
            v.push_back(readInt(lo, hi, var.empty() ? var : __testlib_format("%s[%d]", var.c_str(), i + indexBase)));
        }
        return v;
    }
    std::vector<int> readInts(int n) { return readInts(n, INT_MIN, INT_MAX); }
    std::vector<long long> readLongs(int n, long long lo, long long hi, const std::string &var = "", int indexBase = 1) {
        std::vector<long long> v;
        for (int i = 0; i < n; i++) {
            if (i > 0 && strict) readSpace();
            v.push_back(readLong(lo, hi, var.empty() ? var : __testlib_format("%s[%d]", var.c_str(), i + indexBase)));
        }
        return v;
    }
    std::vector<long long> readLongs(int n) { return readLongs(n, LLONG_MIN, LLONG_MAX); }

    double readDouble() {
        std::string t = numberToken("double");
        bool ok = !t.empty() && t.find_first_not_of("0123456789.eE+-") == std::string::npos &&
                  t.find_first_of("0123456789") != std::string::npos;
        char *end = NULL;
        double v = ok ? std::strtod(t.c_str(), &end) : 0;
        if (!ok || *end != 0 || std::isnan(v) || std::isinf(v))
            quit(_pe, "Expected double, but \"" + compress(t) + "\" found");
        return v;
    }
    double readDouble(double lo, double hi, const std::string &var = "") {
        return checkRange(readDouble(), lo, hi, var, "Double");
    }
    double readReal() { return readDouble(); }
    double readReal(double lo, double hi, const std::string &var = "") { return readDouble(lo, hi, var); }

    // -?D+(.D{minAfter..maxAfter})? with no leading zeros and no "-0".
    double readStrictDouble(double lo, double hi, int minAfter, int maxAfter, const std::string &var = "") {
        std::string t = numberToken("strict double");
        size_t i = t[0] == '-' ? 1 : 0, dot = t.find('.');
        std::string whole = t.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
        std::string frac = dot == std::string::npos ? "" : t.substr(dot + 1);
        bool ok = !whole.empty() && whole.find_first_not_of("0123456789") == std::string::npos &&
                  frac.find_first_not_of("0123456789") == std::string::npos && !(whole.size() > 1 && whole[0] == '0') &&
                  (int)frac.size() >= minAfter && (int)frac.size() <= maxAfter &&
                  !(dot != std::string::npos && frac.empty());
        if (ok && i == 1 && t.find_first_not_of("-0.") == std::string::npos) ok = false;
        if (!ok)
            quit(_pe, __testlib_format("Expected strict double with number of digits after point in range [%d,%d], but \"%s\" found",
                             minAfter, maxAfter, compress(t).c_str()));
        return checkRange(std::strtod(t.c_str(), NULL), lo, hi, var, "Strict double");
    }
    double readStrictReal(double lo, double hi, int minAfter, int maxAfter, const std::string &var = "") {
        return readStrictDouble(lo, hi, minAfter, maxAfter, var);
    }

private:
    static const int NONE = -2;
    FILE *file;
    int look;

    // One character of look-ahead over a C FILE (stdin too, for interactors).
    int peek() { return look == NONE ? (look = file ? std::getc(file) : EOF) : look; }
    int get() {
        int c = peek();
        if (c != EOF) look = NONE;
        return c;
    }
    static std::string charName(int c) {
        return c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : std::string(1, (char)c);
    }
    std::string numberToken(const char *what) {
        if (!strict) skipBlanks();
        if (peek() == EOF) quit(_pe, std::string("Unexpected end of file - ") + what + " expected");
        std::string s;
        while (peek() != EOF && !__testlib_isBlank(peek())) s += (char)get();
        if (s.empty()) quit(_pe, std::string("Expected ") + what + ", but blank found");
        return s;
    }
    static bool parseDigits(const std::string &t, size_t from, unsigned long long &v, unsigned long long limit) {
        if (from >= t.size()) return false;
        v = 0;
        for (size_t i = from; i < t.size(); i++) {
            if (t[i] < '0' || t[i] > '9') return false;
            unsigned d = t[i] - '0';
            if (v > (limit - d) / 10) return false;
            v = v * 10 + d;
        }
        return true;
    }
    // Canonical integers only: no '+', no leading zeros, no "-0".
    long long readInteger(const char *what, long long lo, long long hi) {
        std::string t = numberToken(what);
        bool neg = t[0] == '-';
        unsigned long long mag = 0, limit = neg ? (unsigned long long)(-(lo + 1)) + 1 : (unsigned long long)hi;
        bool ok = parseDigits(t, neg ? 1 : 0, mag, limit) && !(t.size() > (neg ? 2u : 1u) && t[neg ? 1 : 0] == '0') &&
                  !(neg && mag == 0);
        if (!ok) quit(_pe, std::string("Expected ") + what + ", but \"" + compress(t) + "\" found");
        return neg ? -(long long)(mag - 1) - 1 : (long long)mag;
    }
    template <typename T>
    T checkRange(T v, T lo, T hi, const std::string &var, const char *kind) {
        if (v >= lo && v <= hi) return v;
        if (var.empty())
            quit(_wa, std::string(kind) + " " + vtos(v) + " violates the range [" + vtos(lo) + ", " + vtos(hi) + "]");
        quit(_wa, std::string(kind) + " parameter [name=" + var + "] equals to " + vtos(v) + ", violates the range [" +
                      vtos(lo) + ", " + vtos(hi) + "]");
    }
    void checkPattern(const std::string &s, const pattern &p, const std::string &var, const char *kind) {
        if (p.matches(s)) return;
        if (var.empty())
            quit(_wa, std::string(kind) + " \"" + compress(s) + "\" doesn't correspond to pattern \"" + p.src_() + "\"");
        quit(_wa, std::string(kind) + " parameter [name=" + var + "] equals to \"" + compress(s) +
                      "\", doesn't correspond to pattern \"" + p.src_() + "\"");
    }
};

InStream inf, ouf, ans;

// tout: what an interactor writes to its <output> file.
class __TestlibFileBuf : public std::streambuf {
public:
    __TestlibFileBuf() : file(NULL) {}
    FILE *file;

protected:
    int overflow(int c) {
        if (c == EOF) return 0;
        return file && std::fputc(c, file) != EOF ? c : EOF;
    }
    std::streamsize xsputn(const char *s, std::streamsize n) {
        return file ? (std::streamsize)std::fwrite(s, 1, (size_t)n, file) : 0;
    }
    int sync() { return file ? std::fflush(file) : 0; }
};
__TestlibFileBuf __testlib_toutBuf;
std::ostream tout(&__testlib_toutBuf);

// ---------------------------------------------------------------- quit

inline const char *__testlib_verdictName(TResult r) {
    switch (r) {
        case _ok: return "ok";
        case _wa: return "wrong answer";
        case _pe: return "wrong output format";
        case _fail: return "FAIL";
        case _dirt: return "wrong output format";
        case _points: return "points";
        case _unexpected_eof: return "unexpected eof";
        default: return "partially correct";
    }
}

inline int __testlib_exitCode(TResult r) {
    switch (r) {
        case _ok: return 0;
        case _wa: return 1;
        case _pe: return 2;
        case _fail: return 3;
        case _dirt: return 4;
        case _points: return 7;
        case _unexpected_eof: return 8;
        default: return r >= _partially ? PC_BASE_EXIT_CODE + (r - _partially) : 3;
    }
}

// The verdict line, also written to <result-file> when one was given.
inline void __testlib_writeResultFile(const std::string &text) {
    const std::string &name = __testlib_state().resultName;
    FILE *f = name.empty() ? NULL : std::fopen(name.c_str(), "w");
    if (!f) return;
    std::fprintf(f, "%s\n", text.c_str());
    std::fclose(f);
}

inline void quit(TResult result, const std::string &msg) {
    __TestlibState &st = __testlib_state();
    std::string message = trim(msg);
    if (st.quitted) std::_Exit(3);  // quit while quitting
    st.quitted = true;
    if (st.mode == _checker && (result == _ok || result == _points || result >= _partially) && ouf.opened() &&
        !ouf.seekEof()) {
        result = _dirt;
        message = "Extra information in the output file";
    }
    if (st.testCase >= 0 && result != _ok) message += __testlib_format(" (test case %d)", st.testCase);
    std::string name = __testlib_verdictName(result);
    if (result >= _partially) name += __testlib_format(" (%d)", result - _partially);
    std::string text = message.empty() ? name : name + " " + message;
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
    __testlib_writeResultFile(text);
    tout.flush();
    if (__testlib_toutBuf.file) std::fclose(__testlib_toutBuf.file), __testlib_toutBuf.file = NULL;
    std::exit(__testlib_exitCode(result));
}
inline void quit(TResult result, const char *msg) { quit(result, std::string(msg ? msg : "")); }

TESTLIB_NORETURN inline void quitf(TResult result, const char *fmt, ...) TESTLIB_PRINTF(2, 3);
inline void quitf(TResult result, const char *fmt, ...) {
    __TESTLIB_VFORMAT(fmt, s);
    quit(result, s);
}

inline void quitif(bool cond, TResult result, const char *fmt, ...) TESTLIB_PRINTF(3, 4);
inline void quitif(bool cond, TResult result, const char *fmt, ...) {
    if (!cond) return;
    __TESTLIB_VFORMAT(fmt, s);
    quit(result, s);
}

TESTLIB_NORETURN inline void __testlib_quitp(double points, const std::string &message) {
    std::string p = removeDoubleTrailingZeroes(__testlib_format("%.10f", points));
    quit(_points, message.empty() ? p : p + " " + message);
}
template <typename F>
TESTLIB_NORETURN void quitp(F points, const std::string &message = "") {
    __testlib_quitp(double(points), message);
}
template <typename F>
TESTLIB_NORETURN void quitp(F points, const char *fmt, ...) {
    __TESTLIB_VFORMAT(fmt, s);
    __testlib_quitp(double(points), s);
}

inline void __testlib_ensure(bool cond, const std::string &what) {
    if (!cond) quit(_fail, "Condition failed: \"" + what + "\"");
}
#define ensure(cond) __testlib_ensure((cond), #cond)

inline void ensuref(bool cond, const char *fmt, ...) TESTLIB_PRINTF(2, 3);
inline void ensuref(bool cond, const char *fmt, ...) {
    if (cond) return;
    __TESTLIB_VFORMAT(fmt, s);
    quit(_fail, s);
}

inline void setName(const char *, ...) {}
inline void setTestCase(int testCase) { __testlib_state().testCase = testCase; }
inline void unsetTestCase() { __testlib_state().testCase = -1; }

// Returning from main without a verdict is FAIL (validators: without readEof).
struct __TestlibFinalizeGuard {
    __TestlibFinalizeGuard() { __testlib_state(); }  // the state outlives the guard
    ~__TestlibFinalizeGuard() {
        __TestlibState &st = __testlib_state();
        if (st.quitted) return;
        const char *why = NULL;
        if (st.mode == _checker) why = "Checker must end with quit or quitf call.";
        if (st.mode == _interactor) why = "Interactor must end with quit or quitf call.";
        if (st.mode == _validator && !st.readEofCalled) why = "Validator must end with readEof call.";
        if (!why) return;
        st.quitted = true;
        std::fflush(stdout);
        std::fprintf(stderr, "FAIL %s\n", why);
        std::fflush(stderr);
        std::_Exit(3);
    }
};
__TestlibFinalizeGuard __testlib_finalizeGuard;

// ---------------------------------------------------------------- registration

inline FILE *__testlib_open(const char *path, const char *how, const char *what) {
    FILE *f = std::fopen(path, how);
    if (!f) quit(_fail, __testlib_format("Can not open the %s file '%s'", what, path));
    return f;
}

inline void __testlib_resultArgs(int argc, char *argv[], int at) {
    if (argc > at) __testlib_state().resultName = argv[at];
}

inline void registerTestlibCmd(int argc, char *argv[]) {
    __testlib_state().mode = _checker;
    if (argc < 4)
        quit(_fail, "Program must be run with the following arguments: "
                    "<input-file> <output-file> <answer-file> [<report-file>]");
    inf.init(__testlib_open(argv[1], "rb", "input"), _input, "input", false);
    ouf.init(__testlib_open(argv[2], "rb", "output"), _output, "output", false);
    ans.init(__testlib_open(argv[3], "rb", "answer"), _answer, "answer", false);
    __testlib_resultArgs(argc, argv, 4);
}

inline void registerInteraction(int argc, char *argv[]) {
    __testlib_state().mode = _interactor;
    if (argc < 3)
        quit(_fail, "Program must be run with the following arguments: "
                    "<input-file> <output-file> [<answer-file> [<report-file>]]");
    inf.init(__testlib_open(argv[1], "rb", "input"), _input, "input", false);
    __testlib_toutBuf.file = __testlib_open(argv[2], "wb", "output");
    ouf.init(stdin, _output, "stdin", false);
    if (argc > 3) ans.init(__testlib_open(argv[3], "rb", "answer"), _answer, "answer", false);
    __testlib_resultArgs(argc, argv, 4);
}

inline void registerValidation() {
    __testlib_state().mode = _validator;
    inf.init(stdin, _input, "stdin", true);
}
inline void registerValidation(int, char *[]) { registerValidation(); }

// ---------------------------------------------------------------- rnd (minimal)

// A small deterministic generator (splitmix64). Its sequence is not
// testlib's, so a generator's tests differ from the ones real testlib makes.
class random_t {
public:
    random_t() : state(0x9E3779B97F4A7C15ULL) {}
    void setSeed(unsigned long long seed) { state = seed ^ 0x9E3779B97F4A7C15ULL; }
    unsigned long long nextBits() {
        unsigned long long z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    int next(int n) { return (int)(nextBits() % (unsigned long long)n); }
    long long next(long long n) { return (long long)(nextBits() % (unsigned long long)n); }
    int next(int lo, int hi) { return lo + (int)(nextBits() % ((unsigned long long)((long long)hi - lo) + 1)); }
    long long next(long long lo, long long hi) { return lo + (long long)(nextBits() % ((unsigned long long)(hi - lo) + 1)); }
    double next() { return (double)(nextBits() >> 11) / 9007199254740992.0; }
    double next(double n) { return next() * n; }
    double next(double lo, double hi) { return lo + next() * (hi - lo); }
    template <typename C>
    typename C::value_type any(const C &c) { return *std::next(c.begin(), next((long long)c.size())); }
    template <typename It>
    void shuffle(It first, It last) {
        for (long long i = (long long)(last - first) - 1; i > 0; i--) std::swap(first[i], first[next(i + 1)]);
    }

private:
    unsigned long long state;
};
random_t rnd;

inline void registerGen(int argc, char *argv[], int = 1) {
    __testlib_state().mode = _generator;
    unsigned long long h = 14695981039346656037ULL;
    for (int i = 1; i < argc; i++)
        for (const char *p = argv[i];; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
            if (!*p) break;
        }
    rnd.setSeed(h);
}

#endif // GAVEL_TESTLIB_H
