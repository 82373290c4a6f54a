# input() and print(*args), as in CPython.
a, b = map(int, input().split())
print(*[a + b])
