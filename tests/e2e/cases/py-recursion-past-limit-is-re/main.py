# Recursion past a raised limit (10^6 frames): a RecursionError that says
# the recursion went too deep, not a crash.
import sys

sys.setrecursionlimit(10**6)


def down(n):
    return down(n + 1) + 1


down(0)
