import sys
a, b = map(int, input().split())
print("debug", file=sys.stderr)
print(a + b)
