const [a, b] = readline().split(" ").map(Number);
console.error("debug");
print(a + b);
