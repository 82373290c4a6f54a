# A syntax error is CE, worded by CPython's compiler (file, line, caret).
a, b = map(int, input().split())
if a > b
    print(a)
