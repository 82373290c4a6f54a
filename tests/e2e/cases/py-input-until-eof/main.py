# input() as CPython's on a pipe: each line without its newline, then
# EOFError with CPython's message at the end of the input.
lines = []
try:
    while True:
        lines.append(input())
except EOFError as e:
    assert str(e) == "EOF when reading a line", e
assert len(lines) == 1, lines
a, b = map(int, lines[0].split())
print(a + b)
