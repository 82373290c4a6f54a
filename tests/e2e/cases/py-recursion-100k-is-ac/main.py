# Recursion 10^5 deep works once the limit is raised.
import sys

sys.setrecursionlimit(10**6)


def depth(n):
    return 0 if n == 0 else depth(n - 1) + 1


a, b = map(int, input().split())
print(a + b + depth(100_000) - 100_000)
