# The same search with sys.stdout.write / sys.stdout.flush and sys.stdin.readline.
import sys

n = int(sys.stdin.readline())
lo, hi = 1, n
while lo < hi:
    mid = (lo + hi) // 2
    sys.stdout.write(f"? {mid}\n")
    sys.stdout.flush()
    reply = sys.stdin.readline().strip()
    if reply == "=":
        lo = hi = mid
    elif reply == "<":
        hi = mid - 1
    else:
        lo = mid + 1
sys.stdout.write(f"! {lo}\n")
