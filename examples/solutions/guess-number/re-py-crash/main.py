# Asks once, then divides by zero.
n = int(input())
print("?", n, flush=True)
reply = input()
print(1 // 0)
