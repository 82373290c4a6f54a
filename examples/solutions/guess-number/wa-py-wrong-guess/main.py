# Finds the number, then answers one more than it.
n = int(input())
lo, hi = 1, n
while True:
    mid = (lo + hi) // 2
    print("?", mid, flush=True)
    reply = input()
    if reply == "=":
        print("!", mid % n + 1, flush=True)
        break
    if reply == "<":
        hi = mid - 1
    else:
        lo = mid + 1
