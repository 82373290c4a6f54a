import sys
a, b = map(int, sys.stdin.read().split())
print(a + b)
print("debug output goes to stderr and is not compared", file=sys.stderr)
