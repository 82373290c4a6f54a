# sys.stdin.read() after iterating nothing, and sys.stdout.write.
import sys

for line in sys.stdin:
    sys.stdout.write(f"{sum(map(int, line.split()))}\n")
assert sys.stdin.read() == ""
