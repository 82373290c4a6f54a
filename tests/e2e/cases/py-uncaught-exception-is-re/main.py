# An uncaught exception: the traceback goes to stderr and the RE message
# names the exception and its message, not the traceback's first line.
a, b = map(int, input().split())
print(a + b)
print(a // 0)
