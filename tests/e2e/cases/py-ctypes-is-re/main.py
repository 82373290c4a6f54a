# No native code: ctypes does not exist in the component.
import ctypes

print(ctypes.sizeof(ctypes.c_int))
