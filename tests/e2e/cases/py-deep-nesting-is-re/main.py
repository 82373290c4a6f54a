# Source nested a hundred thousand deep: the parser exhausts the Wasm call
# stack, a trap wasmtime catches (RE "stack overflow"), not the host's stack.
eval("[" * 100000 + "]" * 100000)
