# Unbounded recursion with the limit lifted: RustPython's stack guard ends
# it as a RecursionError (a stack-overflow trap would do too), never the
# host process.
import sys

sys.setrecursionlimit(10**9)


def down(n):
    return down(n + 1) + 1


down(0)
