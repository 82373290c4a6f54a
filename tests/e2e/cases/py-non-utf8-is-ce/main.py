# A Latin-1 byte in a string: the source is not UTF-8, so CE.
print("café")
