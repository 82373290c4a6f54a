# exit() with no code ends the program successfully, output kept.
a, b = map(int, input().split())
print(a + b)
exit()
print("never")
