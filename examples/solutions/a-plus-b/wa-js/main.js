// Wrong: subtracts.
const [a, b] = readline().split(' ').map(Number);
print(a - b);
