# Assumes N <= 1000: reads only that much.
n = int(input())
xs = input().split()[:1000]
print(sum(map(int, xs)) if n <= 1000 else 0)
