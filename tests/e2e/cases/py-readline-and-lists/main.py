# Big lists of one shared object (an earlier Wasm Python aborted past 32 767
# references to one object), then sys.stdin.readline.
import sys
zeros = [0] * 200_000
table = [[None] * 100 for _ in range(1000)]
a, b = map(int, sys.stdin.readline().split())
print(a + b + sum(zeros) + sum(len(row) for row in table) - 100_000)
