n = int(input())
xs = list(map(int, input().split()[:n]))
print(sum(xs) / n)
