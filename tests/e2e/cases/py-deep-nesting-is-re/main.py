# Source nested a hundred thousand deep: CPython's parser gives up with a
# MemoryError (RE), well before any stack runs out.
eval("[" * 100000 + "]" * 100000)
