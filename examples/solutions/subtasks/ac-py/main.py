import sys

n, *xs = map(int, sys.stdin.buffer.read().split())
print(sum(xs[:n]))
