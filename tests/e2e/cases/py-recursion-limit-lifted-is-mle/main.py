# Unbounded recursion with the limit lifted out of reach: CPython keeps its
# frames on the heap, so the memory cap ends it (MLE), never the host.
import sys

sys.setrecursionlimit(10**9)


def down(n):
    return down(n + 1) + 1


down(0)
