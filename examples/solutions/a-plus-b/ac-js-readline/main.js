// Codeforces' V8 shell style: readline() and print().
const [a, b] = readline().split(' ').map(Number);
print(a + b);
